export { type AssemblyResult, assembleVolumes, type SliceSource, type Volume } from './assemble.ts';
export { equaliseSpacing } from './equalise.ts';
export { volumeToNifti } from './nifti.ts';
export { type SliceRecord, sliceRecords } from './records.ts';
export { correctTilt } from './tilt.ts';
