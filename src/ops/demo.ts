/**
 * Demo data (`medvox demo`, and what `medvox serve` imports into an empty archive): a synthetic CT study of the
 * asymmetric phantom (core/phantom) with a multi-label DICOM-SEG of its body and two markers. Deterministic UIDs,
 * so importing it twice stores it once.
 */
import { join } from 'node:path';
import { writeDicom, writeDicomParts } from '../core/dicom/writer.ts';
import { parseLabelTable, resolveLabels } from '../core/labels/index.ts';
import { makePhantomSeries } from '../core/phantom/index.ts';
import { referenceGrid } from '../core/seg/reference.ts';
import { buildSegmentation } from '../core/seg/write.ts';
import { assembleVolumes } from '../core/volume/index.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { MEDVOX_VERSION } from '../version.ts';

export interface DemoOptions {
  output: string;
  rows?: number;
  slices?: number;
}

export interface DemoResult {
  files: string[];
  studyInstanceUID: string;
  segmentation: string;
}

/** Phantom value -> label: body 1, marker A (1000) 2, marker B (500) 3. */
const LABEL_OF: Record<number, number> = { 100: 1, 1000: 2, 500: 3 };

export async function writeDemo(options: DemoOptions): Promise<DemoResult> {
  const rows = options.rows ?? 128;
  const slices = options.slices ?? 48;
  const files = makePhantomSeries({
    rows,
    columns: rows,
    slices,
    pixelSpacing: 100 / rows,
    sliceSpacing: 100 / slices,
    seed: `medvox-demo-${rows}x${slices}`,
    patientName: 'Demo^Phantom',
    patientId: 'MEDVOX-DEMO',
    seriesDescription: 'Demo phantom CT',
  });
  for (const file of files) file.dataset.setStrings('StudyDescription', ['medvox demo']);
  const written: string[] = [];
  for (const [k, file] of files.entries()) {
    const path = join(options.output, 'ct', `${String(k + 1).padStart(4, '0')}.dcm`);
    await writeFileAtomic(path, writeDicom(file));
    written.push(path);
  }
  const [volume] = (await assembleVolumes(files)).volumes;
  const labelmap = new Uint8Array(volume!.data.length);
  for (let i = 0; i < labelmap.length; i++) labelmap[i] = LABEL_OF[Number(volume!.data[i])] ?? 0;
  const table = parseLabelTable({
    segments: [
      { labelValue: 1, name: 'Body', color: [200, 170, 140] },
      { labelValue: 2, name: 'Marker A', color: [230, 60, 60] },
      { labelValue: 3, name: 'Marker B', color: [60, 120, 230] },
    ],
  });
  const { segments } = resolveLabels(table, [1, 2, 3]);
  const grid = referenceGrid(files);
  const built = buildSegmentation({
    grid,
    labelmap,
    segments,
    type: 'BINARY',
    series: { ...table, seriesDescription: 'Demo segmentation' },
    softwareVersion: MEDVOX_VERSION,
    seriesInstanceUID: `${grid.seriesInstanceUID}.9`,
    sopInstanceUID: `${grid.seriesInstanceUID}.9.1`,
    now: new Date('2026-01-01T12:00:00Z'),
  });
  const segPath = join(options.output, 'seg', 'segmentation.dcm');
  await writeFileAtomic(segPath, writeDicomParts(built.file));
  written.push(segPath);
  return { files: written, studyInstanceUID: grid.studyInstanceUID ?? '', segmentation: segPath };
}
