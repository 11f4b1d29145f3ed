export {
  type AssemblyResult,
  assembleVolumes,
  type FileFrames,
  type FrameDecoder,
  type PixelArrayConstructor,
  type PlannedVolume,
  planVolumes,
  readVolume,
  type SliceSource,
  type Volume,
  type VolumeSink,
} from './assemble.ts';
export { equaliseSpacing } from './equalise.ts';
export { gridOfVolume } from './grid.ts';
export { maxOf, volumeHeader, volumeToNifti } from './nifti.ts';
export { type SliceRecord, sliceRecords } from './records.ts';
export { correctTilt } from './tilt.ts';
