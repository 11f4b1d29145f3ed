"""Compare NIfTI pairs in patient space (nibabel as_closest_canonical on both): stdin is JSON [[ours, ref], ...];
prints [{shape_ours, shape_ref, same_voxels, max_affine_diff}] in the same order."""
import json
import sys

import nibabel as nib
import numpy as np

out = []
for ours_path, ref_path in json.load(sys.stdin):
    ours = nib.as_closest_canonical(nib.load(ours_path))
    ref = nib.as_closest_canonical(nib.load(ref_path))
    def voxels(img):
        data = np.asanyarray(img.dataobj)
        if data.dtype.names:  # RGB24: compare the three channels
            data = np.stack([data[name] for name in data.dtype.names], axis=-1)
        return data.astype(np.float64)

    a = voxels(ours)
    b = voxels(ref)
    same_shape = a.shape == b.shape
    out.append({
        "shape_ours": list(a.shape),
        "shape_ref": list(b.shape),
        "same_voxels": bool(same_shape and np.array_equal(a, b)),
        "max_voxel_diff": float(np.max(np.abs(a - b))) if same_shape else None,
        "max_affine_diff": float(np.max(np.abs(ours.affine - ref.affine))),
    })
json.dump(out, sys.stdout)
