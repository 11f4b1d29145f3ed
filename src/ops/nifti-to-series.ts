/**
 * NIfTI -> a new CT or MR image series when there is no sidecar: geometry from the affine nibabel would use
 * (sform, else qform), the inverse of the DICOM -> NIfTI convention of GEOMETRY.md (row j = Rows-1-r, slice k
 * along the third axis), values stored as 16-bit integers with Rescale Slope / Intercept.
 */
import { type ImageModality, imageInstance, type PatientStudy } from '../core/dicom/image-instance.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { generateUid } from '../core/dicom/uid.ts';
import { MedvoxError } from '../core/errors.ts';
import { apply, column, dot, norm, normalize, rasToLps } from '../core/geometry/affine.ts';
import { type NiftiImage, niftiAffine } from '../core/nifti/index.ts';

export interface SeriesFromNiftiOptions extends PatientStudy {
  modality: ImageModality;
  seriesDescription?: string;
  seriesNumber?: number;
  studyInstanceUID?: string;
  frameOfReferenceUID?: string;
}

export interface SeriesFromNifti {
  files: DicomFile[];
  /** Largest |real value - stored value * slope + intercept| (0 for integer data that fits). */
  maxQuantisationError: number;
}

/** Slope / intercept that map [min, max] onto int16 (or keep the integers when they fit). */
function quantisation(image: NiftiImage): { slope: number; intercept: number; convert: (value: number) => number } {
  const scale = image.header.sclSlope && Number.isFinite(image.header.sclSlope) ? image.header.sclSlope : 1;
  const offset = image.header.sclSlope && Number.isFinite(image.header.sclInter) ? image.header.sclInter : 0;
  const data = image.data as ArrayLike<number | bigint>;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integers = true;
  for (let i = 0; i < data.length; i++) {
    const value = Number(data[i]);
    if (value < min) min = value;
    if (value > max) max = value;
    if (integers && !Number.isInteger(value)) integers = false;
  }
  if (integers && min >= -32768 && max <= 32767) return { slope: scale, intercept: offset, convert: (v) => v };
  const realMin = min * scale + offset;
  const realMax = max * scale + offset;
  const slope = realMax > realMin ? (realMax - realMin) / 65535 : 1;
  const intercept = realMin + 32768 * slope;
  return { slope, intercept, convert: (v) => Math.round((v * scale + offset - intercept) / slope) };
}

export function seriesFromNifti(image: NiftiImage, options: SeriesFromNiftiOptions, source?: string): SeriesFromNifti {
  const dim = image.header.dim;
  const rank = dim[0] ?? 3;
  const [nx = 1, ny = 1, nz = 1] = dim.slice(1);
  const nt = rank >= 4 ? (dim[4] ?? 1) : 1;
  if (nt > 1) {
    throw new MedvoxError('UNSUPPORTED_PIXEL_FORMAT', `a 4D NIfTI (${nt} volumes) cannot become one image series`, {
      file: source,
      hint: 'split it into 3D volumes first (e.g. fslsplit) and convert each',
    });
  }
  if (image.data instanceof Uint8Array && image.header.datatype === 128) {
    throw new MedvoxError('UNSUPPORTED_PIXEL_FORMAT', 'RGB NIfTI images cannot become a CT or MR series', {
      file: source,
    });
  }
  const lps = rasToLps(niftiAffine(image.header));
  const colX = column(lps, 0);
  const colY = column(lps, 1);
  // DICOM rows run against j (j = Rows-1-r): the column direction is -(second axis).
  const X = normalize(colX);
  const Y = normalize([-colY[0], -colY[1], -colY[2]]);
  if (Math.abs(dot(X, Y)) > 1e-4) {
    throw new MedvoxError(
      'GEOMETRY_INCONSISTENT',
      'the NIfTI affine is sheared within a slice: no DICOM plane can hold it',
      {
        file: source,
      },
    );
  }
  const sliceThickness = norm(column(lps, 2));
  const { slope, intercept, convert } = quantisation(image);
  const study = options.studyInstanceUID ?? generateUid();
  // A new study is dated now unless the caller says otherwise (General Study: Type 2, needed for DICOMDIR).
  const now = new Date();
  const today = now.toISOString().slice(0, 10).replace(/-/g, '');
  const time = now.toISOString().slice(11, 19).replace(/:/g, '');
  const series = generateUid();
  const frame = options.frameOfReferenceUID ?? generateUid();
  const data = image.data as ArrayLike<number | bigint>;
  const files: DicomFile[] = [];
  let maxQuantisationError = 0;
  const scale = image.header.sclSlope && Number.isFinite(image.header.sclSlope) ? image.header.sclSlope : 1;
  const offset = image.header.sclSlope && Number.isFinite(image.header.sclInter) ? image.header.sclInter : 0;
  for (let k = 0; k < nz; k++) {
    const pixels = new Int16Array(nx * ny);
    for (let r = 0; r < ny; r++) {
      const from = (k * ny + (ny - 1 - r)) * nx;
      for (let c = 0; c < nx; c++) {
        const value = Number(data[from + c]);
        const stored = convert(value);
        pixels[r * nx + c] = stored;
        maxQuantisationError = Math.max(
          maxQuantisationError,
          Math.abs(stored * slope + intercept - (value * scale + offset)),
        );
      }
    }
    const position = apply(lps, [0, ny - 1, k]);
    files.push(
      imageInstance({
        studyDate: today,
        studyTime: time,
        studyId: '1',
        ...options,
        modality: options.modality,
        studyInstanceUID: study,
        seriesInstanceUID: series,
        sopInstanceUID: generateUid(),
        frameOfReferenceUID: frame,
        seriesNumber: options.seriesNumber ?? 1,
        seriesDescription: options.seriesDescription ?? image.header.descrip ?? '',
        instanceNumber: k + 1,
        rows: ny,
        columns: nx,
        position,
        orientation: [...X, ...Y],
        pixelSpacing: [norm(colY), norm(colX)],
        sliceThickness,
        pixels,
        rescaleSlope: slope,
        rescaleIntercept: intercept,
      }),
    );
  }
  return { files, maxQuantisationError };
}
