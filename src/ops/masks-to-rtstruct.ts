/**
 * Labelmap (NIfTI on the image grid) -> RT Structure Set: one ROI per label (ROI Number = label value, name and
 * colour from the label table), contours traced per slice by marching squares (core/rtstruct/contours.ts) and
 * placed in LPS at each slice's true position. The mask must sit on the image grid: same dimensions, and the same
 * voxel -> patient mapping within `gridTolerance` at the grid's corners; anything else is GRID_MISMATCH.
 */
import { readFile } from 'node:fs/promises';
import { type DicomFile, TransferSyntax } from '../core/dicom/model.ts';
import { generateUid, isValidUid } from '../core/dicom/uid.ts';
import { needsImplicitVR, writeDicom } from '../core/dicom/writer.ts';
import { MedvoxError } from '../core/errors.ts';
import { add, lpsToRas, scale } from '../core/geometry/affine.ts';
import { affineDistance } from '../core/geometry/grid.ts';
import { orientationCode } from '../core/geometry/orientation.ts';
import { parseLabelTableText } from '../core/labels/index.ts';
import { applyScaling, type NiftiImage, niftiAffine, niftiShape, scalingOf } from '../core/nifti/index.ts';
import { type PixelBox, traceLoops } from '../core/rtstruct/contours.ts';
import { defaultColor, type RoiLabel } from '../core/rtstruct/labels.ts';
import type { RGB } from '../core/rtstruct/structure-set.ts';
import { buildStructureSet, type ReferencedImage, type RoiToWrite } from '../core/rtstruct/write.ts';
import { gridOfVolume } from '../core/volume/index.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadVolumeGeometries, singleVolume } from '../io/load-volume.ts';
import { readNiftiFile } from '../io/nifti-file.ts';
import { MEDVOX_VERSION } from '../version.ts';

export interface MasksToRtstructOptions {
  /** The image series (folder, files or zip) the mask was drawn on. */
  image: string[];
  /** Labelmap NIfTI: 0 background, each other integer one structure. */
  mask: string;
  /** Label table JSON (value, name, color); without it ROIs are named label_<value>. */
  labels?: string;
  output: string;
  /** Largest distance (mm) between where the mask and the image put a corner voxel; default 0.001. */
  gridTolerance?: number;
  seriesDescription?: string;
  structureSetLabel?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface WrittenRoi {
  number: number;
  name: string;
  color: RGB;
  voxels: number;
  contours: number;
  points: number;
}

export interface MasksToRtstructResult {
  output: string;
  rois: WrittenRoi[];
  /** Things the user should know (UIDs generated for an anonymised series, labels without voxels ...). */
  warnings: string[];
  transferSyntaxUID: string;
}

export const DEFAULT_GRID_TOLERANCE = 1e-3;

/** Mask voxels as integer labels (scl_slope applied), or BAD_VALUE for non-integer values. */
function labelValues(image: NiftiImage, file: string): ArrayLike<number> {
  const scaled = scalingOf(image.header) ? applyScaling(image) : (image.data as ArrayLike<number>);
  for (let v = 0; v < scaled.length; v++) {
    const value = scaled[v]!;
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new MedvoxError('BAD_VALUE', `voxel ${v} holds ${value}: a labelmap holds integers 0-65535`, {
        file,
        hint: 'give a label mask (0 background, 1..n structures)',
      });
    }
  }
  return scaled;
}

function dateTime(now: Date): { date: string; time: string } {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return {
    date: `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`,
    time: `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`,
  };
}

