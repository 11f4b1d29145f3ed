/** Label tables: the accepted JSON formats, defaults from names, colours, and errors that name the JSON path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMedvoxError } from '../../../src/core/errors.ts';
import {
  defaultCodesFor,
  dicomLabToRgb,
  labelTableToJson,
  parseLabelTable,
  parseLabelTableText,
  resolveLabels,
  rgbToDicomLab,
} from '../../../src/core/labels/index.ts';

const code = (CodeValue: string, CodeMeaning: string) => ({ CodeValue, CodingSchemeDesignator: 'SCT', CodeMeaning });

test('colours: RGB -> DICOM CIELab equals what dcmqi writes (corpus dcmqi SEGs), and comes back exactly', () => {
  // dcmqi_liver_ct3/seg/liver.dcm: Slicer's liver colour [221, 130, 101] is stored as 41661\41167\40792.
  assert.deepEqual(rgbToDicomLab([221, 130, 101]), [41661, 41167, 40792]);
  // partial_overlaps.dcm, first segment: Slicer's tissue colour [128, 174, 128].
  assert.deepEqual(rgbToDicomLab([128, 174, 128]), [43803, 26565, 37722]);
  for (let r = 0; r < 256; r += 15)
    for (let g = 0; g < 256; g += 17)
      for (let b = 0; b < 256; b += 13) assert.deepEqual(dicomLabToRgb(rgbToDicomLab([r, g, b])), [r, g, b]);
});

test('default codes: built-in structures, laterality from the name, Tissue fallback', () => {
  assert.deepEqual(defaultCodesFor('Liver').type, code('10200004', 'Liver'));
  assert.equal(defaultCodesFor('Liver').category.CodeMeaning, 'Anatomical Structure');
  const kidney = defaultCodesFor('kidney_right');
  assert.equal(kidney.type.CodeMeaning, 'Kidney');
  assert.deepEqual(kidney.typeModifier, code('24028007', 'Right'));
  assert.equal(defaultCodesFor('rib_left_3').type.CodeMeaning, 'Rib');
  assert.equal(defaultCodesFor('rib_left_3').typeModifier?.CodeMeaning, 'Left');
  assert.equal(defaultCodesFor('inferior_vena_cava').type.CodeValue, '64131007');
  assert.equal(defaultCodesFor('Tumour').category.CodeMeaning, 'Morphologically Abnormal Structure');
  const unknown = defaultCodesFor('gluteus_maximus_left');
  assert.equal(unknown.matched, false);
  assert.deepEqual(unknown.category, code('85756007', 'Tissue'));
  assert.deepEqual(unknown.type, code('85756007', 'Tissue'));
});

test('medvox format: defaults filled in, JSON round trip is stable', () => {
  const table = parseLabelTable({
    MedvoxLabelTable: 1,
    seriesDescription: 'Organs',
    segments: [
      { labelValue: 5, name: 'liver', color: [221, 130, 101] },
      { labelValue: 2, name: 'kidney_right', algorithmType: 'automatic', algorithmName: 'TotalSegmentator' },
      {
        labelValue: 9,
        name: 'thing',
        category: code('260787004', 'Physical object'),
        type: code('14106009', 'Cardiac pacemaker'),
      },
    ],
  });
  assert.equal(table.seriesDescription, 'Organs');
  assert.deepEqual(
    table.segments.map((s) => s.labelValue),
    [2, 5, 9],
  );
  const [kidney, liver, thing] = table.segments as [
    (typeof table.segments)[0],
    (typeof table.segments)[0],
    (typeof table.segments)[0],
  ];
  assert.equal(kidney.algorithmType, 'AUTOMATIC');
  assert.equal(kidney.typeModifier?.CodeMeaning, 'Right');
  assert.equal(liver.algorithmType, 'MANUAL');
  assert.deepEqual(liver.colour, [221, 130, 101]);
  assert.equal(thing.type.CodeMeaning, 'Cardiac pacemaker');
  assert.equal(thing.typeModifier, undefined);
  const json = labelTableToJson(table);
  assert.deepEqual((json.segments as Array<{ cielab: number[] }>)[1]!.cielab, [41661, 41167, 40792]);
  assert.deepEqual(parseLabelTable(JSON.parse(JSON.stringify(json))), table);
});

test('dcmqi segmentation JSON is accepted (segmentAttributes, codes, RGB, algorithm)', () => {
  const table = parseLabelTable({
    ContentCreatorName: 'Doe^John',
    SeriesDescription: 'Segmentation',
    SeriesNumber: '300',
    InstanceNumber: '1',
    segmentAttributes: [
      [
        {
          labelID: 1,
          SegmentDescription: 'Liver Segmentation',
          SegmentLabel: 'Liver',
          SegmentAlgorithmType: 'SEMIAUTOMATIC',
          SegmentAlgorithmName: 'SlicerEditor',
          SegmentedPropertyCategoryCodeSequence: code('91723000', 'Anatomical Structure'),
          SegmentedPropertyTypeCodeSequence: code('10200004', 'Liver'),
          recommendedDisplayRGBValue: [221, 130, 101],
        },
      ],
      [
        {
          labelID: 3,
          SegmentDescription: 'Heart',
          SegmentAlgorithmType: 'MANUAL',
          SegmentedPropertyCategoryCodeSequence: code('91723000', 'Anatomical Structure'),
          SegmentedPropertyTypeCodeSequence: code('80891009', 'Heart'),
          AnatomicRegionSequence: code('51185008', 'Thorax'),
        },
      ],
    ],
  });
  assert.equal(table.seriesNumber, 300);
  assert.equal(table.contentCreatorName, 'Doe^John');
  const [liver, heart] = table.segments;
  assert.equal(liver?.name, 'Liver');
  assert.equal(liver?.description, 'Liver Segmentation');
  assert.equal(liver?.algorithmType, 'SEMIAUTOMATIC');
  assert.equal(liver?.algorithmName, 'SlicerEditor');
  assert.equal(heart?.labelValue, 3);
  assert.equal(heart?.name, 'Heart');
  assert.equal(heart?.anatomicRegion?.CodeMeaning, 'Thorax');
});

test('a plain map of label values to names is accepted (background 0 ignored)', () => {
  const table = parseLabelTable({ '0': 'background', '1': 'spleen', '3': { name: 'kidney_left', color: [1, 2, 3] } });
  assert.deepEqual(
    table.segments.map((s) => [s.labelValue, s.name, s.type.CodeMeaning]),
    [
      [1, 'spleen', 'Spleen'],
      [3, 'kidney_left', 'Kidney'],
    ],
  );
});

const invalid: Array<[string, string, RegExp]> = [
  ['not JSON', '{"segments": [', /^\$: not JSON/],
  ['not an object', '[1, 2]', /^\$: expected an object/],
  ['segments not an array', '{"segments": {}}', /^\$\.segments: expected an array/],
  ['no segments', '{"segments": []}', /describes no segment/],
  [
    'label value missing',
    '{"segments": [{"name": "a"}]}',
    /^\$\.segments\[0\]\.labelValue: expected an integer 1\.\.65535, got nothing/,
  ],
  ['label value 0', '{"segments": [{"labelValue": 0}]}', /^\$\.segments\[0\]\.labelValue/],
  [
    'colour component',
    '{"segments": [{"labelValue": 1}, {"labelValue": 2, "color": [1, 2, 300]}]}',
    /^\$\.segments\[1\]\.color\[2\]: expected an integer 0\.\.255, got 300/,
  ],
  [
    'colour length',
    '{"segments": [{"labelValue": 1, "color": [1, 2]}]}',
    /^\$\.segments\[0\]\.color: expected \[R, G, B\]/,
  ],
  [
    'duplicate label',
    '{"segments": [{"labelValue": 1}, {"labelValue": 1}]}',
    /^\$\.segments\[1\]: label value 1 is already described at \$\.segments\[0\]/,
  ],
  ['unknown field', '{"segments": [{"labelValue": 1, "colr": [1, 2, 3]}]}', /^\$\.segments\[0\]\.colr: unknown field/],
  [
    'bad algorithm type',
    '{"segments": [{"labelValue": 1, "algorithmType": "GUESSED"}]}',
    /^\$\.segments\[0\]\.algorithmType: expected one of MANUAL/,
  ],
  [
    'automatic without name',
    '{"segments": [{"labelValue": 1, "algorithmType": "AUTOMATIC"}]}',
    /^\$\.segments\[0\]: algorithmName is required/,
  ],
  [
    'code without meaning',
    '{"segments": [{"labelValue": 1, "type": {"CodeValue": "1", "CodingSchemeDesignator": "SCT"}}]}',
    /^\$\.segments\[0\]\.type\.CodeMeaning: expected a non-empty string/,
  ],
  [
    'name too long',
    `{"segments": [{"labelValue": 1, "name": "${'x'.repeat(65)}"}]}`,
    /^\$\.segments\[0\]\.name: at most 64 characters/,
  ],
  ['dcmqi label id', '{"segmentAttributes": [[{"labelID": "one"}]]}', /^\$\.segmentAttributes\[0\]\[0\]\.labelID/],
  [
    'dcmqi duplicate across files',
    '{"segmentAttributes": [[{"labelID": 1}], [{"labelID": 1}]]}',
    /^\$\.segmentAttributes\[1\]\[0\]: label value 1 is already described/,
  ],
  ['map with a non-numeric key', '{"liver": 1}', /^\$\["liver"\]: expected "segments"/],
  [
    'unsupported version',
    '{"MedvoxLabelTable": 2, "segments": [{"labelValue": 1}]}',
    /^\$\.MedvoxLabelTable: version 2/,
  ],
];

for (const [name, text, message] of invalid) {
  test(`invalid label table (${name}): LABELS_INVALID naming the JSON path`, () => {
    assert.throws(
      () => parseLabelTableText(text, 'labels.json'),
      (error: unknown) =>
        isMedvoxError(error) &&
        error.code === 'LABELS_INVALID' &&
        error.file === 'labels.json' &&
        message.test(error.message),
    );
  });
}

test('resolveLabels: missing labels are an error unless auto-labelled; no table gives defaults', () => {
  const table = parseLabelTable({ '1': 'liver', '2': 'spleen', '7': 'heart' });
  const resolved = resolveLabels(table, [0, 2, 1, 2]);
  assert.deepEqual(
    resolved.segments.map((s) => s.name),
    ['liver', 'spleen'],
  );
  assert.throws(
    () => resolveLabels(table, [1, 4, 5], { source: 'mask.nii.gz' }),
    (error: unknown) =>
      isMedvoxError(error) &&
      error.code === 'LABEL_NOT_IN_TABLE' &&
      /4, 5/.test(error.message) &&
      error.file === 'mask.nii.gz',
  );
  const auto = resolveLabels(table, [1, 4], { autoLabel: true });
  assert.deepEqual(auto.autoLabelled, [4]);
  assert.equal(auto.segments[1]?.name, 'Segment 4');
  assert.deepEqual(
    resolveLabels(undefined, [3]).segments.map((s) => [s.name, s.type.CodeMeaning]),
    [['Segment 3', 'Tissue']],
  );
});
