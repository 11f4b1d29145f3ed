/** The image grid (core/geometry/grid.ts) of an assembled volume: in-plane geometry plus every slice's position. */
import { column, cross, norm, normalize, scale } from '../geometry/affine.ts';
import type { ImageGrid } from '../geometry/grid.ts';
import type { Volume } from './assemble.ts';

export function gridOfVolume(volume: Pick<Volume, 'dims' | 'affineLPS' | 'slices'>): ImageGrid {
  const [columns, rows] = volume.dims;
  const alongColumns = column(volume.affineLPS, 0);
  const alongJ = column(volume.affineLPS, 1);
  const dc = norm(alongColumns);
  const dr = norm(alongJ);
  const rowCosines = normalize(alongColumns);
  // j runs against the row direction (j = rows-1-r), so Y is minus the j column.
  const columnCosines = normalize(scale(alongJ, -1));
  return {
    columns,
    rows,
    rowCosines,
    columnCosines,
    normal: normalize(cross(rowCosines, columnCosines)),
    pixelSpacing: [dr, dc],
    positions: volume.slices[0]!.map((slice) => slice.position),
    affineLPS: volume.affineLPS,
  };
}