export async function masksToRtstruct(options: MasksToRtstructOptions): Promise<MasksToRtstructResult> {
  const loaded = await loadVolumeGeometries(options.image);
  const volume = singleVolume(loaded, options.image, '--image');
  const { files } = loaded;
  const warnings: string[] = [];
  if (volume.dims[3] > 1)
    throw new MedvoxError('USAGE', `the image is a 4D series (${volume.dims.join('x')}); give a 3D image series`);
  const grid = gridOfVolume(volume);
  const [nx, ny, nz] = volume.dims;

  // ---- the mask must be on the image grid ----
  const mask = await readNiftiFile(options.mask);
  const shape = niftiShape(mask.header);
  const spatial = shape.slice(0, 3);
  const extra = shape.slice(3).reduce((product, n) => product * n, 1);
  if (extra !== 1 || spatial.length < 3 || spatial[0] !== nx || spatial[1] !== ny || spatial[2] !== nz) {
    throw new MedvoxError('GRID_MISMATCH', `the mask is ${shape.join('x')}, the image ${nx}x${ny}x${nz}`, {
      file: options.mask,
      hint: 'the mask must be on the image grid (as medvox convert writes the image); resample it first',
    });
  }
  const imageAffine = lpsToRas(volume.affineLPS);
  const maskAffine = niftiAffine(mask.header);
  const distance = affineDistance(imageAffine, maskAffine, [nx, ny, nz]);
  const tolerance = options.gridTolerance ?? DEFAULT_GRID_TOLERANCE;
  if (!(distance <= tolerance)) {
    const orientation = `mask ${orientationCode(maskAffine)}, image ${orientationCode(imageAffine)}`;
    throw new MedvoxError(
      'GRID_MISMATCH',
      `the mask places voxels up to ${distance.toFixed(4)} mm from the image's (${orientation}; tolerance ${tolerance} mm)`,
      {
        file: options.mask,
        hint: 'the mask must share the image affine: same voxel order and position (flipped or shifted masks are refused)',
      },
    );
  }
  const values = labelValues(mask, options.mask);

  // ---- voxels and bounding boxes per label and slice (rows in DICOM order) ----
  const sliceSize = nx * ny;
  const boxes = new Map<number, Map<number, PixelBox>>();
  const counts = new Map<number, number>();
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const r = ny - 1 - j;
      for (let i = 0; i < nx; i++, v++) {
        const value = values[v]!;
        if (value === 0) continue;
        counts.set(value, (counts.get(value) ?? 0) + 1);
        let slices = boxes.get(value);
        if (!slices) {
          slices = new Map();
          boxes.set(value, slices);
        }
        const box = slices.get(k);
        if (!box) slices.set(k, { minC: i, maxC: i, minR: r, maxR: r });
        else {
          if (i < box.minC) box.minC = i;
          if (i > box.maxC) box.maxC = i;
          if (r < box.minR) box.minR = r;
          if (r > box.maxR) box.maxR = r;
        }
      }
    }
  }
  if (counts.size === 0) {
    throw new MedvoxError('EMPTY_MASK', 'the mask has no labelled voxel: there is nothing to contour', {
      file: options.mask,
    });
  }

  // ---- label table ----
  let labels: RoiLabel[];
  if (options.labels) {
    let text: string;
    try {
      text = await readFile(options.labels, 'utf8');
    } catch (error) {
      throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: options.labels });
    }
    // The label table model shared with DICOM-SEG (docs/segmentation.md): names and colours are what RTSTRUCT keeps.
    labels = parseLabelTableText(text, options.labels).segments.map((entry) => ({
      value: entry.labelValue,
      name: entry.name,
      color: [...entry.colour] as RoiLabel['color'],
    }));
    const defined = new Set(labels.map((label) => label.value));
    const missing = [...counts.keys()].filter((value) => !defined.has(value)).sort((a, b) => a - b);
    if (missing.length > 0) {
      throw new MedvoxError(
        'LABEL_NOT_IN_TABLE',
        `the mask holds label value(s) ${missing.join(', ')} that ${options.labels} does not define`,
        { file: options.mask, hint: 'add them to the label table, or remove them from the mask' },
      );
    }
    const unused = labels.filter((label) => !counts.has(label.value));
    if (unused.length > 0) {
      warnings.push(
        `label(s) ${unused.map((l) => `${l.value} "${l.name}"`).join(', ')} have no voxel in the mask: no ROI written for them`,
      );
    }
    labels = labels.filter((label) => counts.has(label.value));
  } else {
    labels = [...counts.keys()]
      .sort((a, b) => a - b)
      .map((value) => ({ value, name: `label_${value}`, color: undefined }));
  }

  // ---- references: UIDs of the images, repaired (and said so) when an anonymiser blanked them ----
  const bySource = new Map(files.map((file) => [file.source, file]));
  const images: ReferencedImage[] = volume.slices[0]!.map((slice) => {
    const file = bySource.get(slice.source) as DicomFile;
    const sopClassUID = file.dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID') ?? '';
    return { sopClassUID, sopInstanceUID: slice.sopInstanceUID };
  });
  if (images.some((image) => !isValidUid(image.sopClassUID) || !isValidUid(image.sopInstanceUID))) {
    throw new MedvoxError('MISSING_ATTRIBUTE', 'some images have no valid SOP Class / SOP Instance UID to reference', {
      file: volume.first.source,
      hint: 'an RTSTRUCT must reference its images by UID; give the series with its UIDs',
    });
  }
  const first = volume.first.dataset;
  const uid = (keyword: string, what: string): string => {
    const value = first.string(keyword);
    if (value && isValidUid(value)) return value;
    warnings.push(
      `the images have no ${what} (${keyword}): a new one was generated, so the RTSTRUCT will not match the series by it`,
    );
    return generateUid();
  };
  const studyInstanceUID = uid('StudyInstanceUID', 'Study Instance UID');
  const seriesInstanceUID = uid('SeriesInstanceUID', 'Series Instance UID');
  const frameOfReferenceUID = uid('FrameOfReferenceUID', 'Frame of Reference UID');

  // ---- contours ----
  const [dr, dc] = grid.pixelSpacing;
  const rowStep = scale(grid.rowCosines, dc);
  const columnStep = scale(grid.columnCosines, dr);
  const rois: RoiToWrite[] = [];
  const written: WrittenRoi[] = [];
  labels.forEach((label, index) => {
    const contours: RoiToWrite['contours'] = [];
    let points = 0;
    const slices = [...boxes.get(label.value)!.entries()].sort((a, b) => a[0] - b[0]);
    for (const [k, box] of slices) {
      const base = k * sliceSize;
      const loops = traceLoops((c, r) => values[base + (ny - 1 - r) * nx + c] === label.value, box);
      const origin = grid.positions[k]!;
      for (const loop of loops) {
        const data: number[] = [];
        for (let p = 0; p < loop.length; p += 2) {
          const point = add(origin, add(scale(rowStep, loop[p]!), scale(columnStep, loop[p + 1]!)));
          data.push(point[0], point[1], point[2]);
        }
        points += loop.length / 2;
        contours.push({ image: images[k]!, points: data });
      }
    }
    const color = label.color ?? defaultColor(label.value);
    rois.push({ number: label.value, name: label.name, color, contours });
    written.push({
      number: label.value,
      name: label.name,
      color,
      voxels: counts.get(label.value)!,
      contours: contours.length,
      points,
    });
    options.onProgress?.(index + 1, labels.length);
  });

  const { date, time } = dateTime(new Date());
  const file = buildStructureSet({
    image: volume.first,
    studyInstanceUID,
    seriesInstanceUID,
    frameOfReferenceUID,
    images,
    rois,
    sopInstanceUID: generateUid(),
    rtSeriesInstanceUID: generateUid(),
    date,
    time,
    softwareVersion: `medvox ${MEDVOX_VERSION}`,
    ...(options.seriesDescription ? { seriesDescription: options.seriesDescription } : {}),
    ...(options.structureSetLabel ? { structureSetLabel: options.structureSetLabel } : {}),
  });
  // Explicit VR unless a value (a long contour) is too long for a DS length field: then implicit VR (PS3.5 7.1.3).
  const transferSyntaxUID = needsImplicitVR(file.dataset)
    ? TransferSyntax.ImplicitVRLittleEndian
    : TransferSyntax.ExplicitVRLittleEndian;
  await writeFileAtomic(options.output, writeDicom(file, { transferSyntaxUID }));
  return { output: options.output, rois: written, warnings, transferSyntaxUID };
}
