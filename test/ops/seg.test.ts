/**
 * `medvox seg create` / `seg to-nifti` on the corpus CT with its TotalSegmentator mask: dciodvfy finds no error,
 * pydicom reads the SEG, to-nifti gives back the identical labelmap with names and colours; a NIfTI + sidecar
 * source gives the same references; every bad input is a typed error with its exit code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readDicom } from '../../src/core/dicom/reader.ts';
import { isMedvoxError } from '../../src/core/errors.ts';
import { parseLabelTableText } from '../../src/core/labels/index.ts';
import { emptyHeader, setAffine } from '../../src/core/nifti/index.ts';
import { readLabelmapFile } from '../../src/io/mask-file.ts';
import { writeNiftiFile } from '../../src/io/nifti-file.ts';
import { dicomToNifti } from '../../src/ops/dicom-to-nifti.ts';
import { maskToSeg } from '../../src/ops/mask-to-seg.ts';
import { segToNifti } from '../../src/ops/seg-to-nifti.ts';
import { corpus, debianPython, projectRoot, python, requirePeers } from '../support/env.ts';

const out = mkdtempSync(join(tmpdir(), 'medvox-seg-'));
after(() => rmSync(out, { recursive: true, force: true }));

const CT = 'ct/siemens_biograph_j2k_20sl/dicom';
const MASK = 'ct/siemens_biograph_j2k_20sl/mask/example_seg_dicom.nii.gz';
const LABELS = [
  1, 5, 6, 7, 8, 20, 32, 33, 52, 63, 64, 69, 70, 79, 86, 87, 97, 98, 99, 100, 101, 102, 103, 109, 110, 111, 112, 113,
  114, 115, 117,
];

function medvox(...args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(projectRoot, 'bin/medvox.js'), ...args], { encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A label table for the 31 labels: names, colours, some codes, the algorithm. */
function writeLabels(path: string): void {
  const segments = LABELS.map((value, index) => ({
    labelValue: value,
    name: value === 5 ? 'liver' : value === 1 ? 'spleen' : `structure ${value}`,
    color: [(value * 37) % 256, (index * 71) % 256, 255 - ((value * 13) % 256)],
    algorithmType: 'AUTOMATIC',
    algorithmName: 'TotalSegmentator',
  }));
  writeFileSync(path, JSON.stringify({ MedvoxLabelTable: 1, seriesDescription: 'TotalSegmentator', segments }));
}

