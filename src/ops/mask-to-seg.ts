/**
 * NIfTI labelmap -> DICOM-SEG (`medvox seg create`): the mask must sit on the grid of the source image (same
 * voxel centres within a tolerance; a mask stored in another axis order or with flipped axes of that same grid is
 * reordered), its labels are described by the label table, and the SEG references the source series.
 */
import { writeDicomParts } from '../core/dicom/writer.ts';
import { MedvoxError } from '../core/errors.ts';
import { apply, invert, type Mat4, multiply, rasToLps } from '../core/geometry/affine.ts';
import { affineDistance, sameVoxels } from '../core/geometry/grid.ts';
import { type LabelEntry, type LabelTable, resolveLabels } from '../core/labels/index.ts';
import { type LabelmapScan, scanLabelmap } from '../core/seg/encode.ts';
import type { ReferenceGrid } from '../core/seg/reference.ts';
import { buildSegmentation, type WritableSegmentationType } from '../core/seg/write.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readLabelTableFile } from '../io/label-table-file.ts';
import { type LabelmapImage, readLabelmapFile } from '../io/mask-file.ts';
import { scanMaskFile } from '../io/mask-scan.ts';
import { loadReferenceGrid } from '../io/reference-series.ts';
import { MEDVOX_VERSION } from '../version.ts';

export interface MaskToSegOptions {
  /** Source image: a DICOM series (folder, files, zip) or a NIfTI with its medvox sidecar. */
  image: string | string[];
  /** Labelmap NIfTI (.nii / .nii.gz), integer labels, 0 = background. */
  mask: string;
  /** Label table JSON (docs/segmentation.md); without it every label gets a default entry. */
  labels?: string;
  /** Or the table itself (library callers). */
  labelTable?: LabelTable;
  type?: WritableSegmentationType;
  output: string;
  /** Give labels missing from the label table default entries instead of failing. */
  autoLabel?: boolean;
  /** Keep frames without labelled pixels (default: skipped). */
  keepEmptyFrames?: boolean;
  /** Largest distance (mm) between mask and image voxel centres at the grid corners (default 0.01). */
  tolerance?: number;
  onProgress?: (progress: { phase: 'read' | 'encode' | 'write'; done: number; total: number }) => void;
}

export interface MaskToSegResult {
  output: string;
  type: WritableSegmentationType;
  segments: LabelEntry[];
  frames: number;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  /** Auto-labelled values, UIDs made up for an anonymised source, a reordered mask, ... */
  warnings: string[];
}

export const DEFAULT_GRID_TOLERANCE_MM = 0.01;

export async function maskToSeg(options: MaskToSegOptions): Promise<MaskToSegResult> {
  const report = options.onProgress ?? (() => {});
  report({ phase: 'read', done: 0, total: 3 });
  const type = options.type ?? 'BINARY';
  // A BINARY SEG needs only the mask's runs: scanned from the file a block at a time, never holding the labelmap
  // (mask-scan.ts; on a worker thread beside the header reads it was slower: the worker's start-up and the two
  // threads' competition for two CPUs cost more than it saved). A LABELMAP SEG needs the labels: the mask is read
  // first, so that it inflates on the libuv pool while the headers are read. A mask the block reader leaves to the
  // whole-file one (another datatype, another voxel order, ...) is read after the headers.
  const scanned = type === 'BINARY' ? scanMaskFile(options.mask) : undefined;
  const [mask, reference, table] = await Promise.all([
    scanned ? undefined : readLabelmapFile(options.mask),
    loadReferenceGrid(options.image),
    options.labelTable
      ? Promise.resolve(options.labelTable)
      : options.labels
        ? readLabelTableFile(options.labels)
        : undefined,
  ]);
  report({ phase: 'read', done: 3, total: 3 });
  const warnings = [...reference.warnings];
  const grid = reference.grid;
  const tolerance = options.tolerance ?? DEFAULT_GRID_TOLERANCE_MM;
  let labelmap: Uint8Array | Uint16Array | undefined;
  let encoded: LabelmapScan;
  if (scanned && sameVoxels(scanned.dims, rasToLps(scanned.affineRAS), grid.dims, grid.affineLPS, tolerance)) {
    encoded = scanned.scan;
  } else {
    // Reordered onto the grid first when stored in another voxel order; one pass for its labels and their slices.
    labelmap = onGrid(mask ?? (await readLabelmapFile(options.mask)), grid, tolerance, options.mask, warnings);
    encoded = scanLabelmap(labelmap, grid.dims);
  }
  if (encoded.labelValues.length === 0) {
    throw new MedvoxError('EMPTY_MASK', 'the mask has no labelled voxel (every value is 0)', {
      file: options.mask,
      hint: 'nothing to store: a SEG needs at least one segment',
    });
  }
  const resolved = resolveLabels(table, encoded.labelValues, { autoLabel: options.autoLabel, source: options.mask });
  if (table && resolved.autoLabelled.length > 0)
    warnings.push(`labels not in the label table got default entries: ${resolved.autoLabelled.join(', ')}`);
  report({ phase: 'encode', done: 0, total: 1 });
  const built = buildSegmentation({
    grid,
    labelmap,
    segments: resolved.segments,
    type,
    keepEmptyFrames: options.keepEmptyFrames,
    series: table ?? {},
    softwareVersion: MEDVOX_VERSION,
    encoded,
    // BINARY Pixel Data is packed from the labelmap's runs a chunk at a time while earlier chunks are written.
    deferPixelData: true,
  });
  warnings.push(...built.warnings);
  report({ phase: 'encode', done: 1, total: 1 });
  report({ phase: 'write', done: 0, total: 1 });
  await writeFileAtomic(options.output, writeDicomParts(built.file));
  report({ phase: 'write', done: 1, total: 1 });
  return {
    output: options.output,
    type,
    segments: resolved.segments,
    frames: built.frames,
    sopInstanceUID: built.file.dataset.string('SOPInstanceUID') ?? '',
    seriesInstanceUID: built.file.dataset.string('SeriesInstanceUID') ?? '',
    warnings,
  };
}

