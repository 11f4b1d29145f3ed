/**
 * RTSTRUCT -> NIfTI masks: every ROI's closed planar contours rasterised onto the grid of the referenced image
 * series (core/rtstruct/rasterize.ts), written as one uint8 mask per non-empty ROI, a labelmap (later ROIs win
 * where ROIs overlap; the overlaps are reported) and a label table JSON. Everything the result could get wrong is
 * a typed error or a warning in the result: contours off the grid or outside the image, references to images that
 * were not given, a Frame of Reference that does not match.
 */
import { join } from 'node:path';
import { MedvoxError } from '../core/errors.ts';
import type { ImageGrid } from '../core/geometry/grid.ts';
import { sliceDistances } from '../core/geometry/grid.ts';
import type { StackWarning } from '../core/geometry/stack.ts';
import { defaultSliceTolerance, type RasterWarning, rasterizeROI } from '../core/rtstruct/rasterize.ts';
import { type RGB, readStructureSet, type StructureSet } from '../core/rtstruct/structure-set.ts';
import { gridOfVolume, volumeToNifti } from '../core/volume/index.ts';
import { ensureDirectory, writeFileAtomic } from '../io/atomic.ts';
import { readDicomFile } from '../io/dicom-file.ts';
import { loadVolumeGeometries, type VolumeGeometry } from '../io/load-volume.ts';
import { writeNiftiFile } from '../io/nifti-file.ts';
import { MEDVOX_VERSION } from '../version.ts';

export interface RtstructToNiftiOptions {
  rtstruct: string;
  /** The referenced image series (folder, files or zip). */
  reference: string[];
  outputDir: string;
  /** gzip the NIfTI files (default true). */
  gzip?: boolean;
  /** Also write a mask for ROIs without voxels (default: listed in the label table only). */
  emptyMasks?: boolean;
  /** Contour plane -> slice tolerance along the normal (mm); default half the smallest slice gap. */
  sliceTolerance?: number;
  /** Rasterise even when the RTSTRUCT names another Frame of Reference / other images (by position only). */
  ignoreReferences?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export type RtstructWarning =
  | RasterWarning
  | { kind: 'EMPTY_ROI'; rois: Array<{ roi: number; name: string }> }
  | { kind: 'OVERLAP'; pairs: Array<{ kept: string; covered: string; voxels: number }> }
  | { kind: 'REFERENCED_IMAGES_MISSING'; count: number; examples: string[] }
  | { kind: 'FRAME_OF_REFERENCE_MISMATCH'; rtstruct: string[]; image: string | undefined }
  | { kind: 'REFERENCES_IGNORED'; message: string }
  | { kind: 'REFERENCE_GEOMETRY'; warnings: StackWarning[] }
  | { kind: 'READ'; message: string };

/** Warnings after which the masks miss part of what the RTSTRUCT holds (the CLI exits 1 on them). */
export const LOSSY_WARNINGS: ReadonlySet<RtstructWarning['kind']> = new Set(['CONTOUR_OFF_GRID', 'CONTOUR_CLIPPED']);

export interface RoiOutput {
  value: number;
  roiNumber: number;
  name: string;
  color: RGB;
  voxels: number;
  /** File name of the mask (relative to the output folder), null when the ROI has no voxel and no mask was asked. */
  mask: string | null;
  interpretedType?: string;
}

export interface RtstructToNiftiResult {
  labelmap: string;
  labelTable: string;
  rois: RoiOutput[];
  warnings: RtstructWarning[];
  /** True when a warning says that contours could not be placed (LOSSY_WARNINGS). */
  lossy: boolean;
  grid: ImageGrid;
}

const DEFAULT_ROI_COLOR: RGB = [255, 0, 0];

function safeFileName(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+|_+$/g, '');
  return cleaned || 'roi';
}

interface Choice {
  volume: VolumeGeometry;
  score: number;
  sopMatches: number;
  seriesMatch: boolean;
  forMatch: boolean;
}

