/**
 * The reference image of a segmentation from what a user names on the command line: a DICOM series (folder, files,
 * zip, DICOMDIR) or a NIfTI written by medvox with its sidecar (the sidecar holds every source attribute, so the
 * grid and the source SOP Instance UIDs come back without the DICOM files). Headers only: no pixel data is decoded.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { datasetFromJson } from '../core/dicom/json.ts';
import { type DicomFile, TransferSyntax } from '../core/dicom/model.ts';
import { readDicom } from '../core/dicom/reader.ts';
import { isNotDicom, MedvoxError, toMedvoxError } from '../core/errors.ts';
import { type ReferenceGrid, ReferencePlanes, referenceGrid } from '../core/seg/reference.ts';
import { instanceJson, isSidecar, type Sidecar } from '../core/sidecar/sidecar.ts';
import { type FileHeader, HEAD_CHUNK, HeaderReader, readDicomFileHeadFirst } from './dicom-file.ts';
import { isDicomdir, loadDicomInputs } from './load-dicom.ts';
import { type InputFile, listInputs } from './scan.ts';

export function isNiftiPath(path: string): boolean {
  return /\.nii(\.gz)?$/i.test(path);
}

export interface LoadedReference {
  grid: ReferenceGrid;
  /** Files that could not be read (the grid was built from the rest). */
  warnings: string[];
}

export async function loadReferenceGrid(
  inputs: string | string[],
  options: { seriesInstanceUID?: string } = {},
): Promise<LoadedReference> {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const first = list[0] ?? '';
  if (list.length === 1 && isNiftiPath(first))
    return { grid: gridFromSidecar(first, await readSidecarBeside(first)), warnings: [] };
  const read = await readPlanes(list);
  if (!read) {
    // A DICOMDIR among the inputs: the loader follows its references.
    const loaded = await loadDicomInputs(list, { deferPixelData: true });
    const warnings = loaded.failed.map((error) => error.describe());
    if (loaded.files.length === 0) throw noReference(list);
    return { grid: referenceGrid(loaded.files, { ...options, source: list.join(', ') }), warnings };
  }
  if (read.inputs.length === 0) throw noReference(list);
  const { firstFile, ...grid } = read.planes.grid({ ...options, source: list.join(', ') });
  return { grid: { ...grid, first: await readWhole(read.inputs[firstFile]!) }, warnings: read.warnings };
}

function noReference(list: string[]): MedvoxError {
  return new MedvoxError('IO_ERROR', 'no DICOM file in the reference', {
    file: list.join(', '),
    hint: 'give the folder of the source image series, or a NIfTI converted by medvox with its sidecar',
  });
}

/**
 * The planes of every DICOM file below the inputs, from headers read up to Pixel Data and indexed, not parsed
 * (io/dicom-file.ts HeaderReader: one reused buffer, each file's planes taken before the next read). Undefined when
 * a DICOMDIR is among them. Files that are not DICOM are skipped; unreadable ones are warnings, as the loader has them.
 */
async function readPlanes(
  list: string[],
): Promise<{ planes: ReferencePlanes; inputs: InputFile[]; warnings: string[] } | undefined> {
  const candidates = await listInputs(list);
  const reader = new HeaderReader(HEAD_CHUNK);
  const planes = new ReferencePlanes();
  const inputs: InputFile[] = [];
  const warnings: string[] = [];
  for (const [index, input] of candidates.entries()) {
    // Headers are read synchronously: let other work (a server's requests) run now and then.
    if (index % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    let header: FileHeader;
    try {
      header = input.path !== undefined ? reader.read(input.path) : reader.fromBytes(await input.read(), input.name);
    } catch (error) {
      const typed = toMedvoxError(error, input.name);
      if (!isNotDicom(typed)) warnings.push(typed.describe());
      continue;
    }
    if (isDicomdir(header)) return undefined;
    inputs.push(input);
    planes.add({ meta: header.meta, dataset: header.dataset, source: input.name });
  }
  return { planes, inputs, warnings };
}

/** The source instance a SEG copies Patient / Study attributes from, read again as the full model (header first). */
async function readWhole(input: InputFile): Promise<DicomFile> {
  try {
    if (input.path !== undefined) return readDicomFileHeadFirst(input.path);
    return readDicom(await input.read(), { source: input.name });
  } catch (error) {
    throw toMedvoxError(error, input.name);
  }
}

async function readSidecarBeside(nifti: string): Promise<Sidecar> {
  const path = join(dirname(nifti), `${basename(nifti).replace(/\.nii(\.gz)?$/i, '')}.json`);
  if (!existsSync(path)) {
    throw new MedvoxError('USAGE', 'a NIfTI image needs the medvox sidecar beside it to be a segmentation reference', {
      file: nifti,
      hint: `expected ${path} (written by medvox convert --dicom2nifti); or give the DICOM series`,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw toMedvoxError(new MedvoxError('BAD_VALUE', `the sidecar is not JSON: ${(error as Error).message}`), path);
  }
  if (!isSidecar(parsed)) {
    throw new MedvoxError('BAD_VALUE', 'the JSON beside the NIfTI is not a medvox sidecar (no DicomPerInstance)', {
      file: path,
      hint: 'a dcm2niix BIDS sidecar does not hold the source UIDs; give the DICOM series instead',
    });
  }
  return parsed;
}

/** The source instances, rebuilt from the sidecar (headers only), then the same grid as from the DICOM files. */
export function gridFromSidecar(nifti: string, sidecar: Sidecar): ReferenceGrid {
  const files: DicomFile[] = sidecar.DicomPerInstance.map((_, index) => ({
    meta: datasetFromJson({ ...sidecar.DicomMetaCommon, ...(sidecar.DicomMetaPerInstance[index] ?? {}) }),
    dataset: datasetFromJson(instanceJson(sidecar, index)),
    transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
    hasPreamble: true,
    source: `${nifti} (sidecar instance ${index + 1})`,
  }));
  if (sidecar.Slices.some((slice) => slice.t !== 0)) {
    throw new MedvoxError('GEOMETRY_INCONSISTENT', 'the NIfTI is 4D: a segmentation reference must be one 3D volume', {
      file: nifti,
    });
  }
  return referenceGrid(files, { source: nifti });
}
