/**
 * What the archive derives from stored instances for the viewer: each image series as voxel volumes (raw
 * little-endian voxels in a blob + a header: the converter's own assembly, so the voxels equal `medvox convert`'s),
 * each SEG as a labelmap on its image volume, and PNG previews. Ids are derived from the UIDs, so a re-run
 * replaces rather than duplicates.
 */
import { createHash } from 'node:crypto';
import type { PixelArray } from '../core/codecs/index.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { readDicom } from '../core/dicom/reader.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { lpsToRas } from '../core/geometry/affine.ts';
import { parseSegmentation, segmentationMasks } from '../core/seg/read.ts';
import { referenceGrid } from '../core/seg/reference.ts';
import { planVolumes, readVolume, volumeToNifti } from '../core/volume/index.ts';
import type { DecodePool } from '../io/decode-pool.ts';
import { readDicomFileHeadFirst } from '../io/dicom-file.ts';
import type { Archive } from '../store/archive.ts';
import type { VolumeHeader, VolumeRow } from '../store/types.ts';
import { SEGMENTATION_SOP_CLASSES } from './ingest.ts';
import { renderSlice } from './render.ts';

export function volumeId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 20);
}

/**
 * The instances of a series. From a folder blob store, header first (readDicomFileHeadFirst): native Pixel Data
 * stays in the blob and is read once, straight into the volume, instead of each file whole and then copied.
 */
async function readSeriesFiles(archive: Archive, seriesInstanceUID: string): Promise<DicomFile[]> {
  const rows = archive.index.instances({ seriesInstanceUID });
  return Promise.all(
    rows.map(async (row) => {
      const path = archive.blobs.path(row.blob);
      if (path === undefined) return readDicom(await archive.blobs.get(row.blob), { source: row.sopInstanceUID });
      try {
        return readDicomFileHeadFirst(path);
      } catch (error) {
        throw toMedvoxError(error).withFile(row.sopInstanceUID);
      }
    }),
  );
}

function datatypeOf(data: PixelArray): VolumeHeader['datatype'] {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

function range(data: PixelArray): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const value = Number(data[i]);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
}

