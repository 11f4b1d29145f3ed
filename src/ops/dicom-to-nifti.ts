/**
 * DICOM -> NIfTI: every series below the inputs becomes one `.nii.gz` (or `.nii`) per volume plus a JSON sidecar
 * of the same name. A bad file or series is reported and the rest goes on; every output is written atomically.
 */
import { join } from 'node:path';
import { pixelInfo } from '../core/codecs/index.ts';
import { type DicomFile, elementLength } from '../core/dicom/model.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import type { StackWarning } from '../core/geometry/stack.ts';
import { bidsSummary } from '../core/sidecar/bids.ts';
import { DEFAULT_NAME_PATTERN, expandPattern, UniqueNames } from '../core/sidecar/naming.ts';
import { buildSidecar, type Sidecar, type SidecarSlice, sourcePixelElement } from '../core/sidecar/sidecar.ts';
import {
  correctTilt,
  equaliseSpacing,
  type FrameDecoder,
  type PlannedVolume,
  planVolumes,
  readVolume,
  type Volume,
  volumeHeader,
  volumeToNifti,
} from '../core/volume/index.ts';
import { overlayVolumes } from '../core/volume/overlay.ts';
import { seriesIdentity } from '../core/volume/records.ts';
import { ensureDirectory, writeFileAtomic } from '../io/atomic.ts';
import { DecodePool } from '../io/decode-pool.ts';
import { loadDicomInputs } from '../io/load-dicom.ts';
import { DEFAULT_GZIP_LEVEL, writeNiftiFile } from '../io/nifti-file.ts';
import { openNiftiStream } from '../io/nifti-stream.ts';
import { SliceCopier } from '../io/slice-copier.ts';
import { MEDVOX_VERSION } from '../version.ts';

/** Files with native pixel data in them before a conversion starts its slice worker (~25 ms to start). */
const COPIER_START_FILES = 64;
/** Uncompressed bytes per gzip member of slices compressed by two threads (whole slices; at least one). */
const MEMBER_BYTES = 2 * 1024 * 1024;
/**
 * Largest volume (uncompressed) whose gzip members are made by two threads: they are held until all are made and
 * written in order. Larger volumes stream (bounded memory).
 */
const MEMBERS_IN_MEMORY = 1024 * 1024 * 1024;

export interface Progress {
  phase: 'scan' | 'read' | 'convert' | 'write';
  done: number;
  total: number;
  message?: string;
}

export interface DicomToNiftiOptions {
  inputs: string[];
  outputDir: string;
  /** gzip the NIfTI (default true). */
  gzip?: boolean;
  /** Output name pattern (dcm2niix -f tokens; default `%s_%d`). */
  pattern?: string;
  /** Also write an equidistant `_Eq` copy of unevenly spaced volumes (resampled; never the default). */
  equalise?: boolean;
  /** Also write a tilt-corrected `_Tilt` copy of gantry-tilted volumes (resampled; never the default). */
  tilt?: boolean;
  onProgress?: (progress: Progress) => void;
}

export interface ConvertedVolume {
  nifti: string;
  sidecar: string;
  seriesInstanceUID: string;
  dims: number[];
  warnings: StackWarning[];
  /** The files the volume was made from. */
  sources: string[];
  /**
   * Other outputs by suffix: `ROI1`, `ROI2`, ... (overlay planes, always, as dcm2niix), and on request `Eq`
   * (equidistant slices) and `Tilt` (tilt removed).
   */
  derived: Record<string, string>;
}

export interface DicomToNiftiResult {
  outputs: ConvertedVolume[];
  /** Files that are not DICOM (ignored, like dcm2niix does). */
  notDicom: string[];
  /** Files or series that failed, with the typed error. */
  errors: MedvoxError[];
  /** DICOM objects without an image to convert (SR, RTSTRUCT, ...). */
  skipped: Array<{ source: string | undefined; reason: string }>;
}

const seriesKey = seriesIdentity;

