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
import { DataType, type NiftiImage } from '../core/nifti/index.ts';
import { instanceJson, isSidecar, type Sidecar, type SidecarSlice } from '../core/sidecar/sidecar.ts';
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
  for (const group of await groupBySource(options.inputs)) {
    try {
      result.series.push(await rebuildSeries(group, options));
    } catch (error) {
      result.errors.push(toMedvoxError(error, group[0]));
    }
  }
  return result;
}

/**
 * NIfTI volumes made from the same multi-frame instances (the magnitude and phase, or the echoes, of one enhanced
 * file) are rebuilt together, so that each instance gets all its frames back. Others stand alone.
 */
async function groupBySource(inputs: string[]): Promise<string[][]> {
  const groups: string[][] = [];
  const owner = new Map<string, number>();
  for (const nifti of inputs) {
    let shared: string[] = [];
    try {
      const sidecar = JSON.parse(await readFile(sidecarPathOf(nifti), 'utf8')) as unknown;
      if (isSidecar(sidecar)) shared = sidecar.Slices.filter((slice) => slice.Frame > 0).map((s) => s.SOPInstanceUID);
    } catch {
      // no or unreadable sidecar: rebuildSeries reports it
    }
    const found = shared.map((uid) => owner.get(uid)).find((index) => index !== undefined);
    const index = found ?? groups.push([]) - 1;
    groups[index]!.push(nifti);
    for (const uid of shared) owner.set(uid, index);
  }
  return groups;
}

/** One NIfTI of a rebuild, with what its slices need. */
interface RebuildSource {
  nifti: string;
  sidecar: Sidecar;
  image: NiftiImage;
  layout: PixelLayout;
  quantisation: Quantisation;
}

/** A source instance to write: its model (from the first sidecar holding it) and its slices from every NIfTI. */
interface RebuildInstance {
  source: RebuildSource;
  instance: number;
  parts: Array<{ slice: SidecarSlice; source: RebuildSource }>;
}