function bytesOf(data: PixelArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Volumes of one image series (none for SEG / RTSTRUCT / non-image series). */
export async function buildSeriesVolumes(
  archive: Archive,
  seriesInstanceUID: string,
  options: { jobId?: string; decodePool?: DecodePool } = {},
): Promise<VolumeRow[]> {
  const rows = archive.index.instances({ seriesInstanceUID });
  if (rows.length === 0 || rows.every((row) => SEGMENTATION_SOP_CLASSES.has(row.sopClassUID))) return [];
  const files = await readSeriesFiles(archive, seriesInstanceUID);
  const { volumes: plans } = planVolumes(files);
  const out: VolumeRow[] = [];
  for (const [n, plan] of plans.entries()) {
    const volume = await readVolume(
      plan,
      options.decodePool ? (file, frame) => options.decodePool!.decode(file, frame) : undefined,
    );
    // The converter's NIfTI voxels (uint16 that fits becomes int16, as dcm2niix stores it).
    const nifti = volumeToNifti(volume);
    const data = nifti.data as PixelArray;
    const { min, max } = range(data);
    const first = volume.first.dataset;
    const windowCenter = first.numbers('WindowCenter')[0];
    const windowWidth = first.numbers('WindowWidth')[0];
    const bytes = bytesOf(data);
    const header: VolumeHeader = {
      dims: volume.dims,
      datatype: datatypeOf(data),
      bytesPerVoxel: data.BYTES_PER_ELEMENT,
      affineLPS: volume.affineLPS,
      affineRAS: lpsToRas(volume.affineLPS),
      spacing: volume.spacing,
      rescaleSlope: volume.rescaleSlope,
      rescaleIntercept: volume.rescaleIntercept,
      min,
      max,
      windowCenter: Number.isFinite(windowCenter) ? windowCenter : undefined,
      windowWidth: Number.isFinite(windowWidth) ? windowWidth : undefined,
      samplesPerPixel: volume.samplesPerPixel,
      byteLength: bytes.byteLength,
      sopInstanceUIDs: (volume.slices[0] ?? []).map((slice) => slice.sopInstanceUID),
    };
    const blob = await archive.blobs.put(bytes);
    const row: VolumeRow = {
      id: volumeId(seriesInstanceUID, String(n)),
      seriesInstanceUID,
      studyInstanceUID: rows[0]!.studyInstanceUID,
      kind: 'image',
      header,
      blob: blob.key,
      jobId: options.jobId,
    };
    archive.index.putVolume(row);
    out.push(row);
  }
  return out;
}

/** Labelmaps of the study's SEGs whose image series is in the archive (on that series' grid). */
export async function buildLabelmaps(
  archive: Archive,
  studyInstanceUID: string,
  options: { jobId?: string } = {},
): Promise<{ volumes: VolumeRow[]; warnings: string[] }> {
  const volumes: VolumeRow[] = [];
  const warnings: string[] = [];
  for (const segmentation of archive.index.segmentations({ studyInstanceUID })) {
    const referenced = segmentation.referencedSeriesUID;
    if (!referenced) continue;
    const image = archive.index.volumes({ seriesInstanceUID: referenced }).find((row) => row.kind === 'image');
    if (!image) continue;
    try {
      const segRow = archive.index.instance(segmentation.sopInstanceUID)!;
      const segFile = readDicom(await archive.blobs.get(segRow.blob), { source: segmentation.sopInstanceUID });
      const grid = referenceGrid(await readSeriesFiles(archive, referenced), { seriesInstanceUID: referenced });
      const masks = await segmentationMasks(parseSegmentation(segFile), grid);
      if (!masks.labelmap) continue;
      const { min, max } = range(masks.labelmap);
      const bytes = bytesOf(masks.labelmap);
      const blob = await archive.blobs.put(bytes);
      const row: VolumeRow = {
        id: volumeId(segmentation.sopInstanceUID, 'labelmap'),
        seriesInstanceUID: segmentation.seriesInstanceUID,
        studyInstanceUID,
        kind: 'labelmap',
        imageVolumeId: image.id,
        segmentationUID: segmentation.sopInstanceUID,
        header: {
          ...image.header,
          dims: [grid.dims[0], grid.dims[1], grid.dims[2], 1],
          datatype: masks.labelmap instanceof Uint16Array ? 'uint16' : 'uint8',
          bytesPerVoxel: masks.labelmap.BYTES_PER_ELEMENT,
          rescaleSlope: 1,
          rescaleIntercept: 0,
          min,
          max,
          windowCenter: undefined,
          windowWidth: undefined,
          samplesPerPixel: 1,
          byteLength: bytes.byteLength,
        },
        blob: blob.key,
        jobId: options.jobId,
      };
      archive.index.putVolume(row);
      volumes.push(row);
    } catch (error) {
      warnings.push(toMedvoxError(error, segmentation.sopInstanceUID).describe());
    }
  }
  return { volumes, warnings };
}

/** The image volume a study is previewed with, and its labelmap when there is one. */
export function previewVolumes(archive: Archive, studyInstanceUID: string): { image: VolumeRow; labelmap?: VolumeRow } {
  const all = archive.index.volumes({ studyInstanceUID });
  const labelmap = all.find((row) => row.kind === 'labelmap');
  const image =
    (labelmap && all.find((row) => row.id === labelmap.imageVolumeId)) ?? all.find((row) => row.kind === 'image');
  if (!image) throw new MedvoxError('NOT_FOUND', `study ${studyInstanceUID} has no image volume to preview`);
  return { image, labelmap };
}

export function segmentColours(
  archive: Archive,
  segmentationUID: string | undefined,
): Map<number, readonly [number, number, number]> {
  const colours = new Map<number, readonly [number, number, number]>();
  if (!segmentationUID) return colours;
  for (const segment of archive.index.segmentations({ sopInstanceUID: segmentationUID })[0]?.segments ?? [])
    if (segment.colour) colours.set(segment.labelValue, segment.colour);
  return colours;
}

/** PNG preview of a study slice (image + overlay), rendered now. */
export async function renderStudyPreview(
  archive: Archive,
  studyInstanceUID: string,
  slice: number,
): Promise<Uint8Array> {
  const { image, labelmap } = previewVolumes(archive, studyInstanceUID);
  return renderSlice(archive.blobs, image, slice, {
    overlay: labelmap && { volume: labelmap, colours: segmentColours(archive, labelmap.segmentationUID) },
  });
}

/** Render and store the previews of every slice of the study's preview volume (the original upload flow). */
export async function storePreviews(
  archive: Archive,
  studyInstanceUID: string,
  options: { jobId?: string; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<number> {
  const { image } = previewVolumes(archive, studyInstanceUID);
  const slices = image.header.dims[2];
  for (let k = 0; k < slices; k++) {
    if (options.signal?.aborted) throw new MedvoxError('CANCELLED', 'the job was cancelled');
    const png = await renderStudyPreview(archive, studyInstanceUID, k);
    const blob = await archive.blobs.put(png);
    archive.index.putPreview({ studyInstanceUID, slice: k, volumeId: image.id, blob: blob.key, jobId: options.jobId });
    options.onProgress?.(k + 1, slices);
  }
  return slices;
}