export async function dicomToNifti(options: DicomToNiftiOptions): Promise<DicomToNiftiResult> {
  const report = options.onProgress ?? (() => {});
  await ensureDirectory(options.outputDir);
  report({ phase: 'scan', done: 0, total: 0 });
  const extension = options.gzip === false ? '.nii' : '.nii.gz';
  // Slices still in their files are copied (.nii) or compressed (.nii.gz) by two threads (see SliceCopier); its
  // worker starts once enough such files were seen to repay its start-up.
  const copier = !options.equalise && !options.tilt ? new SliceCopier() : undefined;
  let pixelsInFiles = 0;
  const loaded = await loadDicomInputs(options.inputs, {
    deferPixelData: true,
    onFile: (done) => report({ phase: 'read', done, total: 0 }),
    onHeadFirst: (file: DicomFile) => {
      if (copier && file.dataset.get(0x7fe00010)?.deferred?.file && ++pixelsInFiles === COPIER_START_FILES) {
        copier.start();
      }
    },
  });
  const result: DicomToNiftiResult = {
    outputs: [],
    notDicom: loaded.notDicom,
    errors: [...loaded.failed],
    skipped: [],
  };
  const series = new Map<string, DicomFile[]>();
  for (const file of loaded.files) {
    const problem = pixelProblem(file);
    if (problem) {
      // One damaged image must not take its series down: report it and convert the rest.
      result.errors.push(problem);
      continue;
    }
    const list = series.get(seriesKey(file)) ?? [];
    list.push(file);
    series.set(seriesKey(file), list);
  }
  const names = new UniqueNames();
  let done = 0;
  const pool = new DecodePool();
  const decode: FrameDecoder = (file, frameIndex) => pool.decode(file, frameIndex);
  try {
    for (const files of series.values()) {
      try {
        const plan = planVolumes(files, undefined, { releasePixelData: true });
        result.skipped.push(...plan.skipped);
        for (const volume of plan.volumes) {
          const output = await writeVolume(volume, files, options, names, extension, decode, copier);
          result.outputs.push(output);
          report({ phase: 'write', done: result.outputs.length, total: 0, message: output.nifti });
        }
      } catch (error) {
        const first = files[0]?.source;
        result.errors.push(toMedvoxError(error, first));
      }
      report({ phase: 'convert', done: ++done, total: series.size });
    }
  } finally {
    await pool.close();
    await copier?.close();
  }
  return result;
}

/** A cheap check that a file's pixel data can be decoded at all (attributes present, native data long enough). */
function pixelProblem(file: DicomFile): MedvoxError | undefined {
  const element = file.dataset.get(0x7fe00010);
  if (!element) return undefined;
  try {
    const info = pixelInfo(file.dataset, file.source);
    if ((element.bytes || element.deferred) && !element.fragments) {
      const subsampled = info.photometricInterpretation === 'YBR_FULL_422' ? 2 / 3 : 1;
      const needed = Math.ceil(
        (info.rows * info.columns * info.samplesPerPixel * subsampled * info.bitsAllocated * info.numberOfFrames) / 8,
      );
      if (elementLength(element) < needed) {
        return new MedvoxError(
          'PIXEL_DATA_LENGTH',
          `Pixel Data has ${elementLength(element)} bytes, the image attributes need ${needed}`,
          {
            file: file.source,
            hint: 'the file is truncated or its Rows / Columns / Bits Allocated are wrong',
          },
        );
      }
    }
    return undefined;
  } catch (error) {
    return toMedvoxError(error, file.source);
  }
}

/** A derived (resampled) output: documented suffix, a short sidecar; no DICOM model, it cannot be written back. */
async function writeDerived(
  derived: Volume,
  source: Omit<Volume, 'data'>,
  name: string,
  from: string,
  derivation: string,
  options: DicomToNiftiOptions,
  extension: string,
): Promise<string> {
  const path = join(options.outputDir, `${name}${extension}`);
  await writeNiftiFile(path, volumeToNifti(derived, `medvox ${MEDVOX_VERSION} derived`));
  const sidecar = {
    ...bidsSummary(source.first.dataset),
    ConversionSoftware: 'medvox',
    ConversionSoftwareVersion: MEDVOX_VERSION,
    MedvoxDerivedFrom: from,
    MedvoxDerivation: derivation,
    MedvoxWarnings: derived.warnings,
  };
  await writeFileAtomic(join(options.outputDir, `${name}.json`), `${JSON.stringify(sidecar, null, 1)}\n`);
  return path;
}

function volumeName(volume: Omit<Volume, 'data'>, pattern: string): string {
  let base = expandPattern(pattern, volume.first.dataset);
  // Derived distinctions dcm2niix also puts in names: echo and phase/magnitude.
  if (volume.echoNumber !== undefined && volume.echoNumber > 1) base += `_e${volume.echoNumber}`;
  if (/(^|\\)P(\\|$)|PHASE/.test(volume.imageType)) base += '_ph';
  return base;
}

