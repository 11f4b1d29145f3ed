/**
 * The image volumes below some inputs (a series folder, files, a zip): read, grouped by series, assembled. Callers
 * that need only where the voxels are (RTSTRUCT, masks) ask for the geometry: headers are read, no pixel data is.
 */
import type { DicomFile } from '../core/dicom/model.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { assembleVolumes, planVolumes, type Volume } from '../core/volume/index.ts';
import { seriesIdentity } from '../core/volume/records.ts';
import { loadDicomInputs } from './load-dicom.ts';

/** A volume without its voxels: dims, affine, slices (positions, SOP Instance UIDs), metadata. */
export type VolumeGeometry = Omit<Volume, 'data'>;

export interface LoadedVolumes<V extends VolumeGeometry = Volume> {
  volumes: V[];
  /** Every DICOM file read (images and non-images such as RTSTRUCT / SEG found in the same folder). */
  files: DicomFile[];
  /** Files or series that could not be read or assembled. */
  errors: MedvoxError[];
}

function bySeries(files: DicomFile[]): DicomFile[][] {
  const series = new Map<string, DicomFile[]>();
  for (const file of files) {
    const key = seriesIdentity(file);
    const list = series.get(key) ?? [];
    list.push(file);
    series.set(key, list);
  }
  return [...series.values()];
}

/** Volumes with their voxels. */
export async function loadVolumes(inputs: readonly string[]): Promise<LoadedVolumes<Volume>> {
  const loaded = await loadDicomInputs(inputs);
  const errors = [...loaded.failed];
  const volumes: Volume[] = [];
  for (const files of bySeries(loaded.files)) {
    try {
      volumes.push(...(await assembleVolumes(files)).volumes);
    } catch (error) {
      errors.push(toMedvoxError(error, files[0]?.source));
    }
  }
  return { volumes, files: loaded.files, errors };
}

/** Volumes without voxels: headers only (native pixel data is never read). */
export async function loadVolumeGeometries(inputs: readonly string[]): Promise<LoadedVolumes<VolumeGeometry>> {
  const loaded = await loadDicomInputs(inputs, { deferPixelData: true });
  const errors = [...loaded.failed];
  const volumes: VolumeGeometry[] = [];
  for (const files of bySeries(loaded.files)) {
    try {
      volumes.push(...planVolumes(files).volumes.map((plan) => plan.volume));
    } catch (error) {
      errors.push(toMedvoxError(error, files[0]?.source));
    }
  }
  return { volumes, files: loaded.files, errors };
}

/** Exactly one volume in `loaded`, else a USAGE error that names what was found. */
export function singleVolume<V extends VolumeGeometry>(
  loaded: LoadedVolumes<V>,
  inputs: readonly string[],
  what: string,
): V {
  if (loaded.volumes.length === 0) {
    const reason = loaded.errors[0] ? ` (${loaded.errors[0].describe()})` : '';
    throw new MedvoxError('USAGE', `no DICOM image volume found in ${inputs.join(', ')}${reason}`, {
      hint: `${what} must name the folder (or files) of one image series`,
    });
  }
  if (loaded.volumes.length > 1) {
    const list = loaded.volumes
      .map((v) => `${v.first.dataset.string('SeriesDescription') ?? v.seriesInstanceUID} [${v.dims.join('x')}]`)
      .join('; ');
    throw new MedvoxError('USAGE', `${inputs.join(', ')} holds ${loaded.volumes.length} volumes: ${list}`, {
      hint: `${what} must name the folder (or files) of one image series`,
    });
  }
  return loaded.volumes[0]!;
}
