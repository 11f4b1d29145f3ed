export {
  baseAffine,
  type Mat4,
  niftiAffine,
  qformAffine,
  quaternFromAffine,
  setAffine,
  sformAffine,
} from './affine.ts';
export { BITPIX, DataType, type NiftiHeader, parseHeader } from './header.ts';
export { datatypeOf, emptyHeader, type NiftiImage, type NiftiVoxels, readNifti, writeNifti } from './image.ts';
