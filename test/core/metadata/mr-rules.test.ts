/** MR normalisation rules: the rules file's validation, each kind of rule, and the decisions with their reasons. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dataset } from '../../../src/core/dicom/model.ts';
import { MedvoxError } from '../../../src/core/errors.ts';
import { standardPlane } from '../../../src/core/geometry/orientation.ts';
import { assignDynamicGroups, type DynamicCandidate } from '../../../src/core/metadata/dynamic.ts';
import { classifyMr } from '../../../src/core/metadata/mr-classify.ts';
import { DEFAULT_MR_CONFIG_JSON, loadMrConfig } from '../../../src/core/metadata/mr-config.ts';
import { type MrFeatures, mrFeatures } from '../../../src/core/metadata/mr-features.ts';

const config = loadMrConfig();

function features(overrides: Partial<MrFeatures>): MrFeatures {
  return {
    isImage: true,
    modality: 'MR',
    sopClassUID: '1.2.840.10008.5.1.4.1.1.4',
    seriesDescription: '',
    protocolName: '',
    manufacturer: '',
    manufacturerModelName: '',
    sequenceName: '',
    imageType: ['ORIGINAL', 'PRIMARY'],
    scanningSequence: [],
    sequenceVariant: [],
    scanOptions: [],
    mrAcquisitionType: '2D',
    acquisitionContrast: '',
    diffusionDirectionality: '',
    spectrallySelectedSuppression: '',
    contrastBolusAgent: '',
    orientation: [1, 0, 0, 0, 1, 0],
    date: '20240101',
    magneticFieldStrength: 1.5,
    ...overrides,
  };
}

describe('sequence class from parameters when names say nothing', () => {
  const cases: Array<[string, Partial<MrFeatures>, string, RegExp]> = [
    ['spin echo, short TR / TE', { scanningSequence: ['SE'], repetitionTime: 500, echoTime: 12 }, 'T1', /t1-spin-echo/],
    [
      'spin echo, long TR / TE',
      { scanningSequence: ['SE'], repetitionTime: 4000, echoTime: 100 },
      'T2',
      /t2-parameters/,
    ],
    [
      'spin echo, long TR, short TE',
      { scanningSequence: ['SE'], repetitionTime: 3000, echoTime: 15 },
      'PD',
      /pd-parameters/,
    ],
    [
      'long TI and TE',
      { scanningSequence: ['SE', 'IR'], repetitionTime: 9000, echoTime: 120, inversionTime: 2500 },
      'FLAIR',
      /flair-parameters/,
    ],
    ['EPI with b-values', { scanningSequence: ['EP'], diffusionBValue: 1000, echoTime: 80 }, 'DWI', /dwi-b-value/],
    ['gradient-echo EPI, BOLD TE', { scanningSequence: ['EP', 'GR'], echoTime: 30 }, 'BOLD', /epi-gradient-echo/],
    [
      '3D inversion-recovery gradient echo',
      { scanningSequence: ['GR', 'IR'], mrAcquisitionType: '3D', inversionTime: 900 },
      'T1',
      /mprage-family/,
    ],
    ['nothing recorded', {}, 'unknown', /no rule matched \(no names or timing recorded\)/],
    [
      'spin echo, TE between the bands',
      { scanningSequence: ['SE'], repetitionTime: 1500, echoTime: 50 },
      'unknown',
      /no rule matched/,
    ],
  ];
  for (const [name, overrides, expected, reason] of cases) {
    test(`${name} -> ${expected}`, () => {
      const decisions = classifyMr(features(overrides), config);
      assert.equal(decisions.sequenceClass, expected);
      assert.match(decisions.sequenceClassReason, reason);
    });
  }

  test('thresholds follow the field strength band (TE_long is 80 ms at 1.5 T, 75 ms at 3 T)', () => {
    const at = (tesla: number) =>
      classifyMr(
        features({ scanningSequence: ['SE'], repetitionTime: 4000, echoTime: 78, magneticFieldStrength: tesla }),
        config,
      );
    assert.equal(at(1.5).sequenceClass, 'unknown');
    assert.equal(at(3).sequenceClass, 'T2');
    assert.match(at(3).fieldStrengthReason, /3 T thresholds/);
    const gauss = classifyMr(features({ magneticFieldStrength: 15000 }), config);
    assert.equal(gauss.fieldStrengthTesla, 1.5);
    assert.match(gauss.fieldStrengthReason, /read as Gauss/);
    const none = classifyMr(features({ magneticFieldStrength: undefined }), config);
    assert.equal(none.fieldStrengthTesla, null);
    assert.match(none.fieldStrengthReason, /not recorded; thresholds of 1.5 T/);
  });
});

describe('names, Image Type and sequence names come first', () => {
  test('a name rule beats the parameters, and notPattern / echo time split PD from T2', () => {
    const pd = classifyMr(features({ seriesDescription: 'pd+t2_tse', scanningSequence: ['SE'], echoTime: 11 }), config);
    const t2 = classifyMr(features({ seriesDescription: 'pd+t2_tse', scanningSequence: ['SE'], echoTime: 92 }), config);
    assert.equal(pd.sequenceClass, 'PD');
    assert.equal(t2.sequenceClass, 'T2');
    assert.match(pd.sequenceClassReason, /rule pd-name-short-te: SeriesDescription "pd\+t2_tse" matches/);
  });
  test('Image Type ADC wins over DIFFUSION; localizer names; Siemens field-map sequence names', () => {
    assert.equal(
      classifyMr(features({ imageType: ['DERIVED', 'PRIMARY', 'DIFFUSION', 'ADC'] }), config).sequenceClass,
      'ADC',
    );
    assert.equal(classifyMr(features({ seriesDescription: 'AAHead_Scout_32ch' }), config).sequenceClass, 'localizer');
    assert.equal(classifyMr(features({ sequenceName: '*fm2d2r' }), config).sequenceClass, 'field map');
    assert.equal(classifyMr(features({ seriesDescription: 'Ax T2 FLAIR' }), config).sequenceClass, 'FLAIR');
    assert.equal(classifyMr(features({ seriesDescription: 'SWI_Images' }), config).sequenceClass, 'SWI');
    assert.equal(classifyMr(features({ seriesDescription: 'tof_fl3d_tra' }), config).sequenceClass, 'angiography');
    assert.equal(classifyMr(features({ seriesDescription: 'ep2d_perf' }), config).sequenceClass, 'perfusion');
  });
  test('an object without pixels is never an image class', () => {
    const ds = new Dataset().setStrings('Modality', 'SR').setStrings('SeriesDescription', 't1_mprage');
    const decisions = classifyMr(mrFeatures(ds), config);
    assert.equal(decisions.isImage, false);
    assert.equal(decisions.sequenceClass, 'unknown');
    assert.match(decisions.sequenceClassReason, /not an image: Modality SR/);
  });
});

describe('fat suppression and contrast', () => {
  test('scan options, names and STIR inversion times; the default when nothing says', () => {
    assert.equal(classifyMr(features({ scanOptions: ['PFP', 'FS'] }), config).isFatSuppressed, true);
    assert.equal(classifyMr(features({ seriesDescription: 't2_tse_fs_cor' }), config).isFatSuppressed, true);
    assert.equal(classifyMr(features({ spectrallySelectedSuppression: 'FAT' }), config).isFatSuppressed, true);
    const stir = classifyMr(features({ scanningSequence: ['SE', 'IR'], inversionTime: 160 }), config);
    assert.equal(stir.isFatSuppressed, true);
    assert.match(stir.fatSuppressionReason, /STIR: inversion time 160 <= TI_stir_max 250/);
    assert.equal(classifyMr(features({ seriesDescription: 't1_se_nfs' }), config).isFatSuppressed, false);
    assert.equal(classifyMr(features({}), config).isFatSuppressed, false);
  });
  test('contrast agent recorded, names before / after contrast', () => {
    const agent = classifyMr(features({ contrastBolusAgent: 'Gadovist 7.5 ml' }), config);
    assert.equal(agent.isContrastEnhanced, true);
    assert.match(agent.contrastReason, /ContrastBolusAgent "Gadovist/);
    assert.equal(classifyMr(features({ contrastBolusAgent: 'NONE' }), config).isContrastEnhanced, false);
    assert.equal(classifyMr(features({ seriesDescription: 'T1 AX POST' }), config).isContrastEnhanced, true);
    assert.equal(classifyMr(features({ seriesDescription: 't1_vibe_pre' }), config).isContrastEnhanced, false);
  });
});

describe('the rules file', () => {
  const rejects = (override: unknown, message: RegExp) =>
    assert.throws(
      () => loadMrConfig(override, '/tmp/my_rules.json'),
      (error: unknown) =>
        error instanceof MedvoxError &&
        error.code === 'RULES_INVALID' &&
        error.file === '/tmp/my_rules.json' &&
        message.test(error.message),
    );
  const rules = () => structuredClone((DEFAULT_MR_CONFIG_JSON as { rules: Array<Record<string, unknown>> }).rules);

  test('a malformed value is reported with its JSON path', () => {
    const bad = rules();
    bad[3]!.pattern = 42;
    rejects({ rules: bad }, /^rules\[3\]\.pattern: not a string$/);
    const regex = rules();
    regex[0]!.pattern = '(unclosed';
    rejects({ rules: regex }, /^rules\[0\]\.pattern: not a valid regular expression/);
    rejects({ rules: [{ id: 'x', class: 'T3', pattern: 'x' }] }, /^rules\[0\]\.class: "T3" is not one of/);
    rejects(
      { rules: [{ id: 'x', class: 'T1', EchoTime: { max: 'TE_huge' } }] },
      /^rules\[0\]\.EchoTime\.max: "TE_huge" is not a threshold/,
    );
    rejects({ rules: [{ id: 'x', class: 'T1' }] }, /^rules\[0\]: a rule needs at least one condition/);
    rejects({ rules: [{ id: 'x', class: 'T1', patern: 'x' }] }, /^rules\[0\]\.patern: unknown key/);
    rejects(
      { fieldStrength: { defaultTesla: 1.5, bands: [{ name: 'a', maxTesla: '3', thresholds: {} }] } },
      /^fieldStrength\.bands\[0\]\.maxTesla: not a number$/,
    );
    rejects(
      { orientation: { toleranceDegrees: 60 } },
      /^orientation\.toleranceDegrees: must be at least 0 and below 45/,
    );
    rejects({ rulez: [] }, /^rulez: unknown section/);
    rejects([], /the rules file is a JSON object/);
  });

  test('a section given by the user replaces the built-in one; the others stay', () => {
    const custom = loadMrConfig({ rules: [{ id: 'everything-t1', class: 'T1', pattern: '.' }] }, 'mine.json');
    assert.equal(custom.rules.length, 1);
    assert.equal(custom.source, 'built-in + mine.json');
    assert.equal(custom.fieldStrength.bands.length, config.fieldStrength.bands.length);
    const decisions = classifyMr(features({ seriesDescription: 'whatever' }), custom);
    assert.equal(decisions.sequenceClass, 'T1');
    assert.equal(decisions.rule, 'everything-t1');
  });
});

test('standard planes from ImageOrientationPatient, with the tolerance', () => {
  assert.equal(standardPlane([1, 0, 0, 0, 1, 0], 20)?.plane, 'AX');
  assert.equal(standardPlane([1, 0, 0, 0, 0, -1], 20)?.plane, 'COR');
  assert.equal(standardPlane([0, 1, 0, 0, 0, -1], 20)?.plane, 'SAG');
  const tilt = (degrees: number) => {
    const r = (degrees * Math.PI) / 180;
    return [1, 0, 0, 0, Math.cos(r), Math.sin(r)];
  };
  assert.equal(standardPlane(tilt(15), 20)?.plane, 'AX');
  assert.equal(standardPlane(tilt(25), 20)?.plane, 'OBL');
  assert.equal(standardPlane(tilt(25), 20)?.nearest, 'AX');
  assert.match(
    standardPlane(tilt(25), 20)!.reason,
    /25\.0 deg from the z \(S-I\) axis .* more than the 20 deg tolerance/,
  );
  assert.equal(standardPlane([], 20), undefined);
  assert.equal(standardPlane([1, 0, 0, 1, 0, 0], 20), undefined, 'parallel cosines have no normal');
});

test('dynamic groups: repeats of one protocol close in time are phases; a late repeat is not', () => {
  const row = (seriesNumber: number, seconds: number, description = 't1_vibe_dyn'): DynamicCandidate => {
    const f = features({
      seriesDescription: description,
      protocolName: description,
      scanningSequence: ['GR'],
      repetitionTime: 4,
      echoTime: 2,
      flipAngle: 10,
      rows: 256,
      columns: 256,
      timeSeconds: seconds,
    });
    return {
      studyInstanceUID: '1.2.3',
      seriesNumber,
      features: f,
      decisions: classifyMr(f, config),
      standardOrientation: 'AX',
      date: '20240101',
      timeSeconds: seconds,
      dynamic: { group: null, phase: null, reason: '' },
    };
  };
  const rows = [row(5, 36000), row(6, 36060), row(7, 36120), row(20, 36000 + 7200), row(8, 36000, 't2_tse')];
  assignDynamicGroups(rows, config);
  assert.deepEqual(
    rows.map((r) => [r.dynamic.group, r.dynamic.phase]),
    [
      ['DYN1', 1],
      ['DYN1', 2],
      ['DYN1', 3],
      [null, null],
      [null, null],
    ],
  );
  assert.match(rows[0]!.dynamic.reason, /phase 1 of 3 series .* acquired 10:00:00-10:02:00/);
  assert.match(rows[3]!.dynamic.reason, /more than 900 s apart/);
  assert.match(rows[4]!.dynamic.reason, /no repeated acquisition/);
});
