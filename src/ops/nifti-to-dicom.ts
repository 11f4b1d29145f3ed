/**
 * NIfTI -> DICOM with a medvox sidecar: every source instance is rebuilt from the sidecar's DICOM model (every
 * attribute restored), its pixels taken from the NIfTI voxels. Stored values are the original ones when the voxels
 * were not changed; when they were (float data, another scaling), Rescale Slope / Intercept are recomputed to fit
 * the stored type and the largest quantisation error is reported. New Series / SOP Instance UIDs unless keepUids.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tagOf } from '../core/dicom/dictionary.ts';
import { datasetFromJson } from '../core/dicom/json.ts';
import { type Dataset, type DicomFile, TransferSyntax } from '../core/dicom/model.ts';
import { generateUid } from '../core/dicom/uid.ts';
import { formatDS } from '../core/dicom/values.ts';
import { writeDicom } from '../core/dicom/writer.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import type { NiftiImage } from '../core/nifti/index.ts';
import { instanceJson, isSidecar, type Sidecar } from '../core/sidecar/sidecar.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readNiftiFile } from '../io/nifti-file.ts';
import { type SeriesFromNiftiOptions, seriesFromNifti } from './nifti-to-series.ts';

export interface NiftiToDicomOptions {
  /** NIfTI files (.nii / .nii.gz), each with its sidecar beside it. */
  inputs: string[];
  outputDir: string;
  /** Reuse the original Series / SOP Instance UIDs (default: new ones). */
  keepUids?: boolean;
  /** Without a sidecar: make a new CT or MR series (geometry from the affine, patient / study from these). */
  newSeries?: SeriesFromNiftiOptions;
  onProgress?: (done: number, total: number) => void;
}

export interface RebuiltSeries {
  source: string;
  outputDir: string;
  files: string[];
  seriesInstanceUID: string;
  /** True when the stored values are the original ones. */
  unchanged: boolean;
  /** Largest |real value - rebuilt real value| when the values had to be re-quantised (0 when unchanged). */
  maxQuantisationError: number;
  /** UIDs that had to be filled in, and other notes. */
  warnings: string[];
}

export interface NiftiToDicomResult {
  series: RebuiltSeries[];
  errors: MedvoxError[];
}

function sidecarPathOf(nifti: string): string {
  return join(dirname(nifti), `${basename(nifti).replace(/\.nii(\.gz)?$/, '')}.json`);
}

async function readSidecar(path: string, nifti: string): Promise<Sidecar> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new MedvoxError('USAGE', 'no medvox sidecar beside the NIfTI file', {
      file: nifti,
      hint: `expected ${path}; without a sidecar give --modality CT or MR to make a new series`,
    });
  }
  const parsed = JSON.parse(text) as unknown;
  if (!isSidecar(parsed)) {
    throw new MedvoxError('BAD_VALUE', 'the JSON beside the NIfTI is not a medvox sidecar (no DicomPerInstance)', {
      file: path,
    });
  }
  return parsed;
}

export async function niftiToDicom(options: NiftiToDicomOptions): Promise<NiftiToDicomResult> {
  const result: NiftiToDicomResult = { series: [], errors: [] };
  for (const nifti of options.inputs) {
    try {
      result.series.push(await rebuildSeries(nifti, options));
    } catch (error) {
      result.errors.push(toMedvoxError(error, nifti));
    }
  }
  return result;
}