async function rebuildSeries(niftis: string[], options: NiftiToDicomOptions): Promise<RebuiltSeries> {
  const nifti = niftis[0]!;
  const sidecarPath = sidecarPathOf(nifti);
  // A BIDS JSON from dcm2niix is not a medvox sidecar: with --modality, make a new series from the NIfTI.
  if (options.newSeries && niftis.length === 1 && !(await hasMedvoxSidecar(sidecarPath))) {
    return newSeries(nifti, options.newSeries, options);
  }
  const sources: RebuildSource[] = [];
  for (const path of niftis) {
    const sidecar = await readSidecar(sidecarPathOf(path), path);
    const image = await readNiftiFile(path);
    const head = datasetFromJson(instanceJson(sidecar, 0));
    const layout = pixelLayout(head, image, sidecar, path);
    sources.push({
      nifti: path,
      sidecar,
      image,
      layout,
      quantisation: planQuantisation(image, head, sidecar, layout.colour || layout.float !== undefined),
    });
  }
  const first = datasetFromJson(instanceJson(sources[0]!.sidecar, 0));
  const seriesUid = options.keepUids ? (first.string('SeriesInstanceUID') ?? generateUid()) : generateUid();
  const outputDir = join(options.outputDir, basename(nifti).replace(/\.nii(\.gz)?$/, ''));
  const studyUid = first.string('StudyInstanceUID') ?? generateUid();
  const warnings = new Set<string>();
  let maxError = Math.max(...sources.map((source) => source.quantisation.maxError));
  const files: string[] = [];
  // One output file per source instance: a multi-frame or mosaic instance gathers all its slices.
  const instances = new Map<string, RebuildInstance>();
  for (const source of sources) {
    for (const slice of source.sidecar.Slices) {
      const key = slice.SOPInstanceUID || `${source.nifti}#${slice.Instance}`;
      let entry = instances.get(key);
      if (!entry) {
        entry = { source, instance: slice.Instance, parts: [] };
        instances.set(key, entry);
      }
      entry.parts.push({ slice, source });
    }
  }
  for (const [index, entry] of [...instances.values()].entries()) {
    const { sidecar } = entry.source;
    const dataset = datasetFromJson(instanceJson(sidecar, entry.instance));
    const meta = datasetFromJson({
      ...sidecar.DicomMetaCommon,
      ...(sidecar.DicomMetaPerInstance[entry.instance] ?? {}),
    });
    if (!options.keepUids) {
      dataset.setStrings('SeriesInstanceUID', seriesUid);
      dataset.setStrings('SOPInstanceUID', generateUid());
    }
    fillBlankUids(dataset, meta, studyUid, seriesUid, warnings);
    addMissingType2(dataset);
    maxError = Math.max(maxError, writePixels(dataset, entry.parts, entry.source.nifti));
    if (entry.source.layout.colour && dataset.string('PhotometricInterpretation') !== 'RGB') {
      // Colour is decoded to RGB and written uncompressed (PS3.3 C.7.6.3.1.2: YBR_FULL_422 is for compressed data).
      warnings.add(`PhotometricInterpretation ${dataset.string('PhotometricInterpretation')} written as RGB`);
      dataset.setStrings('PhotometricInterpretation', 'RGB');
    }
    const file: DicomFile = {
      meta,
      dataset,
      transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
      hasPreamble: true,
    };
    const path = join(outputDir, `IM${String(index + 1).padStart(5, '0')}.dcm`);
    await writeFileAtomic(path, writeDicom(file));
    files.push(path);
    options.onProgress?.(index + 1, instances.size);
  }
  return {
    source: nifti,
    outputDir,
    files,
    seriesInstanceUID: seriesUid,
    unchanged: sources.every((source) => source.quantisation.unchanged),
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
    // The Frame of Reference module only where the image has one (projection images do not).
    if (keyword === 'PositionReferenceIndicator' && dataset.get(tagOf('FrameOfReferenceUID')) === undefined) continue;
    if (dataset.get(tagOf(keyword)) === undefined) dataset.setStrings(keyword, '');
  }
  // Laterality (2C) is required for paired (or unknown) body parts and forbidden for unpaired ones.
  const bodyPart = (dataset.string('BodyPartExamined') ?? '').toUpperCase();
  // Not when the image says it per image or per frame (Image Laterality, Frame Anatomy of enhanced images).
  const lateralityElsewhere =
    dataset.get(tagOf('ImageLaterality')) !== undefined ||
    ['SharedFunctionalGroupsSequence', 'PerFrameFunctionalGroupsSequence'].some((groups) =>
      dataset.items(groups).some((item) => item.get(tagOf('FrameAnatomySequence')) !== undefined),
    );
  if (dataset.get(tagOf('Laterality')) === undefined && !UNPAIRED_BODY_PARTS.has(bodyPart) && !lateralityElsewhere) {
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
function planQuantisation(image: NiftiImage, first: Dataset, sidecar: Sidecar, exact: boolean): Quantisation {
  const bits = first.number('BitsAllocated') ?? 16;
  const signed = (first.number('PixelRepresentation') ?? 0) === 1;
  // RGB24 bytes are the stored samples; float sources take the real values as they are.
  if (exact) return { unchanged: true, slope: 1, intercept: 0, maxError: 0, signed, bits };
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

/** How NIfTI slices map onto the source instances' frames. */
interface PixelLayout {
  /** Frame size of the source instances. */
  frameRows: number;
  frameColumns: number;
  /** Tiles per mosaic row (1 when the frames are not mosaics). */
  perRow: number;
  colour: boolean;
  /** 0 interleaved, 1 by plane (colour only). */
  planar: number;
  /** Float sources (Parametric Maps): the real values go back as Float / Double Float Pixel Data, unquantised. */
  float?: 'FloatPixelData' | 'DoubleFloatPixelData';
}

function pixelLayout(first: Dataset, image: NiftiImage, sidecar: Sidecar, nifti: string): PixelLayout {
  const [nx = 1, ny = 1, nz = 1, nt = 1] = image.header.dim.slice(1);
  const frameRows = first.number('Rows') ?? 0;
  const frameColumns = first.number('Columns') ?? 0;
  const mosaic = sidecar.Slices.some((slice) => slice.Tile !== undefined);
  const perRow = mosaic ? frameColumns / nx : 1;
  const fits = Number.isInteger(perRow) && frameColumns === nx * perRow && frameRows === ny * perRow;
  if (!fits || sidecar.Slices.length !== nz * nt) {
    const source = mosaic
      ? `${nx}x${ny} tiles of its ${frameColumns}x${frameRows} mosaics`
      : `${frameColumns}x${frameRows}`;
    throw new MedvoxError(
      'GRID_MISMATCH',
      `the NIfTI grid ${nx}x${ny}x${nz}x${nt} is not the sidecar's ${source} with ${sidecar.Slices.length} slices`,
      { file: nifti, hint: 'a resampled NIfTI cannot be written back into its original series' },
    );
  }
  const samples = first.number('SamplesPerPixel') ?? 1;
  const colour = samples === 3;
  if (colour !== (image.header.datatype === DataType.RGB24) || (samples !== 1 && samples !== 3)) {
    throw new MedvoxError(
      'GRID_MISMATCH',
      `the sidecar's images have ${samples} samples per pixel, the NIfTI datatype is ${image.header.datatype}`,
      { file: nifti, hint: 'colour sources come back from RGB24 NIfTI files only' },
    );
  }
  const layout: PixelLayout = {
    frameRows,
    frameColumns,
    perRow,
    colour,
    planar: colour ? (first.number('PlanarConfiguration') ?? 0) : 0,
  };
  if (sidecar.SourcePixelData) layout.float = sidecar.SourcePixelData;
  return layout;
}

/**
 * The Pixel Data of one instance from its slices: each slice (k, t) of the NIfTI, rows flipped back
 * (r = rows-1-j), goes to its frame (and mosaic tile). Changed values are quantised with the instance's own
 * Rescale Slope / Intercept when it has them (per-slice scaling, e.g. PMOD or Philips: the original stored values
 * come back), else with the series-wide plan. Returns the largest quantisation error.
 */
function writePixels(
  dataset: Dataset,
  parts: Array<{ slice: SidecarSlice; source: RebuildSource }>,
  nifti: string,
): number {
  const frames = dataset.number('NumberOfFrames') ?? 1;
  const present = new Set(parts.map(({ slice }) => slice.Frame));
  if (present.size !== frames || [...present].some((frame) => frame < 0 || frame >= frames)) {
    throw new MedvoxError(
      'UNSUPPORTED_SOP_CLASS',
      `instance ${dataset.string('SOPInstanceUID')} has ${frames} frames; ${present.size} of them are in the NIfTI files given`,
      {
        file: nifti,
        hint: 'its other frames went to other volumes (echoes, magnitude / phase): give those NIfTI files too, in one run',
      },
    );
  }
  const plan = parts[0]!.source.quantisation;
  if (
    parts.some(
      ({ source }) => source.quantisation.slope !== plan.slope || source.quantisation.intercept !== plan.intercept,
    )
  ) {
    throw new MedvoxError('UNSUPPORTED_PIXEL_FORMAT', 'the frames of one instance need different new scalings', {
      file: nifti,
      hint: 'keep the original scaling in the NIfTI files made from one multi-frame instance',
    });
  }
  const ownSlope = frames === 1 ? dataset.number('RescaleSlope') : undefined;
  const own = (q: Quantisation): Quantisation =>
    !q.unchanged && ownSlope
      ? { ...q, slope: ownSlope, intercept: dataset.number('RescaleIntercept') ?? 0, keepRescale: true }
      : q;
  const layout = parts[0]!.source.layout;
  if (layout.float) return writeFloatPixels(dataset, parts, layout, frames);
  const q = own(plan);
  const samples = layout.colour ? 3 : 1;
  const bytesPerSample = layout.colour ? 1 : q.bits / 8;
  const frameBytes = layout.frameRows * layout.frameColumns * samples * bytesPerSample;
  const out = new Uint8Array(frameBytes * frames);
  let maxError = 0;
  for (const { slice, source } of parts) {
    const error = placeSlice(
      out,
      slice.Frame * frameBytes,
      slice,
      source.image,
      source.layout,
      own(source.quantisation),
    );
    maxError = Math.max(maxError, error);
  }
  dataset.setBytes('PixelData', out, bytesPerSample > 1 ? 'OW' : 'OB');
  if (!q.unchanged && !q.keepRescale) {
    setRescale(dataset, q.slope, q.intercept);
    dataset.setNumbers('BitsStored', q.bits).setNumbers('HighBit', q.bits - 1);
  }
  return maxError;
}

/** Float sources: the NIfTI's real values as Float (32-bit) or Double Float (64-bit) Pixel Data, rows flipped back. */
function writeFloatPixels(
  dataset: Dataset,
  parts: Array<{ slice: SidecarSlice; source: RebuildSource }>,
  layout: PixelLayout,
  frames: number,
): number {
  const double = layout.float === 'DoubleFloatPixelData';
  const frameSamples = layout.frameRows * layout.frameColumns;
  const out = double ? new Float64Array(frameSamples * frames) : new Float32Array(frameSamples * frames);
  for (const { slice, source } of parts) {
    const { image } = source;
    const [nx = 1, ny = 1, nz = 1] = image.header.dim.slice(1);
    const base = (slice.t * nz + slice.k) * nx * ny;
    const slope = image.header.sclSlope || 1;
    const intercept = image.header.sclSlope ? image.header.sclInter : 0;
    for (let r = 0; r < ny; r++) {
      const from = base + (ny - 1 - r) * nx;
      const to = slice.Frame * frameSamples + r * nx;
      for (let c = 0; c < nx; c++) out[to + c] = Number(image.data[from + c]) * slope + intercept;
    }
  }
  dataset.setBytes(layout.float!, new Uint8Array(out.buffer), double ? 'OD' : 'OF');
  return 0;
}

/** One NIfTI slice into its frame (at `frameOffset` bytes) and tile; returns the largest quantisation error. */
function placeSlice(
  out: Uint8Array,
  frameOffset: number,
  slice: SidecarSlice,
  image: NiftiImage,
  layout: PixelLayout,
  q: Quantisation,
): number {
  const [nx = 1, ny = 1, nz = 1] = image.header.dim.slice(1);
  const sliceSize = nx * ny;
  const base = (slice.t * nz + slice.k) * sliceSize;
  const tile = slice.Tile ?? 0;
  const tileRow = Math.floor(tile / layout.perRow);
  const tileColumn = tile % layout.perRow;
  const frameColumns = layout.frameColumns;
  if (layout.colour) {
    // RGB24 voxels: three bytes each, interleaved; the frame interleaved or by plane as the source was.
    const rgb = image.data as Uint8Array;
    const planeBytes = layout.frameRows * frameColumns;
    for (let r = 0; r < ny; r++) {
      const from = (base + (ny - 1 - r) * nx) * 3;
      const pixel = (tileRow * ny + r) * frameColumns + tileColumn * nx;
      if (layout.planar === 0) out.set(rgb.subarray(from, from + nx * 3), frameOffset + pixel * 3);
      else {
        for (let c = 0; c < nx; c++) {
          for (let sample = 0; sample < 3; sample++) {
            out[frameOffset + sample * planeBytes + pixel + c] = rgb[from + c * 3 + sample]!;
          }
        }
      }
    }
    return 0;
  }
  let maxError = 0;
  const bytesPerSample = q.bits / 8;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const slope = image.header.sclSlope || 1;
  const intercept = image.header.sclSlope ? image.header.sclInter : 0;
  for (let r = 0; r < ny; r++) {
    const from = base + (ny - 1 - r) * nx;
    const rowStart = frameOffset + ((tileRow * ny + r) * frameColumns + tileColumn * nx) * bytesPerSample;
    for (let c = 0; c < nx; c++) {
      let value = Number(image.data[from + c]);
      if (!q.unchanged) {
        const real = value * slope + intercept;
        value = Math.round((real - q.intercept) / q.slope);
        maxError = Math.max(maxError, Math.abs(value * q.slope + q.intercept - real));
      }
      const offset = rowStart + c * bytesPerSample;
      if (q.bits === 8) view.setUint8(offset, value & 0xff);
      else if (q.bits === 16) view.setUint16(offset, value & 0xffff, true);
      else view.setUint32(offset, value >>> 0, true);
    }
  }
  return maxError;
}

/**
 * New Rescale Slope / Intercept: in the Pixel Value Transformation functional groups of an enhanced multi-frame
 * image (PS3.3 C.7.6.16.2.9), at the top level otherwise (and wherever the source had them).
 */
function setRescale(dataset: Dataset, slope: number, intercept: number): void {
  const set = (target: Dataset): void => {
    target.setStrings('RescaleSlope', formatDS(slope), 'DS');
    target.setStrings('RescaleIntercept', formatDS(intercept), 'DS');
  };
  let grouped = false;
  for (const groups of ['SharedFunctionalGroupsSequence', 'PerFrameFunctionalGroupsSequence']) {
    for (const item of dataset.items(groups)) {
      for (const transformation of item.items('PixelValueTransformationSequence')) {
        set(transformation);
        grouped = true;
      }
    }
  }
  if (!grouped || dataset.get(tagOf('RescaleSlope')) !== undefined) set(dataset);
}
