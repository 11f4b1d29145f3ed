/** Volume -> NIfTI image (RAS sform + qform, scl_slope/inter, units mm/s), as dcm2niix writes it. */
import type { PixelArray } from '../codecs/index.ts';
import { lpsToRas } from '../geometry/affine.ts';
import { datatypeOf, emptyHeader, type NiftiHeader, type NiftiImage, setAffine } from '../nifti/index.ts';
import type { Volume } from './assemble.ts';

export function volumeToNifti(volume: Volume, description = ''): NiftiImage {
  let data = volume.data;
  // dcm2niix stores unsigned 16-bit data that fits as int16, which every tool reads the same way.
  if (data instanceof Uint16Array && maxOf(data) <= 32767)
    data = new Int16Array(data.buffer, data.byteOffset, data.length);
  return { header: volumeHeader(volume, data, description), data: data as NiftiImage['data'] };
}

/** The largest value of unsigned 16-bit voxels (to store them as int16 when they fit, as dcm2niix does). */
export function maxOf(data: Uint16Array): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > max) max = data[i]!;
  return max;
}

/** The NIfTI-1 header of a volume whose voxels are (or will be) stored in an array like `sample`. */
export function volumeHeader(volume: Omit<Volume, 'data'>, sample: PixelArray, description = ''): NiftiHeader {
  const [nx, ny, nz, nt] = volume.dims;
  const base = emptyHeader(1);
  return setAffine(
    {
      ...base,
      dim: [nt > 1 ? 4 : 3, nx, ny, nz, nt, 1, 1, 1],
      // Colour volumes are RGB24: three bytes per voxel, interleaved (as dcm2niix writes US / SC images).
      datatype: volume.samplesPerPixel === 3 ? 128 : datatypeOf(sample as NiftiImage['data']),
      sclSlope: volume.rescaleSlope,
      sclInter: volume.rescaleIntercept,
      descrip: description.slice(0, 79),
      pixdim: [1, volume.spacing[0], volume.spacing[1], volume.spacing[2], 1, 1, 1, 1],
    },
    lpsToRas(volume.affineLPS),
  );
}
