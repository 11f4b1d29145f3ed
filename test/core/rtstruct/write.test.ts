/** Long contours (Contour Data over the 64 KiB an explicit-VR DS length holds) are written in implicit VR and read back. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TransferSyntax } from '../../../src/core/dicom/model.ts';
import { readDicom } from '../../../src/core/dicom/reader.ts';
import { needsImplicitVR, writeDicom } from '../../../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../../../src/core/phantom/index.ts';
import { readStructureSet } from '../../../src/core/rtstruct/structure-set.ts';
import { buildStructureSet, formatCoordinate } from '../../../src/core/rtstruct/write.ts';
import { hasCommand } from '../../support/env.ts';

const outDir = mkdtempSync(join(tmpdir(), 'medvox-rtwrite-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

test('a 4000-point contour: implicit VR little endian, read back value for value (dciodvfy clean when present)', () => {
  const [image] = makePhantomSeries({ rows: 8, columns: 8, slices: 1 });
  const points: number[] = [];
  for (let p = 0; p < 4000; p++) {
    const angle = (2 * Math.PI * p) / 4000;
    points.push(-123.45678 + 50 * Math.cos(angle), 67.891 + 50 * Math.sin(angle), -2.5);
  }
  const reference = {
    sopClassUID: image!.dataset.string('SOPClassUID')!,
    sopInstanceUID: image!.dataset.string('SOPInstanceUID')!,
  };
  const file = buildStructureSet({
    image: image!,
    studyInstanceUID: image!.dataset.string('StudyInstanceUID')!,
    seriesInstanceUID: image!.dataset.string('SeriesInstanceUID')!,
    frameOfReferenceUID: image!.dataset.string('FrameOfReferenceUID')!,
    images: [reference],
    rois: [{ number: 3, name: 'ring', color: [1, 2, 3], contours: [{ image: reference, points }] }],
    sopInstanceUID: '2.25.1',
    rtSeriesInstanceUID: '2.25.2',
    date: '20260101',
    time: '120000',
  });
  assert.equal(needsImplicitVR(file.dataset), true);
  const bytes = writeDicom(file, { transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian });
  const read = readDicom(bytes);
  assert.equal(read.transferSyntaxUID, TransferSyntax.ImplicitVRLittleEndian);
  const set = readStructureSet(read);
  assert.equal(set.rois[0]!.name, 'ring');
  assert.deepEqual(set.rois[0]!.color, [1, 2, 3]);
  assert.deepEqual(
    Array.from(set.rois[0]!.contours[0]!.points),
    points.map((v) => Number(formatCoordinate(v))),
  );
  if (hasCommand('dciodvfy')) {
    const path = join(outDir, 'long.dcm');
    writeFileSync(path, bytes);
    const result = spawnSync('dciodvfy', [path], { encoding: 'utf8' });
    assert.deepEqual(
      `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.startsWith('Error')),
      [],
    );
  }
});
