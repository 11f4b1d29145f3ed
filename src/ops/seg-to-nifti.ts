/**
 * DICOM-SEG -> NIfTI (`medvox seg to-nifti`): a labelmap on the reference grid (or one mask per segment with
 * split) plus the label table JSON. The grid is the reference series when given, so a SEG whose empty frames were
 * left out comes back with the full extent; without a reference it is built from the SEG's own frame positions.
 */
import { basename, join } from 'node:path';
import { MedvoxError } from '../core/errors.ts';
import { lpsToRas } from '../core/geometry/affine.ts';
import type { LabelEntry, LabelTable } from '../core/labels/index.ts';
import { DataType, emptyHeader, type NiftiImage, setAffine } from '../core/nifti/index.ts';
import { checkReference, gridFromSegmentation, parseSegmentation, segmentationMasks } from '../core/seg/read.ts';
import type { ReferenceGrid } from '../core/seg/reference.ts';
import { ensureDirectory } from '../io/atomic.ts';
import { readDicomFile } from '../io/dicom-file.ts';
import { writeLabelTableFile } from '../io/label-table-file.ts';
import { writeNiftiFile } from '../io/nifti-file.ts';
import { loadReferenceGrid } from '../io/reference-series.ts';

export interface SegToNiftiOptions {
  /** The SEG file. */
  input: string;
  /** Source image series (DICOM folder / files, or NIfTI + medvox sidecar). Optional: see the module comment. */
  reference?: string | string[];
  outputDir: string;
  /** One mask per segment (`<name>_<segment number>_<label>.nii.gz`) instead of one labelmap. */
  split?: boolean;
  /** FRACTIONAL SEGs: a pixel belongs to a segment when value / maximum >= threshold (default 0.5). */
  threshold?: number;
  /** gzip the NIfTI (default true). */
  gzip?: boolean;
  /** Output base name (default: the SEG file name without extension). */
  name?: string;
  onProgress?: (progress: { phase: 'read' | 'decode' | 'write'; done: number; total: number }) => void;
}

export interface SegToNiftiResult {
  /** The labelmap (absent with split). */
  labelmap: string | undefined;
  /** Per-segment masks (split only). */
  masks: Array<{ path: string; segmentNumber: number; name: string; voxels: number }>;
  labels: string;
  segmentationType: 'BINARY' | 'FRACTIONAL' | 'LABELMAP';
  segments: LabelEntry[];
  grid: ReferenceGrid;
  /** Labelled voxels per label value. */
  voxels: Map<number, number>;
  warnings: string[];
}

/** The NIfTI of a labelmap or mask on a reference grid (RAS sform / qform, intent NIFTI_INTENT_LABEL). */
export function gridNifti(grid: ReferenceGrid, data: Uint8Array | Uint16Array, description: string): NiftiImage {
  const base = emptyHeader(1);
  const header = setAffine(
    {
      ...base,
      dim: [3, grid.dims[0], grid.dims[1], grid.dims[2], 1, 1, 1, 1],
      datatype: data instanceof Uint16Array ? DataType.UINT16 : DataType.UINT8,
      intentCode: 1002, // NIFTI_INTENT_LABEL
      descrip: description.slice(0, 79),
      xyztUnits: 2, // mm
    },
    lpsToRas(grid.affineLPS),
  );
  return { header, data };
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'segment';
}

export async function segToNifti(options: SegToNiftiOptions): Promise<SegToNiftiResult> {
  const report = options.onProgress ?? (() => {});
  report({ phase: 'read', done: 0, total: 1 });
  const file = await readDicomFile(options.input);
  const seg = parseSegmentation(file);
  const warnings: string[] = [];
  let grid: ReferenceGrid;
  if (options.reference && (!Array.isArray(options.reference) || options.reference.length > 0)) {
    const reference = await loadReferenceGrid(options.reference, {
      seriesInstanceUID: [...seg.referencedSeries.keys()][0],
    });
    warnings.push(...reference.warnings);
    grid = reference.grid;
    warnings.push(...checkReference(seg, grid, options.input));
  } else {
    grid = gridFromSegmentation(seg);
    warnings.push('no --reference: the grid spans the SEG frames only (slices beyond them are unknown)');
  }
  report({ phase: 'read', done: 1, total: 1 });
  const threshold = options.threshold ?? 0.5;
  if (!(threshold > 0 && threshold <= 1))
    throw new MedvoxError('USAGE', `--threshold must be in (0, 1], not ${threshold}`);
  const masks = await segmentationMasks(seg, grid, {
    threshold,
    split: options.split,
    onProgress: (done, total) => report({ phase: 'decode', done, total }),
  });
  warnings.push(...masks.warnings);
  const segments = seg.segments.filter((s) => !(seg.type === 'LABELMAP' && s.segmentNumber === 0)).map((s) => s.entry);
  if ([...masks.voxels.values()].every((count) => count === 0)) warnings.push('the SEG has no labelled pixel');
  const name = options.name ?? basename(options.input).replace(/\.(dcm|seg)$/i, '');
  const extension = options.gzip === false ? '.nii' : '.nii.gz';
  await ensureDirectory(options.outputDir);
  const table: LabelTable = { segments };
  const seriesDescription = file.dataset.string('SeriesDescription');
  if (seriesDescription) table.seriesDescription = seriesDescription.slice(0, 64);
  const result: SegToNiftiResult = {
    labelmap: undefined,
    masks: [],
    labels: join(options.outputDir, `${name}.labels.json`),
    segmentationType: seg.type,
    segments,
    grid,
    voxels: new Map(),
    warnings,
  };
  for (const s of seg.segments) {
    const count = masks.voxels.get(s.segmentNumber);
    if (count !== undefined)
      result.voxels.set(s.entry.labelValue, (result.voxels.get(s.entry.labelValue) ?? 0) + count);
  }
  if (masks.labelmap) {
    result.labelmap = join(options.outputDir, `${name}${extension}`);
    await writeNiftiFile(result.labelmap, gridNifti(grid, masks.labelmap, 'medvox SEG labelmap'));
  } else {
    for (const [index, mask] of masks.masks.entries()) {
      const path = join(options.outputDir, `${name}_${mask.segmentNumber}_${safeName(mask.entry.name)}${extension}`);
      await writeNiftiFile(path, gridNifti(grid, mask.mask, `medvox SEG segment ${mask.segmentNumber}`));
      result.masks.push({ path, segmentNumber: mask.segmentNumber, name: mask.entry.name, voxels: mask.voxels });
      report({ phase: 'write', done: index + 1, total: masks.masks.length });
    }
  }
  await writeLabelTableFile(result.labels, table);
  return result;
}