async function rebuildSeries(nifti: string, options: NiftiToDicomOptions): Promise<RebuiltSeries> {
  const sidecarPath = sidecarPathOf(nifti);
  // A BIDS JSON from dcm2niix is not a medvox sidecar: with --modality, make a new series from the NIfTI.
  if (options.newSeries && !(await hasMedvoxSidecar(sidecarPath))) return newSeries(nifti, options.newSeries, options);
  const sidecar = await readSidecar(sidecarPath, nifti);
  const image = await readNiftiFile(nifti);
  const [nx = 1, ny = 1, nz = 1, nt = 1] = image.header.dim.slice(1);
  const first = datasetFromJson(instanceJson(sidecar, 0));
  const rows = first.number('Rows');
  const columns = first.number('Columns');
  if (columns !== nx || rows !== ny || sidecar.Slices.length !== nz * nt) {
    throw new MedvoxError(
      'GRID_MISMATCH',
      `the NIfTI grid ${nx}x${ny}x${nz}x${nt} is not the sidecar's ${columns}x${rows} with ${sidecar.Slices.length} slices`,
      { file: nifti, hint: 'a resampled NIfTI cannot be written back into its original series' },
    );
  }
  if ((first.number('SamplesPerPixel') ?? 1) !== 1) {
    throw new MedvoxError('UNSUPPORTED_PIXEL_FORMAT', 'rebuilding colour (RGB) sources is not supported yet', {
      file: nifti,
    });
  }
  if (sidecar.Slices.some((slice) => slice.Frame !== 0) || (first.number('NumberOfFrames') ?? 1) > 1) {
    throw new MedvoxError('UNSUPPORTED_SOP_CLASS', 'rebuilding multi-frame or mosaic sources is not supported yet', {
      file: nifti,
    });
  }
  const quantisation = planQuantisation(image, first, sidecar);
  const seriesUid = options.keepUids ? (first.string('SeriesInstanceUID') ?? generateUid()) : generateUid();
  const outputDir = join(options.outputDir, basename(nifti).replace(/\.nii(\.gz)?$/, ''));
  const studyUid = first.string('StudyInstanceUID') ?? generateUid();
  const warnings = new Set<string>();
  let maxError = quantisation.maxError;
  const files: string[] = [];
  for (const [index, slice] of sidecar.Slices.entries()) {
    const dataset = datasetFromJson(instanceJson(sidecar, slice.Instance));
    const meta = datasetFromJson({
      ...sidecar.DicomMetaCommon,
      ...(sidecar.DicomMetaPerInstance[slice.Instance] ?? {}),
    });
    if (!options.keepUids) {
      dataset.setStrings('SeriesInstanceUID', seriesUid);
      dataset.setStrings('SOPInstanceUID', generateUid());
    }
    fillBlankUids(dataset, meta, studyUid, seriesUid, warnings);
    addMissingType2(dataset);
    maxError = Math.max(maxError, writePixels(dataset, image, slice.k, slice.t, quantisation));
    const file: DicomFile = {
      meta,
      dataset,
      transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
      hasPreamble: true,
    };
    const path = join(outputDir, `IM${String(index + 1).padStart(5, '0')}.dcm`);
    await writeFileAtomic(path, writeDicom(file));
    files.push(path);
    options.onProgress?.(index + 1, sidecar.Slices.length);
  }
  return {
    source: nifti,
    outputDir,
    files,
    seriesInstanceUID: seriesUid,
    unchanged: quantisation.unchanged,
    maxQuantisationError: maxError,
    warnings: [...warnings],
  };
}

async function hasMedvoxSidecar(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    return isSidecar(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return false;
  }
}

/** No sidecar: a new conformant CT / MR series from the NIfTI alone. */
async function newSeries(
  nifti: string,
  series: SeriesFromNiftiOptions,
  options: NiftiToDicomOptions,
): Promise<RebuiltSeries> {
  const image = await readNiftiFile(nifti);
  const { files, maxQuantisationError } = seriesFromNifti(image, series, nifti);
  const outputDir = join(options.outputDir, basename(nifti).replace(/\.nii(\.gz)?$/, ''));
  const paths: string[] = [];
  for (const [index, file] of files.entries()) {
    const path = join(outputDir, `IM${String(index + 1).padStart(5, '0')}.dcm`);
    await writeFileAtomic(path, writeDicom(file));
    paths.push(path);
    options.onProgress?.(index + 1, files.length);
  }
  return {
    source: nifti,
    outputDir,
    files: paths,
    seriesInstanceUID: files[0]?.dataset.string('SeriesInstanceUID') ?? '',
    unchanged: maxQuantisationError === 0,
    maxQuantisationError,
    warnings: ['no sidecar: a new series was made from the NIfTI geometry and the patient / study flags'],
  };
}