/**
 * The mask's labels in the grid's voxel order. Same dims and affine within `tolerance`: as is. The same voxel
 * centres in another axis order / direction (a signed permutation): reordered, with a warning. Else GRID_MISMATCH.
 */
export function onGrid(
  mask: LabelmapImage,
  grid: ReferenceGrid,
  tolerance: number,
  source: string,
  warnings: string[],
): Uint8Array | Uint16Array {
  const maskLPS = rasToLps(mask.affineRAS);
  const [gx, gy, gz] = grid.dims;
  const sameDims = mask.dims[0] === gx && mask.dims[1] === gy && mask.dims[2] === gz;
  if (sameVoxels(mask.dims, maskLPS, grid.dims, grid.affineLPS, tolerance)) return mask.labels;
  // mask voxel -> grid voxel
  const toGrid: Mat4 = multiply(invert(grid.affineLPS), maskLPS);
  const permutation = signedPermutation(toGrid, mask.dims, grid.dims, tolerance, grid);
  if (permutation) {
    warnings.push('the mask is stored in another voxel order than the image; it was reordered onto the image grid');
    return reorder(mask, permutation, grid.dims);
  }
  const describe = (m: Mat4) =>
    `origin (${apply(m, [0, 0, 0])
      .map((v) => v.toFixed(3))
      .join(', ')}) mm, ` +
    `voxel (${[0, 1, 2].map((c) => Math.hypot(m[c]!, m[4 + c]!, m[8 + c]!).toFixed(4)).join(', ')}) mm`;
  const why = sameDims
    ? `its voxels are up to ${affineDistance(grid.affineLPS, maskLPS, grid.dims).toFixed(3)} mm from the image's (tolerance ${tolerance} mm)`
    : `it is ${mask.dims.join('x')}, the image ${grid.dims.join('x')}`;
  throw new MedvoxError('GRID_MISMATCH', `the mask is not on the image grid: ${why}`, {
    file: source,
    hint: `mask LPS ${describe(maskLPS)}; image LPS ${describe(grid.affineLPS)}. Resample the mask onto the image grid first`,
  });
}

interface Permutation {
  /** For each grid axis: the mask axis and whether it is reversed. */
  axes: Array<{ from: number; flip: boolean }>;
}

function signedPermutation(
  toGrid: Mat4,
  maskDims: readonly number[],
  gridDims: readonly number[],
  tolerance: number,
  grid: ReferenceGrid,
): Permutation | undefined {
  const axes: Permutation['axes'] = [];
  for (let g = 0; g < 3; g++) {
    let found: { from: number; flip: boolean } | undefined;
    for (let m = 0; m < 3; m++) {
      const value = toGrid[g * 4 + m]!;
      if (Math.abs(Math.abs(value) - 1) < 1e-4) found = { from: m, flip: value < 0 };
      else if (Math.abs(value) > 1e-4) return undefined;
    }
    if (!found || maskDims[found.from] !== gridDims[g]) return undefined;
    const offset = toGrid[g * 4 + 3]!;
    const expected = found.flip ? gridDims[g]! - 1 : 0;
    const spacing = g === 0 ? grid.pixelSpacing[1] : g === 1 ? grid.pixelSpacing[0] : grid.sliceSpacing;
    if (Math.abs(offset - expected) * spacing > tolerance) return undefined;
    axes.push(found);
  }
  if (new Set(axes.map((a) => a.from)).size !== 3) return undefined;
  return { axes };
}

function reorder(mask: LabelmapImage, permutation: Permutation, gridDims: readonly number[]): Uint8Array | Uint16Array {
  const [gx, gy, gz] = gridDims as [number, number, number];
  const out = new (mask.labels.constructor as new (n: number) => Uint8Array | Uint16Array)(mask.labels.length);
  const strides = [1, mask.dims[0], mask.dims[0] * mask.dims[1]];
  const axisStep = permutation.axes.map(({ from, flip }) => (flip ? -strides[from]! : strides[from]!));
  const axisStart = permutation.axes.map(({ from, flip }, g) => (flip ? (gridDims[g]! - 1) * strides[from]! : 0));
  let o = 0;
  for (let k = 0; k < gz; k++) {
    for (let j = 0; j < gy; j++) {
      let source = axisStart[0]! + axisStart[1]! + axisStart[2]! + k * axisStep[2]! + j * axisStep[1]!;
      for (let i = 0; i < gx; i++) {
        out[o++] = mask.labels[source]!;
        source += axisStep[0]!;
      }
    }
  }
  return out;
}
