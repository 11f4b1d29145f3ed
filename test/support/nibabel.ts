/** nibabel as the independent reader: compare NIfTI files in patient space (as_closest_canonical on both). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { debianPython, projectRoot } from './env.ts';

export interface Comparison {
  shape_ours: number[];
  shape_ref: number[];
  same_voxels: boolean;
  max_voxel_diff: number | null;
  max_affine_diff: number;
}

export function compareInPatientSpace(pairs: Array<[string, string]>): Comparison[] {
  return JSON.parse(
    execFileSync(debianPython, [join(projectRoot, 'test/support/nibabel_compare.py')], {
      input: JSON.stringify(pairs),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    }),
  ) as Comparison[];
}
