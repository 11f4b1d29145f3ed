/**
 * Overlay planes (PS3.3 C.9.2, groups 6000-601E): 1-bit graphics stored beside the image (Overlay Data), as
 * volumes on the image's grid, one per overlay group, as dcm2niix writes them (`_ROI1` for group 6000, ...).
 * Overlays embedded in the high bits of Pixel Data (retired) are not read.
 */
import type { DicomFile } from '../dicom/model.ts';
import type { Volume } from './assemble.ts';

export interface OverlayVolume {
  /** 1 for group 6000, 2 for 6002, ... (the `_ROI<n>` suffix). */
  number: number;
  volume: Volume;
}

const tagIn = (group: number, element: number): number => ((group << 16) | element) >>> 0;

/** The overlay planes of a volume's slices (0 / 1 voxels, rows flipped like the image); [] when there are none. */
export function overlayVolumes(
  volume: Omit<Volume, 'data'>,
  filesBySource: Map<string | undefined, DicomFile>,
): OverlayVolume[] {
  const [columns, rows, nz, nt] = volume.dims;
  const groups = new Set<number>();
  for (const stack of volume.slices) {
    for (const slice of stack) {
      const dataset = filesBySource.get(slice.source)?.dataset;
      if (!dataset) continue;
      for (let group = 0x6000; group <= 0x601e; group += 2) if (dataset.has(tagIn(group, 0x3000))) groups.add(group);
    }
  }
  const out: OverlayVolume[] = [];
  for (const group of [...groups].sort((a, b) => a - b)) {
    const data = new Uint8Array(columns * rows * nz * nt);
    let marked = 0;
    volume.slices.forEach((stack, t) => {
      stack.forEach((slice, k) => {
        const dataset = filesBySource.get(slice.source)?.dataset;
        const bits = dataset?.get(tagIn(group, 0x3000))?.bytes;
        if (!dataset || !bits) return;
        const overlayRows = dataset.number(tagIn(group, 0x0010)) ?? rows;
        const overlayColumns = dataset.number(tagIn(group, 0x0011)) ?? columns;
        const [originRow = 1, originColumn = 1] = dataset.numbers(tagIn(group, 0x0050));
        // Overlay frames of a multi-frame image start at Image Frame Origin (1-based).
        const frameOrigin = dataset.number(tagIn(group, 0x0051)) ?? 1;
        const frame = slice.frameIndex - (frameOrigin - 1);
        const frames = dataset.number(tagIn(group, 0x0015)) ?? 1;
        if (frame < 0 || frame >= frames) return;
        const base = (t * nz + k) * columns * rows;
        const first = frame * overlayRows * overlayColumns;
        for (let r = 0; r < overlayRows; r++) {
          const row = r + originRow - 1;
          if (row < 0 || row >= rows) continue;
          for (let c = 0; c < overlayColumns; c++) {
            const column = c + originColumn - 1;
            if (column < 0 || column >= columns) continue;
            // Bits are packed from the least significant bit of each byte (PS3.5 8.1.2, 8.2 Overlay Data).
            const bit = first + r * overlayColumns + c;
            if (((bits[bit >> 3] ?? 0) >> (bit & 7)) & 1) {
              data[base + (rows - 1 - row) * columns + column] = 1;
              marked++;
            }
          }
        }
      });
    });
    if (marked === 0) continue;
    out.push({
      number: (group - 0x6000) / 2 + 1,
      volume: { ...volume, data, samplesPerPixel: 1, rescaleSlope: 1, rescaleIntercept: 0 },
    });
  }
  return out;
}