async function writeVolume(
  planned: PlannedVolume,
  files: DicomFile[],
  options: DicomToNiftiOptions,
  names: UniqueNames,
  extension: string,
  decode: FrameDecoder,
  copier: SliceCopier | undefined,
): Promise<ConvertedVolume> {
  const { volume } = planned;
  const name = names.take(volumeName(volume, options.pattern ?? DEFAULT_NAME_PATTERN));
  const nifti = join(options.outputDir, `${name}${extension}`);
  const sidecarPath = join(options.outputDir, `${name}.json`);
  const bySource = new Map(files.map((file) => [file.source, file]));
  const bySop = new Map<string, number>();
  const instances: DicomFile[] = [];
  const slices: SidecarSlice[] = [];
  volume.slices.forEach((stack, t) => {
    stack.forEach((slice, k) => {
      const file = bySource.get(slice.source);
      if (!file) throw new MedvoxError('INTERNAL', `source of slice ${k} not found`, { file: slice.source });
      let index = bySop.get(slice.source ?? slice.sopInstanceUID);
      if (index === undefined) {
        index = instances.length;
        instances.push(file);
        bySop.set(slice.source ?? slice.sopInstanceUID, index);
      }
      slices.push({
        SOPInstanceUID: slice.sopInstanceUID,
        Instance: index,
        Frame: slice.frameIndex,
        ...(slice.tile === undefined ? {} : { Tile: slice.tile }),
        k,
        t,
        ImagePositionPatient: [...slice.position],
      });
    });
  });
  // Taken now: the slice loop releases pixel elements as it goes, and the sidecar may be built after it started.
  const sourcePixelData = sourcePixelElement(volume.first.dataset);
  const makeSidecar = (): Sidecar =>
    buildSidecar({
      sourcePixelData,
      instances,
      slices,
      warnings: volume.warnings,
      version: MEDVOX_VERSION,
      nifti: { sclSlope: volume.rescaleSlope, sclInter: volume.rescaleIntercept },
    });
  let sidecar: Sidecar;
  const description = `medvox ${MEDVOX_VERSION}`;
  const derived: Record<string, string> = {};
  // Overlay planes (before the pixel data is read and released): `_ROI<n>`, on the image grid, as dcm2niix.
  for (const overlay of overlayVolumes(volume, bySource)) {
    const how = `overlay plane ${overlay.number} (group ${(0x6000 + 2 * (overlay.number - 1)).toString(16)}): 1 where set`;
    const suffix = `ROI${overlay.number}`;
    derived[suffix] = await writeDerived(
      overlay.volume,
      volume,
      `${name}_${suffix}`,
      name + extension,
      how,
      options,
      extension,
    );
  }
  if (options.equalise || options.tilt) {
    // Derived copies resample the whole volume: read it into memory.
    sidecar = makeSidecar();
    const whole = await readVolume(planned, decode);
    await writeNiftiFile(nifti, volumeToNifti(whole, description));
    const equalised = options.equalise ? equaliseSpacing(whole) : undefined;
    if (equalised) {
      const how = `equidistant slices at the smallest gap (${equalised.spacing[2]} mm), linear interpolation`;
      derived.Eq = await writeDerived(equalised, whole, `${name}_Eq`, name + extension, how, options, extension);
    }
    const untilted = options.tilt ? correctTilt(whole) : undefined;
    if (untilted) {
      const how = 'gantry tilt removed: rows resampled onto an orthogonal grid, linear interpolation';
      derived.Tilt = await writeDerived(untilted, whole, `${name}_Tilt`, name + extension, how, options, extension);
    }
  } else {
    // Streamed: slices go from the DICOM files to the NIfTI file without the volume ever being in memory whole.
    const stream = await openNiftiStream(nifti, { gzip: extension === '.nii.gz' });
    try {
      const inFiles = copier ? planned.fileFrames() : undefined;
      const sliceBytes = inFiles ? inFiles.rows * inFiles.columns * inFiles.bytesPerSample : 0;
      const gzipInMemory = extension === '.nii.gz' && sliceBytes * (inFiles?.frames.length ?? 0) <= MEMBERS_IN_MEMORY;
      if (inFiles && (extension === '.nii' || gzipInMemory)) {
        // Slices still in their files: the worker starts copying them (.nii) or compressing members of them
        // (.nii.gz, written in order afterwards) while this thread builds the sidecar, then both do (SliceCopier).
        const { type, rows, columns, bytesPerSample, frames } = inFiles;
        let built: Sidecar | undefined;
        const meanwhile = (): void => {
          built = makeSidecar();
        };
        if (gzipInMemory) {
          const made = await copier!.gzipMembers(
            { rows, columns, bytesPerSample, voxOffset: 0, frames },
            Math.max(1, Math.floor(MEMBER_BYTES / sliceBytes)),
            DEFAULT_GZIP_LEVEL,
            meanwhile,
          );
          stream.adopt(type, rows * columns, frames.length, made.members, made.uint16Max);
        } else {
          await stream.place(type, rows * columns, frames.length, (fd, voxOffset) =>
            copier!
              .copy({ rows, columns, bytesPerSample, voxOffset, frames }, fd, meanwhile)
              .then((copied) => copied.uint16Max),
          );
        }
        sidecar = built ?? makeSidecar();
      } else {
        // Read now, slice by slice; the sidecar is built while the first chunks compress or write.
        const reading = planned.read(stream.sink, decode);
        reading.catch(() => {}); // awaited below, after the sidecar
        await new Promise((resolve) => setImmediate(resolve));
        sidecar = makeSidecar();
        await reading;
      }
      await stream.finish((sample) => volumeHeader(volume, sample, description));
    } catch (error) {
      stream.abort();
      throw error;
    }
  }
  await writeFileAtomic(sidecarPath, `${JSON.stringify(sidecar, null, 1)}\n`);
  return {
    nifti,
    sidecar: sidecarPath,
    seriesInstanceUID: volume.seriesInstanceUID,
    dims: volume.dims,
    warnings: volume.warnings,
    sources: instances.map((file) => file.source ?? ''),
    derived,
  };
}