/** The volume the structure set refers to: most referenced instances, then series, then Frame of Reference. */
function chooseVolume(volumes: VolumeGeometry[], set: StructureSet): Choice {
  const choices = volumes.map((volume): Choice => {
    const sopMatches = volume.slices[0]!.filter((slice) =>
      set.referencedSOPInstanceUIDs.has(slice.sopInstanceUID),
    ).length;
    const seriesMatch = set.referencedSeriesUIDs.includes(volume.seriesInstanceUID);
    const frame = volume.first.dataset.string('FrameOfReferenceUID');
    const forMatch = frame !== undefined && set.frameOfReferenceUIDs.includes(frame);
    return {
      volume,
      sopMatches,
      seriesMatch,
      forMatch,
      score: sopMatches * 4 + (seriesMatch ? 2 : 0) + (forMatch ? 1 : 0),
    };
  });
  choices.sort((a, b) => b.score - a.score);
  return choices[0]!;
}

export async function rtstructToNifti(options: RtstructToNiftiOptions): Promise<RtstructToNiftiResult> {
  const file = await readDicomFile(options.rtstruct);
  const set = readStructureSet(file);
  const loaded = await loadVolumeGeometries(options.reference);
  if (loaded.volumes.length === 0) {
    const reason = loaded.errors[0] ? ` (${loaded.errors[0].describe()})` : '';
    throw new MedvoxError('USAGE', `no image series found in ${options.reference.join(', ')}${reason}`, {
      hint: '--reference must name the folder (or files) of the image series the RTSTRUCT was drawn on',
    });
  }
  const warnings: RtstructWarning[] = set.warnings.map((message) => ({ kind: 'READ', message }));
  const choice = chooseVolume(loaded.volumes, set);
  const { volume } = choice;
  const imageFrame = volume.first.dataset.string('FrameOfReferenceUID');
  const namesAnything =
    set.referencedSOPInstanceUIDs.size > 0 ||
    set.referencedSeriesUIDs.length > 0 ||
    set.frameOfReferenceUIDs.length > 0;
  if (choice.score === 0 && namesAnything) {
    const message =
      `the RTSTRUCT refers to Frame of Reference ${set.frameOfReferenceUIDs.join(', ') || '(none)'}, ` +
      `series ${set.referencedSeriesUIDs.join(', ') || '(none)'} and ${set.referencedSOPInstanceUIDs.size} images; ` +
      `none of them is in ${options.reference.join(', ')} (Frame of Reference ${imageFrame ?? 'missing'})`;
    if (!options.ignoreReferences) {
      throw new MedvoxError('REFERENCE_MISMATCH', message, {
        file: options.rtstruct,
        hint: 'give the image series the structures were drawn on, or --ignore-references to place contours by position anyway',
      });
    }
    warnings.push({ kind: 'REFERENCES_IGNORED', message });
  } else if (!choice.forMatch && set.frameOfReferenceUIDs.length > 0) {
    warnings.push({ kind: 'FRAME_OF_REFERENCE_MISMATCH', rtstruct: set.frameOfReferenceUIDs, image: imageFrame });
  }
  const present = new Set(volume.slices[0]!.map((slice) => slice.sopInstanceUID));
  const missing = [...set.referencedSOPInstanceUIDs].filter((uid) => !present.has(uid));
  if (missing.length > 0)
    warnings.push({ kind: 'REFERENCED_IMAGES_MISSING', count: missing.length, examples: missing.slice(0, 3) });
  if (volume.warnings.length > 0) warnings.push({ kind: 'REFERENCE_GEOMETRY', warnings: volume.warnings });
  if (volume.dims[3] > 1) {
    throw new MedvoxError('USAGE', `the reference is a 4D series (${volume.dims.join('x')}); give a 3D image series`, {
      file: options.rtstruct,
    });
  }

  const grid = gridOfVolume(volume);
  const distances = sliceDistances(grid);
  const sliceTolerance = options.sliceTolerance ?? defaultSliceTolerance(grid);
  const sliceOfInstance = new Map(volume.slices[0]!.map((slice, k) => [slice.sopInstanceUID, k]));
  const [nx, ny, nz] = volume.dims;
  const voxelCount = nx * ny * nz;
  await ensureDirectory(options.outputDir);
  const extension = options.gzip === false ? '.nii' : '.nii.gz';

  // Label values: the ROI Numbers when they fit a labelmap (1..65535), else 1..n in Structure Set order.
  const useRoiNumbers = set.rois.every((roi) => Number.isInteger(roi.number) && roi.number >= 1 && roi.number <= 65535);
  const values = set.rois.map((roi, index) => (useRoiNumbers ? roi.number : index + 1));
  const maxValue = Math.max(0, ...values);
  const labelmap = maxValue <= 255 ? new Uint8Array(voxelCount) : new Uint16Array(voxelCount);
  const overlaps = new Map<string, number>();
  const usedNames = new Set<string>(['labelmap']);
  const rois: RoiOutput[] = [];
  const empty: Array<{ roi: number; name: string }> = [];
  const writes: Promise<void>[] = [];
  const pending = new Set<Promise<void>>();
  const maskImage = (data: Uint8Array | Uint16Array) =>
    volumeToNifti(
      { ...volume, data, dims: [nx, ny, nz, 1], rescaleSlope: 1, rescaleIntercept: 0, samplesPerPixel: 1 },
      `medvox ${MEDVOX_VERSION} rtstruct`,
    );

  for (let index = 0; index < set.rois.length; index++) {
    const roi = set.rois[index]!;
    const value = values[index]!;
    const raster = rasterizeROI(roi, grid, { distances, sliceTolerance, sliceOfInstance });
    warnings.push(...raster.warnings);
    const voxels = raster.mask;
    if (voxels) {
      for (const [start, end] of raster.extents) {
        for (let v = start; v < end; v++) {
          if (voxels[v] === 0) continue;
          const previous = labelmap[v]!;
          if (previous !== 0 && previous !== value) {
            const key = `${previous}|${value}`;
            overlaps.set(key, (overlaps.get(key) ?? 0) + 1);
          }
          labelmap[v] = value;
        }
      }
    }
    let mask: string | null = null;
    if (raster.voxels > 0 || options.emptyMasks) {
      let base = safeFileName(roi.name);
      if (usedNames.has(base.toLowerCase())) base = `${base}_${roi.number}`;
      usedNames.add(base.toLowerCase());
      mask = `${base}${extension}`;
      // A few writes in flight: gzip runs on the thread pool while the next ROI is rasterised.
      const write = writeNiftiFile(
        join(options.outputDir, mask),
        maskImage(voxels ?? new Uint8Array(voxelCount)),
      ).finally(() => pending.delete(write));
      write.catch(() => {}); // awaited below; this only keeps an early failure from being reported twice
      pending.add(write);
      writes.push(write);
      if (pending.size >= 4) await Promise.race(pending);
    }
    if (raster.voxels === 0) empty.push({ roi: roi.number, name: roi.name });
    rois.push({
      value,
      roiNumber: roi.number,
      name: roi.name,
      color: roi.color ?? DEFAULT_ROI_COLOR,
      voxels: raster.voxels,
      mask,
      ...(roi.interpretedType ? { interpretedType: roi.interpretedType } : {}),
    });
    options.onProgress?.(index + 1, set.rois.length);
  }
  if (empty.length > 0) warnings.push({ kind: 'EMPTY_ROI', rois: empty });
  if (overlaps.size > 0) {
    const nameOf = new Map(rois.map((roi) => [roi.value, roi.name]));
    warnings.push({
      kind: 'OVERLAP',
      pairs: [...overlaps.entries()].map(([key, voxels]) => {
        const [covered, kept] = key.split('|').map(Number) as [number, number];
        return { kept: nameOf.get(kept)!, covered: nameOf.get(covered)!, voxels };
      }),
    });
  }
  const labelmapPath = join(options.outputDir, `labelmap${extension}`);
  writes.push(writeNiftiFile(labelmapPath, maskImage(labelmap)));
  await Promise.all(writes);
  const labelTable = join(options.outputDir, 'labels.json');
  const table = {
    MedvoxVersion: MEDVOX_VERSION,
    source: options.rtstruct,
    structureSetLabel: set.label ?? null,
    labelmap: `labelmap${extension}`,
    overlapRule: 'where ROIs overlap, the labelmap holds the later ROI (Structure Set ROI Sequence order)',
    labels: rois,
    // The true position of every slice: with uneven spacing or missing slices the NIfTI affine's constant step
    // places later slices approximately (as the converted image), these are exact.
    imagePositions: grid.positions,
    warnings,
  };
  await writeFileAtomic(labelTable, `${JSON.stringify(table, null, 1)}\n`);
  return {
    labelmap: labelmapPath,
    labelTable,
    rois,
    warnings,
    lossy: warnings.some((warning) => LOSSY_WARNINGS.has(warning.kind)),
    grid,
  };
}

