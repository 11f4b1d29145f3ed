/** Shared by the benchmarks: a synthetic CT series on disk and the median of repeated timings. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDicom } from '../src/core/dicom/writer.ts';
import { makePhantomSeries } from '../src/core/phantom/index.ts';

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `slices` 512x512 int16 CT slices of the asymmetric phantom, written as explicit VR little endian files. */
export function writeSyntheticCt(dir: string, slices: number): void {
  const files = makePhantomSeries({
    rows: 512,
    columns: 512,
    slices,
    pixelSpacing: 0.7,
    sliceSpacing: 1,
    halfSize: 150,
  });
  files.forEach((file, index) => {
    writeFileSync(join(dir, `CT${String(index).padStart(4, '0')}.dcm`), writeDicom(file));
  });
}
