/** The image volumes below some inputs (a series folder, files, a zip): read, grouped by series, assembled. */
import type { DicomFile } from '../core/dicom/model.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { assembleVolumes, type Volume } from '../core/volume/index.ts';
import { seriesIdentity } from '../core/volume/records.ts';
import { loadDicomInputs } from './load-dicom.ts';

export interface LoadedVolumes {
  volumes: Volume[];
  /** Every DICOM file read (images and non-images such as RTSTRUCT / SEG found in the same folder). */
  files: DicomFile[];
  /** Files or series that could not be read or assembled. */
  errors: MedvoxError[];
}

export async function loadVolumes(inputs: readonly string[]): Promise<LoadedVolumes> {
  const loaded = await loadDicomInputs(inputs);
  const errors = [...loaded.failed];
  const series = new Map<string, DicomFile[]>();
  for (const file of loaded.files) {
    const key = seriesIdentity(file);
    const list = series.get(key) ?? [];
    list.push(file);
    series.set(key, list);
  }
  const volumes: Volume[] = [];
  for (const files of series.values()) {
    try {
      volumes.push(...(await assembleVolumes(files)).volumes);
    } catch (error) {
      errors.push(toMedvoxError(error, files[0]?.source));
    }
  }
  return { volumes, files: loaded.files, errors };
}

/** Exactly one image volume below `inputs`, else a USAGE error that names what was found. */
export async function loadSingleVolume(
  inputs: readonly string[],
  what = '--input',
): Promise<LoadedVolumes & { volume: Volume }> {
  const loaded = await loadVolumes(inputs);
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
  return { ...loaded, volume: loaded.volumes[0]! };
}
