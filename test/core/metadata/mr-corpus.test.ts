/**
 * MR normalisation on real files: the sequence classifier against the corpus builder's labels
 * (mr/sequence_classifier_singles/labels.tsv, 35 files from Siemens, GE, Philips, Canon/Toshiba and UIH), and the
 * standard orientation of every MR series in the corpus against the orientation computed independently by
 * pydicom + numpy from ImageOrientationPatient.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { classifyMr } from '../../../src/core/metadata/mr-classify.ts';
import { loadMrConfig, type SequenceClass } from '../../../src/core/metadata/mr-config.ts';
import { mrFeatures } from '../../../src/core/metadata/mr-features.ts';
import { MrSeriesCollector } from '../../../src/core/metadata/mr-series.ts';
import { readDicomFileHeader } from '../../../src/io/dicom-file.ts';
import { corpus, python, requirePeers } from '../../support/env.ts';

/**
 * The labels are finer than the classes: this is the mapping (decided here, before looking at the results).
 * A label ending in -2D / -3D also requires that acquisition dimension.
 */
function expectedFor(label: string): { sequenceClass: SequenceClass | 'non-image'; dimension?: '2D' | '3D' } {
  const base = label.split(' ')[0]!;
  const table: Record<string, SequenceClass | 'non-image'> = {
    'T1w-3D': 'T1',
    'T1w-2D': 'T1',
    'T1w-DCE': 'T1',
    T2w: 'T2',
    PD: 'PD',
    ASL: 'ASL',
    'ASL-M0': 'ASL',
    'ASL-derived': 'ASL',
    DWI: 'DWI',
    'DWI-derived-TRACEW': 'DWI',
    'DWI-phase': 'DWI',
    BOLD: 'BOLD',
    fieldmap: 'field map',
    'fieldmap-magnitude': 'field map',
    'fieldmap-phase': 'field map',
    localizer: 'localizer',
    'GRE-multi-echo': 'T2*',
    'non-image': 'non-image',
  };
  const sequenceClass = table[base];
  if (!sequenceClass) throw new Error(`no mapping for label "${label}": add it to the table`);
  const dimension = /-(2D|3D)$/.exec(base)?.[1] as '2D' | '3D' | undefined;
  return dimension ? { sequenceClass, dimension } : { sequenceClass };
}

test('sequence classes agree with the labels of mr/sequence_classifier_singles on >= 90% of the files', async (t) => {
  if (!requirePeers(t)) return;
  const folder = corpus('mr', 'sequence_classifier_singles');
  const lines = readFileSync(join(folder, 'labels.tsv'), 'utf8').trim().split('\n').slice(1);
  const config = loadMrConfig();
  const confusion = new Map<string, Map<string, number>>();
  const disagreements: string[] = [];
  let agree = 0;
  for (const line of lines) {
    const [file, , , label] = line.split('\t') as [string, string, string, string];
    const expected = expectedFor(label);
    const decisions = classifyMr(mrFeatures((await readDicomFileHeader(join(folder, file))).dataset), config);
    const predicted = decisions.isImage ? decisions.sequenceClass : 'non-image';
    if (expected.sequenceClass === 'non-image') assert.equal(decisions.isImage, false, `${file} is not an image`);
    const dimensionOk = !expected.dimension || decisions.acquisitionDimension === expected.dimension;
    const row = confusion.get(expected.sequenceClass) ?? new Map<string, number>();
    row.set(predicted, (row.get(predicted) ?? 0) + 1);
    confusion.set(expected.sequenceClass, row);
    if (predicted === expected.sequenceClass && dimensionOk) agree++;
    else
      disagreements.push(
        `${file}: label "${label}" -> expected ${expected.sequenceClass}${expected.dimension ? ` ${expected.dimension}` : ''}, got ${predicted} ${decisions.acquisitionDimension ?? ''} (${decisions.sequenceClassReason}; ${decisions.dimensionReason})`,
      );
  }
  const predictedClasses = [...new Set([...confusion.values()].flatMap((row) => [...row.keys()]))].sort();
  const width = 11;
  const table = [
    `${'label \\ got'.padEnd(width)}${predictedClasses.map((c) => c.padStart(width)).join('')}`,
    ...[...confusion.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([label, row]) =>
          `${label.padEnd(width)}${predictedClasses.map((c) => String(row.get(c) ?? '.').padStart(width)).join('')}`,
      ),
  ];
  const rate = agree / lines.length;
  t.diagnostic(
    `agreement ${agree}/${lines.length} = ${(rate * 100).toFixed(1)}% (class, and 2D / 3D where the label says)`,
  );
  for (const line of table) t.diagnostic(line);
  for (const line of disagreements) t.diagnostic(`disagreement: ${line}`);
  assert.equal(lines.length, 35);
  assert.ok(rate >= 0.9, `agreement ${(rate * 100).toFixed(1)}% < 90%`);
});

const PYTHON_ORIENTATIONS = `
import json, os, sys
import numpy as np
import pydicom
root, tolerance = sys.argv[1], float(sys.argv[2])
series = {}
for folder, _, names in os.walk(root):
    for name in sorted(names):
        path = os.path.join(folder, name)
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if str(ds.get('Modality', '')).upper() != 'MR' or 'Rows' not in ds:
            continue
        iop = ds.get('ImageOrientationPatient')
        if iop is None:
            for groups in ('SharedFunctionalGroupsSequence', 'PerFrameFunctionalGroupsSequence'):
                if groups in ds and len(ds[groups].value) and 'PlaneOrientationSequence' in ds[groups][0]:
                    iop = ds[groups][0].PlaneOrientationSequence[0].ImageOrientationPatient
                    break
        uid = str(ds.get('SeriesInstanceUID', ''))
        entry = series.setdefault(uid, {'files': [], 'planes': set()})
        entry['files'].append(path)
        if iop is None or len(iop) < 6:
            continue
        normal = np.cross(np.array(iop[:3], float), np.array(iop[3:6], float))
        axis = int(np.argmax(np.abs(normal)))
        angle = np.degrees(np.arccos(min(1.0, abs(normal[axis]) / np.linalg.norm(normal))))
        if abs(angle - tolerance) < 0.5:
            entry['planes'].add('BORDERLINE')
        entry['planes'].add(['SAG', 'COR', 'AX'][axis] if angle <= tolerance else 'OBL')
print(json.dumps({uid: {'files': e['files'], 'planes': sorted(e['planes'])} for uid, e in series.items()}))
`;

test('standard orientation agrees with ImageOrientationPatient on every MR series of the corpus', async (t) => {
  if (!requirePeers(t)) return;
  const config = loadMrConfig();
  const tolerance = config.orientation.toleranceDegrees;
  const expected = JSON.parse(python(PYTHON_ORIENTATIONS, [corpus(), String(tolerance)])) as Record<
    string,
    { files: string[]; planes: string[] }
  >;
  let checked = 0;
  for (const [uid, { files, planes }] of Object.entries(expected)) {
    if (planes.includes('BORDERLINE')) continue;
    const collector = new MrSeriesCollector(config);
    for (const file of files) collector.add((await readDicomFileHeader(file)).dataset);
    const rows = collector.rows();
    const want = planes.length === 0 ? null : planes.length === 1 ? planes[0] : 'MIXED';
    for (const row of rows)
      assert.equal(row.standardOrientation, want, `series ${uid} (${files[0]}): ${row.orientationReason}`);
    checked++;
  }
  t.diagnostic(`${checked} MR series checked`);
  assert.ok(checked >= 40, `only ${checked} MR series found in the corpus`);
});