/** One line for a person. */
export function describeRtstructWarning(warning: RtstructWarning): string {
  const roi = (w: { roi: number; name: string }) => `ROI ${w.roi} "${w.name}"`;
  switch (warning.kind) {
    case 'CONTOUR_OFF_GRID':
      return `${roi(warning)}: ${warning.contours} contour(s) on no slice of the image (planes at ${warning.distances.slice(0, 5).join(', ')} mm along the normal): not rasterised`;
    case 'CONTOUR_CLIPPED':
      return `${roi(warning)}: ${warning.contours} contour(s) reach outside the image: only the part inside is in the mask`;
    case 'CONTOUR_REFERENCE_DISAGREES':
      return `${roi(warning)}: ${warning.contours} contour(s) lie on another slice than the image they reference (placed by position)`;
    case 'CONTOUR_NOT_PLANAR':
      return `${roi(warning)}: ${warning.contours} contour(s) are not planar (spread ${warning.maxSpread} mm along the normal)`;
    case 'CONTOUR_NOT_AREA':
      return `${roi(warning)}: ${warning.contours} contour(s) of type ${warning.types.join(', ')} enclose no area: not rasterised`;
    case 'EMPTY_ROI':
      return `${warning.rois.length} ROI(s) have no voxel on this image: ${warning.rois
        .slice(0, 8)
        .map((r) => r.name)
        .join(', ')}${warning.rois.length > 8 ? ', ...' : ''} (listed in the label table, no mask file)`;
    case 'OVERLAP':
      return `ROIs overlap (the labelmap keeps the later ROI; the per-ROI masks are complete): ${warning.pairs
        .slice(0, 6)
        .map((p) => `${p.kept} over ${p.covered} (${p.voxels} voxels)`)
        .join(', ')}${warning.pairs.length > 6 ? ', ...' : ''}`;
    case 'REFERENCED_IMAGES_MISSING':
      return `the RTSTRUCT references ${warning.count} image(s) that are not in the reference series (e.g. ${warning.examples.join(', ')})`;
    case 'FRAME_OF_REFERENCE_MISMATCH':
      return `the RTSTRUCT names Frame of Reference ${warning.rtstruct.join(', ')}, the images ${warning.image ?? '(none)'}; it references these images, so they are used`;
    case 'REFERENCES_IGNORED':
      return `${warning.message}; placed by position (--ignore-references)`;
    case 'REFERENCE_GEOMETRY':
      return `reference series: ${warning.warnings.map((w) => w.kind).join(', ')}: contours are placed at the true slice positions; the NIfTI affine has the first gap as slice step (as medvox convert writes the image), labels.json lists every slice position`;
    case 'READ':
      return warning.message;
  }
}