/**
 * Type 2 (and CT / MR Type 2C) attributes of the Patient, General Study, General Series, Frame of Reference,
 * General Equipment and General Image modules that vendor data sometimes omits: added empty, never changed.
 */
const TYPE2_KEYWORDS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
  'SeriesNumber',
  'PositionReferenceIndicator',
  'Manufacturer',
  'InstanceNumber',
] as const;

/** Body parts that are not paired (PS3.16 CID 4031): Laterality must then be absent. */
const UNPAIRED_BODY_PARTS = new Set([
  'HEAD',
  'BRAIN',
  'SKULL',
  'NECK',
  'CHEST',
  'THORAX',
  'HEART',
  'ABDOMEN',
  'PELVIS',
  'SPINE',
  'CSPINE',
  'TSPINE',
  'LSPINE',
  'SSPINE',
  'LIVER',
  'PANCREAS',
  'SPLEEN',
  'BLADDER',
  'PROSTATE',
  'UTERUS',
  'WHOLEBODY',
  'CHESTABDOMEN',
  'ABDOMENPELVIS',
  'CHESTABDPELVIS',
  'HEADNECK',
  'AORTA',
  'STOMACH',
  'COLON',
  'RECTUM',
  'TRACHEA',
  'ESOPHAGUS',
]);

function addMissingType2(dataset: Dataset): void {
  for (const keyword of TYPE2_KEYWORDS) {
    if (dataset.get(tagOf(keyword)) === undefined) dataset.setStrings(keyword, '');
  }
  // Laterality (2C) is required for paired (or unknown) body parts and forbidden for unpaired ones.
  const bodyPart = (dataset.string('BodyPartExamined') ?? '').toUpperCase();
  if (dataset.get(tagOf('Laterality')) === undefined && !UNPAIRED_BODY_PARTS.has(bodyPart)) {
    dataset.setStrings('Laterality', '');
  }
  const modality = dataset.string('Modality');
  if ((modality === 'CT' || modality === 'MR') && dataset.get(tagOf('PatientPosition')) === undefined) {
    dataset.setStrings('PatientPosition', '');
  }
}

/**
 * Type 1 UIDs must not be empty (some anonymisers blank them): take them from the File Meta Information or
 * generate them, and say so.
 */
function fillBlankUids(
  dataset: Dataset,
  meta: Dataset,
  studyUid: string,
  seriesUid: string,
  warnings: Set<string>,
): void {
  const fill = (keyword: string, value: string | undefined) => {
    if (dataset.string(keyword) || !value) return;
    dataset.setStrings(keyword, value);
    warnings.add(`${keyword} was empty in the source: ${value} written`);
  };
  fill('SOPClassUID', meta.string('MediaStorageSOPClassUID'));
  fill('SOPInstanceUID', meta.string('MediaStorageSOPInstanceUID') ?? generateUid());
  fill('StudyInstanceUID', studyUid);
  fill('SeriesInstanceUID', seriesUid);
}

interface Quantisation {
  unchanged: boolean;
  /** stored = round((real - intercept) / slope) when changed. */
  slope: number;
  intercept: number;
  maxError: number;
  signed: boolean;
  bits: number;
  /** Quantised with the instance's own Rescale: its attributes stay as they are. */
  keepRescale?: boolean;
}

/**
 * Keep the stored values when the NIfTI holds integers whose scaling equals the source's Rescale; otherwise
 * choose a new slope / intercept that maps the real-value range onto the stored type (PS3.3 C.11.1.1.2).
 */