function dciodvfyErrors(path: string): string[] {
  const result = spawnSync('dciodvfy', [path], { encoding: 'utf8' });
  return `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /^Error/.test(line));
}

test('seg create (BINARY) on the J2K CT + TotalSegmentator mask: dciodvfy clean, pydicom reads it, to-nifti gives the identical labelmap, names and colours', async (t) => {
  if (!requirePeers(t, debianPython, 'dciodvfy')) return;
  const labels = join(out, 'labels.json');
  writeLabels(labels);
  const seg = join(out, 'binary.dcm');
  const created = medvox(
    'seg',
    'create',
    '--image',
    corpus(CT),
    '--mask',
    corpus(MASK),
    '--labels',
    labels,
    '--output',
    seg,
  );
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stdout, /BINARY, 31 segments, 520 frames/);
  // The source's Study / Series UIDs are blank (anonymised): made up and said so (MANIFEST).
  assert.match(created.stderr, /StudyInstanceUID is empty in the source/);
  assert.deepEqual(dciodvfyErrors(seg), []);

  const info = JSON.parse(
    python(
      `import pydicom, sys, json
d = pydicom.dcmread(sys.argv[1])
a = d.pixel_array
f = d.PerFrameFunctionalGroupsSequence[0]
print(json.dumps({"shape": list(a.shape), "type": d.SegmentationType, "labels": [s.SegmentLabel for s in d.SegmentSequence],
  "numbers": [int(s.SegmentNumber) for s in d.SegmentSequence], "lab": list(d.SegmentSequence[1].RecommendedDisplayCIELabValue),
  "source": f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID,
  "refs": len(d.ReferencedSeriesSequence[0].ReferencedInstanceSequence), "sum": int(a.sum())}))`,
      [seg],
    ),
  ) as {
    shape: number[];
    type: string;
    labels: string[];
    numbers: number[];
    source: string;
    refs: number;
    sum: number;
  };
  assert.deepEqual(info.shape, [520, 512, 512]);
  assert.equal(info.type, 'BINARY');
  assert.equal(info.labels[1], 'liver');
  assert.deepEqual(
    info.numbers,
    Array.from({ length: 31 }, (_, i) => i + 1),
  );
  assert.equal(info.refs, 20, 'every slice of the source is referenced');
  // Source SOP Instance UIDs come from the file meta (the dataset's are blank).
  assert.match(info.source, /^1\.3\.12\.2\.1107\.5\.1\.4\.60064\./);
  const mask = await readLabelmapFile(corpus(MASK));
  let labelled = 0;
  for (const value of mask.labels) if (value) labelled++;
  assert.equal(info.sum, labelled);

  const back = medvox('seg', 'to-nifti', seg, '--reference', corpus(CT), '--output', join(out, 'binary-back'));
  assert.equal(back.status, 0, back.stderr);
  const compared = JSON.parse(
    python(
      `import nibabel as nib, numpy as np, sys, json
a = nib.load(sys.argv[1]); b = nib.load(sys.argv[2])
print(json.dumps({"same": bool(np.array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj))), "affine": float(np.abs(a.affine - b.affine).max())}))`,
      [corpus(MASK), join(out, 'binary-back', 'binary.nii.gz')],
    ),
  ) as { same: boolean; affine: number };
  assert.ok(compared.same, 'identical labelmap');
  assert.ok(compared.affine < 1e-4, `affine differs by ${compared.affine}`);
  const table = parseLabelTableText(readFileSync(join(out, 'binary-back', 'binary.labels.json'), 'utf8'));
  const original = parseLabelTableText(readFileSync(labels, 'utf8'));
  assert.deepEqual(
    table.segments.map((s) => [s.labelValue, s.name, s.colour, s.algorithmName]),
    original.segments.map((s) => [s.labelValue, s.name, s.colour, s.algorithmName]),
  );
  assert.equal(table.segments[1]?.type.CodeMeaning, 'Liver');
});

test('seg create --type labelmap: LABELMAP SEG (Supplement 243) that pydicom reads and that comes back identical', async (t) => {
  if (!requirePeers(t, debianPython)) return;
  const seg = join(out, 'labelmap.dcm');
  const result = await maskToSeg({ image: corpus(CT), mask: corpus(MASK), type: 'LABELMAP', output: seg });
  assert.equal(result.frames, 20);
  const file = readDicom(readFileSync(seg));
  assert.equal(file.dataset.string('SOPClassUID'), '1.2.840.10008.5.1.4.1.1.66.7');
  assert.equal(file.dataset.string('SegmentationType'), 'LABELMAP');
  assert.deepEqual(
    file.dataset.items('SegmentSequence').map((item) => item.number('SegmentNumber')),
    LABELS,
  );
  const shape = python('import pydicom, sys; print(list(pydicom.dcmread(sys.argv[1]).pixel_array.shape))', [seg]);
  assert.equal(shape.trim(), '[20, 512, 512]');
  const back = await segToNifti({ input: seg, reference: corpus(CT), outputDir: join(out, 'labelmap-back') });
  const original = await readLabelmapFile(corpus(MASK));
  const roundTrip = await readLabelmapFile(back.labelmap!);
  assert.ok(Buffer.from(original.labels).equals(Buffer.from(roundTrip.labels)));
});

test('a NIfTI + medvox sidecar source gives the grid and the references of the DICOM series', async (t) => {
  if (!requirePeers(t)) return;
  const converted = await dicomToNifti({ inputs: [corpus(CT)], outputDir: join(out, 'ct-nifti') });
  const nifti = converted.outputs[0]!.nifti;
  const fromNifti = await maskToSeg({ image: nifti, mask: corpus(MASK), output: join(out, 'from-nifti.dcm') });
  const fromDicom = await maskToSeg({ image: corpus(CT), mask: corpus(MASK), output: join(out, 'from-dicom.dcm') });
  const refs = (path: string) =>
    readDicom(readFileSync(path))
      .dataset.items('PerFrameFunctionalGroupsSequence')
      .map((frame) => {
        const source = frame.items('DerivationImageSequence')[0]!.items('SourceImageSequence')[0]!;
        return `${source.string('ReferencedSOPInstanceUID')} ${frame.items('PlanePositionSequence')[0]!.strings('ImagePositionPatient').join('\\')}`;
      });
  assert.equal(fromNifti.frames, fromDicom.frames);
  assert.deepEqual(refs(join(out, 'from-nifti.dcm')), refs(join(out, 'from-dicom.dcm')));
  // A NIfTI without the sidecar cannot be a reference.
  await assert.rejects(
    maskToSeg({ image: corpus(MASK), mask: corpus(MASK), output: join(out, 'x.dcm') }),
    (error: unknown) => isMedvoxError(error) && error.code === 'USAGE' && /sidecar/.test(error.message),
  );
});

/** A copy of the corpus mask with its voxels / affine changed. */
async function variantMask(name: string, edit: (labels: Uint8Array, affine: number[]) => void): Promise<string> {
  const mask = await readLabelmapFile(corpus(MASK));
  const labels = Uint8Array.from(mask.labels);
  const affine = [...mask.affineRAS];
  edit(labels, affine);
  const header = setAffine({ ...emptyHeader(1), dim: [3, ...mask.dims, 1, 1, 1, 1], datatype: 2 }, affine);
  const path = join(out, name);
  await writeNiftiFile(path, { header, data: labels });
  return path;
}

test('bad inputs to seg create: typed errors with exit codes, nothing written', async (t) => {
  if (!requirePeers(t)) return;
  const labels = join(out, 'few-labels.json');
  writeFileSync(labels, JSON.stringify({ '1': 'spleen', '5': 'liver' }));
  const shifted = await variantMask('shifted.nii.gz', (_, affine) => {
    affine[3] = affine[3]! + 1;
  });
  const flipped = await variantMask('flipped-rows.nii.gz', (values, affine) => {
    // The same voxel centres, rows stored the other way round (as a tool writing LPS-ish arrays might).
    const [nx, ny, nz] = [512, 512, 20];
    const copy = values.slice();
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        values.set(copy.subarray((k * ny + j) * nx, (k * ny + j + 1) * nx), (k * ny + (ny - 1 - j)) * nx);
    for (let r = 0; r < 3; r++) {
      affine[r * 4 + 3] = affine[r * 4 + 3]! + (ny - 1) * affine[r * 4 + 1]!;
      affine[r * 4 + 1] = -affine[r * 4 + 1]!;
    }
  });
  const empty = await variantMask('empty.nii.gz', (values) => values.fill(0));
  // The mask's gzip damaged: its CRC (the trailer's first 4 bytes) changed, or the stream cut in the middle.
  const maskBytes = readFileSync(corpus(MASK));
  const badCrc = join(out, 'bad-crc.nii.gz');
  const crcChanged = Buffer.from(maskBytes);
  crcChanged[crcChanged.length - 8]! ^= 0xff;
  writeFileSync(badCrc, crcChanged);
  const cut = join(out, 'cut.nii.gz');
  writeFileSync(cut, maskBytes.subarray(0, maskBytes.length >> 1));
  const invalid = join(out, 'invalid.json');
  writeFileSync(invalid, '{"segments": [{"labelValue": 1, "color": [0, 0, 999]}]}');
  const cases: Array<[string, string[], string, number, RegExp]> = [
    [
      'mask of another grid',
      ['--mask', corpus('nifti/totalseg_ct_small_multilabel/example_seg.nii.gz')],
      'GRID_MISMATCH',
      5,
      /122x101x30, the image 512x512x20/,
    ],
    ['mask shifted by 1 mm', ['--mask', shifted], 'GRID_MISMATCH', 5, /up to 1\.000 mm/],
    [
      'labels missing from the table',
      ['--mask', corpus(MASK), '--labels', labels],
      'LABEL_NOT_IN_TABLE',
      5,
      /6, 7, 8, 20/,
    ],
    [
      'invalid labels JSON',
      ['--mask', corpus(MASK), '--labels', invalid],
      'LABELS_INVALID',
      3,
      /\$\.segments\[0\]\.color\[2\]/,
    ],
    ['empty mask', ['--mask', empty], 'EMPTY_MASK', 5, /no labelled voxel/],
    ['mask with a damaged gzip checksum', ['--mask', badCrc], 'NIFTI_BAD_COMPRESSION', 3, /bad-crc\.nii\.gz.*damaged/],
    ['mask cut short', ['--mask', cut], 'NIFTI_TRUNCATED', 3, /cut\.nii\.gz.*ends early/],
    ['wrong type', ['--mask', corpus(MASK), '--type', 'fractional'], 'USAGE', 2, /binary or labelmap/],
  ];
  for (const [name, args, code, exit, message] of cases) {
    const output = join(out, `bad-${code}.dcm`);
    const result = medvox('seg', 'create', '--image', corpus(CT), ...args, '--output', output);
    assert.equal(result.status, exit, `${name}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^${code}: `), name);
    assert.match(result.stderr, message, name);
    assert.equal(spawnSync('test', ['-e', output]).status, 1, `${name}: nothing written`);
  }
  // --auto-label: the missing labels get defaults, with a warning.
  const auto = medvox(
    'seg',
    'create',
    '--image',
    corpus(CT),
    '--mask',
    corpus(MASK),
    '--labels',
    labels,
    '--auto-label',
    '--output',
    join(out, 'auto.dcm'),
  );
  assert.equal(auto.status, 0, auto.stderr);
  assert.match(auto.stderr, /warning: labels not in the label table got default entries: 6, 7, 8/);
  // The same grid stored with rows the other way round is reordered onto the image grid (with a warning).
  const reordered = await maskToSeg({ image: corpus(CT), mask: flipped, output: join(out, 'reordered.dcm') });
  assert.ok(reordered.warnings.some((w) => /reordered onto the image grid/.test(w)));
  const direct = await maskToSeg({ image: corpus(CT), mask: corpus(MASK), output: join(out, 'direct.dcm') });
  const pixels = (path: string) => readDicom(readFileSync(path)).dataset.get(0x7fe00010)!.bytes!;
  assert.ok(Buffer.from(pixels(join(out, 'reordered.dcm'))).equals(Buffer.from(pixels(join(out, 'direct.dcm')))));
  assert.equal(direct.frames, 520);
});

test('bad inputs to seg to-nifti: a SEG referencing images not given, another grid, overlapping segments', async (t) => {
  if (!requirePeers(t)) return;
  const tiny = 'seg/dcmqi_tiny_synthetic/23x38x3/seg/label.seg';
  const cases: Array<[string, string, string, string, number, RegExp]> = [
    // Same frame of reference, but the legacy-converted multi-frame copy has other SOP Instance UIDs.
    [
      'images not given',
      tiny,
      'seg/dcmqi_tiny_synthetic/23x38x3/multiframe',
      'REFERENCE_MISSING',
      5,
      /source images of the SEG frames are not in the reference/,
    ],
    [
      'another frame of reference',
      'seg/dcmqi_liver_ct3/seg/liver.dcm',
      'seg/highdicom_ct_seg_variants/source_ct',
      'REFERENCE_MISSING',
      5,
      /frame of reference/,
    ],
    [
      'another image size',
      tiny,
      'seg/dcmqi_tiny_synthetic/24x38x3/image',
      'REFERENCE_MISSING',
      5,
      /frame of reference|source images/,
    ],
    [
      'overlapping segments',
      'seg/dcmqi_liver_ct3/seg/partial_overlaps.dcm',
      'seg/dcmqi_liver_ct3/source_ct',
      'SEGMENT_OVERLAP',
      5,
      /segments overlap.*--split/,
    ],
    [
      'not a SEG',
      'seg/dcmqi_liver_ct3/source_ct/01.dcm',
      'seg/dcmqi_liver_ct3/source_ct',
      'UNSUPPORTED_SOP_CLASS',
      4,
      /not a DICOM Segmentation/,
    ],
  ];
  for (const [name, seg, reference, code, exit, message] of cases) {
    const result = medvox(
      'seg',
      'to-nifti',
      corpus(seg),
      '--reference',
      corpus(reference),
      '--output',
      join(out, `bad-${name.replace(/\W/g, '_')}`),
    );
    assert.equal(result.status, exit, `${name}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^${code}: `), `${name}: ${result.stderr}`);
    assert.match(result.stderr, message, name);
  }
  const split = medvox(
    'seg',
    'to-nifti',
    corpus('seg/dcmqi_liver_ct3/seg/partial_overlaps.dcm'),
    '--reference',
    corpus('seg/dcmqi_liver_ct3/source_ct'),
    '--output',
    join(out, 'split'),
    '--split',
  );
  assert.equal(split.status, 0, split.stderr);
  assert.equal(split.stdout.split('\n').filter((line) => /partial_overlaps_\d_.*\.nii\.gz/.test(line)).length, 5);
});
