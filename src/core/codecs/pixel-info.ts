/** The Image Pixel Module attributes (PS3.3 C.7.6.3) that decide how Pixel Data is laid out. */

import type { Dataset } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';

export interface ImagePixelInfo {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** 0 interleaved (R1G1B1 R2G2B2 ...), 1 by plane (R1R2.. G1G2.. B1B2..). */
  planarConfiguration: number;
  photometricInterpretation: string;
  numberOfFrames: number;
  /** Float Pixel Data (7FE0,0008) or Double Float Pixel Data (7FE0,0009). */
  floatPixelData: boolean;
}

export function pixelInfo(dataset: Dataset, source?: string): ImagePixelInfo {
  const required = (keyword: string): number => {
    const value = dataset.number(keyword);
    if (value === undefined || !Number.isFinite(value)) {
      throw new MedvoxError('MISSING_ATTRIBUTE', `${keyword} is missing or invalid, so the pixel data cannot be read`, {
        file: source,
      });
    }
    return value;
  };
  const floatPixelData = dataset.has(0x7fe00008) || dataset.has(0x7fe00009);
  const rows = required('Rows');
  const columns = required('Columns');
  const bitsAllocated = floatPixelData ? (dataset.has(0x7fe00009) ? 64 : 32) : required('BitsAllocated');
  const bitsStored = dataset.number('BitsStored') ?? bitsAllocated;
  const frames = dataset.number('NumberOfFrames');
  return {
    rows,
    columns,
    samplesPerPixel: dataset.number('SamplesPerPixel') ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: dataset.number('HighBit') ?? bitsStored - 1,
    pixelRepresentation: dataset.number('PixelRepresentation') ?? 0,
    planarConfiguration: dataset.number('PlanarConfiguration') ?? 0,
    photometricInterpretation: dataset.string('PhotometricInterpretation') ?? 'MONOCHROME2',
    numberOfFrames: frames !== undefined && Number.isFinite(frames) && frames > 0 ? Math.round(frames) : 1,
    floatPixelData,
  };
}

/** Bytes of one native (uncompressed) frame; 1-bit frames may not be byte aligned (use frameBits). */
export function frameBits(info: ImagePixelInfo): number {
  return info.rows * info.columns * info.samplesPerPixel * info.bitsAllocated;
}
