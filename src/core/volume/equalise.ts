/**
 * The `_Eq` derived volume (dcm2niix FILENAMING.md): an unevenly spaced stack resampled to equidistant slices at
 * its smallest gap, by linear interpolation between the two nearest acquired slices. Made only on request; the
 * acquired stack stays the primary output. Slice positions are interpolated too, so a tilted stack keeps its shear.
 */
import { add, dot, scale, sub, type Vec3 } from '../geometry/affine.ts';
import { sliceNormal } from '../geometry/stack.ts';
import type { Volume } from './assemble.ts';

/** The equidistant copy of a volume, or undefined when its spacing is already uniform. */
export function equaliseSpacing(volume: Volume): Volume | undefined {
  if (!volume.warnings.some((warning) => warning.kind === 'UNEVEN_SPACING')) return undefined;
  const [nx, ny, nz, nt] = volume.dims;
  const positions = volume.slices[0]!.map((slice) => slice.position);
  const rowCosines = volume.first.dataset.numbers('ImageOrientationPatient');
  const normal =
    rowCosines.length >= 6
      ? sliceNormal({
          rowCosines: [rowCosines[0]!, rowCosines[1]!, rowCosines[2]!],
          columnCosines: [rowCosines[3]!, rowCosines[4]!, rowCosines[5]!],
        })
      : ([volume.affineLPS[2]!, volume.affineLPS[6]!, volume.affineLPS[10]!] as Vec3);
  const distances = positions.map((position) => dot(normal, position));
  const gaps = distances.slice(1).map((d, i) => d - distances[i]!);
  const step = Math.min(...gaps.filter((gap) => gap > 1e-4));
  if (!Number.isFinite(step)) return undefined;
  const count = Math.round((distances[nz - 1]! - distances[0]!) / step) + 1;
  const sliceSize = nx * ny;
  const data = new Float32Array(sliceSize * count * nt);
  const newPositions: Vec3[] = [];
  for (let m = 0; m < count; m++) {
    const target = distances[0]! + m * step;
    let k = 0;
    while (k < nz - 2 && distances[k + 1]! < target - 1e-6) k++;
    const span = distances[k + 1]! - distances[k]!;
    const weight = span > 0 ? Math.min(1, Math.max(0, (target - distances[k]!) / span)) : 0;
    newPositions.push(add(positions[k]!, scale(sub(positions[k + 1]!, positions[k]!), weight)));
    for (let t = 0; t < nt; t++) {
      const below = (t * nz + k) * sliceSize;
      const above = (t * nz + k + 1) * sliceSize;
      const out = (t * count + m) * sliceSize;
      for (let i = 0; i < sliceSize; i++) {
        const a = Number(volume.data[below + i]);
        const b = Number(volume.data[above + i]);
        data[out + i] = (a + (b - a) * weight) * volume.rescaleSlope + volume.rescaleIntercept;
      }
    }
  }
  const affineLPS = [...volume.affineLPS];
  const stepVector = count > 1 ? sub(newPositions[1]!, newPositions[0]!) : scale(normal, step);
  affineLPS[2] = stepVector[0];
  affineLPS[6] = stepVector[1];
  affineLPS[10] = stepVector[2];
  return {
    ...volume,
    dims: [nx, ny, count, nt],
    data,
    affineLPS,
    spacing: [volume.spacing[0], volume.spacing[1], step],
    rescaleSlope: 1,
    rescaleIntercept: 0,
    // Derived: no one-to-one source slices any more.
    slices: [],
    warnings: volume.warnings.filter(
      (warning) => warning.kind !== 'UNEVEN_SPACING' && warning.kind !== 'MISSING_SLICES',
    ),
  };
}
