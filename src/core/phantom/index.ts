/**
 * An asymmetric phantom with a known orientation, for tests and demos. Voxel values are a function of the
 * patient (LPS) position, so every orientation of the same phantom shows the same anatomy:
 * a body box (value 100), marker A (1000) in the Left-Anterior-Superior corner and marker B (500) on the
 * Right-Posterior edge at mid height. A cube hides flips; this one does not.
 */
import { imageInstance } from '../dicom/image-instance.ts';
import type { DicomFile } from '../dicom/model.ts';
import { generateUid } from '../dicom/uid.ts';
import { add, cross, scale, type Vec3 } from '../geometry/affine.ts';

export type PhantomOrientation = 'axial' | 'coronal' | 'sagittal' | 'oblique';

export interface PhantomOptions {
  orientation?: PhantomOrientation;
  rows?: number;
  columns?: number;
  slices?: number;
  /** In-plane pixel size (mm). */
  pixelSpacing?: number;
  sliceSpacing?: number;
  /** Gantry tilt (degrees): each slice shifted along the column direction by tan(tilt) x its distance. */
  tiltDegrees?: number;
  modality?: 'CT' | 'MR';
  /** Seed for deterministic UIDs. */
  seed?: string;
  patientName?: string;
  patientId?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** Half size of the body box (mm). */
  halfSize?: number;
}

/** Half size H and marker size M of the default phantom, in mm. */
export const PHANTOM_HALF_SIZE = 40;
export const PHANTOM_MARKER_SIZE = 16;

/** Marker centres in patient LPS coordinates (mm) for a phantom of half size H. */
export function phantomMarkers(halfSize = PHANTOM_HALF_SIZE): { A: Vec3; B: Vec3 } {
  const h = halfSize;
  const m = PHANTOM_MARKER_SIZE;
  return { A: [h - m / 2, -h + m / 2, h - m / 2], B: [-h + m / 2, h - m / 2, 0] };
}

export function phantomValue(p: Vec3, halfSize = PHANTOM_HALF_SIZE): number {
  const h = halfSize;
  const m = PHANTOM_MARKER_SIZE;
  const [x, y, z] = p;
  if (Math.abs(x) > h || Math.abs(y) > h || Math.abs(z) > h) return 0;
  if (x > h - m && y < -h + m && z > h - m) return 1000;
  if (x < -h + m && y > h - m && Math.abs(z) < m / 2) return 500;
  return 100;
}

const ORIENTATIONS: Record<PhantomOrientation, [Vec3, Vec3]> = {
  axial: [
    [1, 0, 0],
    [0, 1, 0],
  ],
  coronal: [
    [1, 0, 0],
    [0, 0, -1],
  ],
  sagittal: [
    [0, 1, 0],
    [0, 0, -1],
  ],
  // Axial rotated 20 degrees about z and 15 degrees about x.
  oblique: [
    [Math.cos(0.349), Math.sin(0.349), 0],
    [-Math.sin(0.349) * Math.cos(0.262), Math.cos(0.349) * Math.cos(0.262), Math.sin(0.262)],
  ],
};

export function makePhantomSeries(options: PhantomOptions = {}): DicomFile[] {
  const orientation = options.orientation ?? 'axial';
  const rows = options.rows ?? 64;
  const columns = options.columns ?? 64;
  const slices = options.slices ?? 48;
  const halfSize = options.halfSize ?? PHANTOM_HALF_SIZE;
  const pixelSpacing = options.pixelSpacing ?? 1.5;
  const sliceSpacing = options.sliceSpacing ?? 2;
  const modality = options.modality ?? 'CT';
  const seed = options.seed ?? `phantom-${orientation}-${rows}x${columns}x${slices}`;
  const [X, Y] = ORIENTATIONS[orientation];
  const N = cross(X, Y);
  const studyUid = generateUid(`${seed}-study`);
  const seriesUid = generateUid(`${seed}-series`);
  const frameOfReference = generateUid(`${seed}-for`);
  // Centre the grid on the patient origin.
  const corner = add(
    add(scale(X, (-(columns - 1) * pixelSpacing) / 2), scale(Y, (-(rows - 1) * pixelSpacing) / 2)),
    scale(N, (-(slices - 1) * sliceSpacing) / 2),
  );
  const files: DicomFile[] = [];
  for (let k = 0; k < slices; k++) {
    const shift = Math.tan(((options.tiltDegrees ?? 0) * Math.PI) / 180) * (k - (slices - 1) / 2) * sliceSpacing;
    const position = add(add(corner, scale(N, k * sliceSpacing)), scale(Y, shift));
    const pixels = new Int16Array(rows * columns);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const p = add(position, add(scale(X, c * pixelSpacing), scale(Y, r * pixelSpacing)));
        pixels[r * columns + c] = phantomValue(p, halfSize);
      }
    }
    const file = imageInstance({
      modality,
      studyInstanceUID: studyUid,
      seriesInstanceUID: seriesUid,
      sopInstanceUID: generateUid(`${seed}-sop-${k}`),
      frameOfReferenceUID: frameOfReference,
      seriesNumber: options.seriesNumber ?? 1,
      seriesDescription: options.seriesDescription ?? `Phantom ${orientation}`,
      instanceNumber: k + 1,
      patientName: options.patientName ?? 'Phantom^Asymmetric',
      patientId: options.patientId ?? 'PHANTOM-001',
      patientSex: 'O',
      studyDate: '20260101',
      studyTime: '120000',
      studyId: '1',
      rows,
      columns,
      position,
      orientation: [...X, ...Y],
      pixelSpacing: [pixelSpacing, pixelSpacing],
      sliceThickness: sliceSpacing,
      pixels,
      rescaleSlope: 1,
      rescaleIntercept: modality === 'CT' ? -1024 : 0,
      imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      source: `phantom-${orientation}-${k + 1}.dcm`,
    });
    files.push(file);
  }
  return files;
}
