/**
 * The `_Tilt` derived volume (dcm2niix FILENAMING.md): a gantry-tilted (sheared) stack resampled onto an
 * orthogonal grid, rows interpolated linearly along the column direction. The grid grows in the row direction so
 * that every acquired voxel stays inside. Made only on request; the sheared stack stays the primary output.
 */
import { add, column, dot, normalize, scale, sub, type Vec3 } from '../geometry/affine.ts';
import type { Volume } from './assemble.ts';

export function correctTilt(volume: Volume): Volume | undefined {
  if (!volume.warnings.some((warning) => warning.kind === 'GANTRY_TILT')) return undefined;
  const [nx, ny, nz, nt] = volume.dims;
  const A = volume.affineLPS;
  const cx = column(A, 0);
  const cy = column(A, 1);
  const step = column(A, 2);
  const normal = normalize(cross3(cx, cy));
  const along = dot(step, normal);
  const stepN = scale(normal, along);
  // Shear per slice, in rows of the j axis (cy points along +j).
  const shear = sub(step, stepN);
  const rowsPerSlice = dot(shear, cy) / dot(cy, cy);
  const total = rowsPerSlice * (nz - 1);
  const extra = Math.ceil(Math.abs(total));
  const nyOut = ny + extra;
  // Output row 0 sits where the lowest source row of any slice sits.
  const jOffset = Math.min(0, total);
  const origin = add(column(A, 3), scale(cy, Math.floor(jOffset)));
  const sliceIn = nx * ny;
  const sliceOut = nx * nyOut;
  // Outside the acquired slab: the real value of stored 0 (air for CT), as dcm2niix pads its _Tilt output.
  const data = new Float32Array(sliceOut * nz * nt).fill(volume.rescaleIntercept);
  for (let t = 0; t < nt; t++) {
    for (let k = 0; k < nz; k++) {
      const base = (t * nz + k) * sliceIn;
      const out = (t * nz + k) * sliceOut;
      for (let j = 0; j < nyOut; j++) {
        // Output row j is at source row jSource of slice k (the slice's own origin is shifted by k * rowsPerSlice).
        const jSource = j + Math.floor(jOffset) - k * rowsPerSlice;
        const j0 = Math.floor(jSource);
        const w = jSource - j0;
        for (let i = 0; i < nx; i++) {
          const below = j0 >= 0 && j0 < ny ? Number(volume.data[base + j0 * nx + i]) : undefined;
          const above = j0 + 1 >= 0 && j0 + 1 < ny ? Number(volume.data[base + (j0 + 1) * nx + i]) : undefined;
          // Edges as dcm2niix treats them: no row below -> padding; no row above -> the last row repeated.
          if (below === undefined) continue;
          const value = above === undefined ? below : below + (above - below) * w;
          data[out + j * nx + i] = value * volume.rescaleSlope + volume.rescaleIntercept;
        }
      }
    }
  }
  const affineLPS = [...A];
  affineLPS[2] = stepN[0];
  affineLPS[6] = stepN[1];
  affineLPS[10] = stepN[2];
  affineLPS[3] = origin[0];
  affineLPS[7] = origin[1];
  affineLPS[11] = origin[2];
  return {
    ...volume,
    dims: [nx, nyOut, nz, nt],
    data,
    affineLPS,
    spacing: [volume.spacing[0], volume.spacing[1], Math.abs(along)],
    rescaleSlope: 1,
    rescaleIntercept: 0,
    slices: [],
    warnings: volume.warnings.filter((warning) => warning.kind !== 'GANTRY_TILT'),
  };
}

function cross3(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
