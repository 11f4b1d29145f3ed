/**
 * Axial display order (the NPZ export's definition, GEOMETRY.md): array [Z, Y, X] in C order, Z from head to
 * foot, each slice as a radiologist reads an axial image: patient Right on the image left (X towards patient
 * Left), Anterior at the top (Y towards Posterior). In LPS terms the voxel axes follow +x, +y and -z, so this is
 * the closest-canonical reorientation in the frame (L, P, I). Oblique volumes take their closest axes (no
 * resampling).
 */
import type { Mat4 } from './affine.ts';
import { closestCanonical, type Reoriented } from './orientation.ts';

export function axialDisplayOrder(
  data: Float32Array,
  dims: readonly number[],
  affineLPS: Mat4,
): Reoriented<Float32Array> {
  // World frame (L, P, I): flip the z row of the LPS affine.
  const lpi = affineLPS.map((value, index) => (index >= 8 && index < 12 ? -value : value));
  const reoriented = closestCanonical(
    data as Float32Array & { constructor: new (length: number) => Float32Array },
    dims,
    lpi,
  );
  // Back to LPS: the voxel -> LPS affine of the reordered array.
  const affine = reoriented.affine.map((value, index) => (index >= 8 && index < 12 ? -value : value));
  return { data: reoriented.data, dims: reoriented.dims, affine };
}
