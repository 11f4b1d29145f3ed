"""Independent oracle: nibabel's view of each NIfTI file named on stdin: header fields, affine, shape, dtype and a
SHA-256 of the unscaled voxels as little-endian bytes in file (Fortran) order."""
import hashlib
import json
import sys

import nibabel as nib
import numpy as np

out = {}
for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    try:
        img = nib.load(path)
        if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
            # e.g. CIFTI-2: read the NIfTI container itself
            klass = nib.Nifti2Image if isinstance(img.header, nib.cifti2.Cifti2Header) or img.__class__.__name__.startswith("Cifti2") else nib.Nifti1Image
            img = klass.from_filename(path)
        hdr = img.header
        raw = np.asanyarray(img.dataobj.get_unscaled())
        data = raw.astype(raw.dtype.newbyteorder("<"), copy=False)
        digest = hashlib.sha256(np.asfortranarray(data).tobytes(order="F")).hexdigest()
        out[path] = {
            "version": 2 if isinstance(img, nib.Nifti2Image) else 1,
            "shape": list(img.shape),
            "datatype": int(hdr["datatype"]),
            "affine": img.affine.tolist(),
            "qform_code": int(hdr["qform_code"]),
            "sform_code": int(hdr["sform_code"]),
            "pixdim": [float(v) for v in hdr["pixdim"]],
            # nibabel moves scl_slope/inter into the array proxy when it loads
            "scl_slope": float(img.dataobj.slope),
            "scl_inter": float(img.dataobj.inter),
            "descrip": hdr["descrip"].tobytes().split(b"\0")[0].decode("latin1"),
            "sha256": digest,
        }
    except Exception as error:  # noqa: BLE001 - every failure is reported to the comparing test
        out[path] = {"error": f"{type(error).__name__}: {error}"}
json.dump(out, sys.stdout)
