/** NIfTI-1 / NIfTI-2 read and write, bytes in and bytes out (no node: imports; .nii.gz files: io/nifti-file.ts). */
export {
  affineFromQuatern,
  baseAffine,
  effectiveXformCode,
  type Mat4,
  niftiAffine,
  type Quatern,
  qfacOf,
  quaternFromAffine,
  setAffine,
  sformAffine,
  XformCode,
} from './affine.ts';
export { DataType, type DatatypeInfo, datatypeInfo, datatypeOf, type NiftiVoxels } from './datatype.ts';
export {
  headerByteLength,
  type NiftiExtension,
  type NiftiHeader,
  parseNiftiHeader,
  readNiftiHeader,
} from './header.ts';
export {
  type EncodedNifti,
  emptyHeader,
  encodeNifti,
  encodeNiftiHeader,
  type NiftiImage,
  niftiShape,
  readNifti,
  voxelCount,
  type WriteNiftiOptions,
  writeNifti,
} from './image.ts';
export { type ApplyScalingOptions, applyScaling, type Scaling, scaledValue, scalingOf } from './scaling.ts';