function planQuantisation(image: NiftiImage, first: Dataset, sidecar: Sidecar): Quantisation {
  const bits = first.number('BitsAllocated') ?? 16;
  const signed = (first.number('PixelRepresentation') ?? 0) === 1;
  const slope = image.header.sclSlope || 1;
  const intercept = image.header.sclSlope ? image.header.sclInter : 0;
  const integer = !(image.data instanceof Float32Array || image.data instanceof Float64Array);
  // The scaling medvox wrote into the NIfTI (sidecar); integer voxels with that scaling are the stored values.
  const written = sidecar.MedvoxNifti ?? {
    sclSlope: first.number('RescaleSlope') ?? 1,
    sclInter: first.number('RescaleIntercept') ?? 0,
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  if (integer && close(slope, written.sclSlope) && close(intercept, written.sclInter)) {
    return { unchanged: true, slope: 1, intercept: 0, maxError: 0, signed, bits };
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < image.data.length; i++) {
    const real = Number(image.data[i]) * slope + intercept;
    if (real < min) min = real;
    if (real > max) max = real;
  }
  const storedMin = signed ? -(2 ** (bits - 1)) : 0;
  const storedMax = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const newSlope = max > min ? (max - min) / (storedMax - storedMin) : 1;
  const newIntercept = min - storedMin * newSlope;
  let maxError = 0;
  for (let i = 0; i < image.data.length; i++) {
    const real = Number(image.data[i]) * slope + intercept;
    const stored = Math.round((real - newIntercept) / newSlope);
    maxError = Math.max(maxError, Math.abs(stored * newSlope + newIntercept - real));
  }
  return { unchanged: false, slope: newSlope, intercept: newIntercept, maxError, signed, bits };
}

/**
 * Slice (k, t) of the NIfTI, rows flipped back (r = rows-1-j), as Pixel Data of the instance. Changed values are
 * quantised with the instance's own Rescale Slope / Intercept when it has them (per-slice scaling, e.g. PMOD or
 * Philips: the original stored values come back), else with the series-wide plan. Returns the largest error.
 */
function writePixels(dataset: Dataset, image: NiftiImage, k: number, t: number, plan: Quantisation): number {
  const ownSlope = dataset.number('RescaleSlope');
  const q: Quantisation =
    !plan.unchanged && ownSlope
      ? { ...plan, slope: ownSlope, intercept: dataset.number('RescaleIntercept') ?? 0, keepRescale: true }
      : plan;
  let maxError = 0;
  const [nx = 1, ny = 1, nz = 1] = image.header.dim.slice(1);
  const sliceSize = nx * ny;
  const base = (t * nz + k) * sliceSize;
  const bytesPerSample = q.bits / 8;
  const out = new Uint8Array(sliceSize * bytesPerSample);
  const view = new DataView(out.buffer);
  const slope = image.header.sclSlope || 1;
  const intercept = image.header.sclSlope ? image.header.sclInter : 0;
  for (let r = 0; r < ny; r++) {
    const from = base + (ny - 1 - r) * nx;
    for (let c = 0; c < nx; c++) {
      let value = Number(image.data[from + c]);
      if (!q.unchanged) {
        const real = value * slope + intercept;
        value = Math.round((real - q.intercept) / q.slope);
        maxError = Math.max(maxError, Math.abs(value * q.slope + q.intercept - real));
      }
      const offset = (r * nx + c) * bytesPerSample;
      if (q.bits === 8) view.setUint8(offset, value & 0xff);
      else if (q.bits === 16) view.setUint16(offset, value & 0xffff, true);
      else view.setUint32(offset, value >>> 0, true);
    }
  }
  dataset.setBytes('PixelData', out, q.bits > 8 ? 'OW' : 'OB');
  if (!q.unchanged && !q.keepRescale) {
    dataset.setStrings('RescaleSlope', formatDS(q.slope), 'DS');
    dataset.setStrings('RescaleIntercept', formatDS(q.intercept), 'DS');
    dataset.setNumbers('BitsStored', q.bits).setNumbers('HighBit', q.bits - 1);
  }
  return maxError;
}
