"""Independent oracle for the NIfTI tests: nibabel's view of each file named on stdin (one path a line).

For every file: the raw header fields as stored (nibabel, check=False; medvox names), the extensions, and the affine
nibabel reports (img.affine: header fixes applied on load). For images also the shape, the scaling nibabel applies,
and SHA-256s of the unscaled voxels (little endian) and of the scaled float64 values, in file (Fortran) order.
A .hdr is read as the header of a .hdr/.img pair (no voxels). Non-finite floats are written as the strings "nan",
"inf", "-inf" (JSON has none).
"""
import hashlib
import json
import math
import struct
import sys

import nibabel as nib
import numpy as np
from nibabel.openers import ImageOpener

SCALARS = {
    "dim_info": "dimInfo", "intent_p1": "intentP1", "intent_p2": "intentP2", "intent_p3": "intentP3",
    "intent_code": "intentCode", "datatype": "datatype", "bitpix": "bitpix", "slice_start": "sliceStart",
    "slice_end": "sliceEnd", "slice_code": "sliceCode", "slice_duration": "sliceDuration", "vox_offset": "voxOffset",
    "scl_slope": "sclSlope", "scl_inter": "sclInter", "xyzt_units": "xyztUnits", "cal_max": "calMax",
    "cal_min": "calMin", "toffset": "toffset", "qform_code": "qformCode", "sform_code": "sformCode",
    "quatern_b": "quaternB", "quatern_c": "quaternC", "quatern_d": "quaternD", "qoffset_x": "qoffsetX",
    "qoffset_y": "qoffsetY", "qoffset_z": "qoffsetZ",
}
VECTORS = {"dim": "dim", "pixdim": "pixdim", "srow_x": "srowX", "srow_y": "srowY", "srow_z": "srowZ"}
TEXTS = {"descrip": "descrip", "aux_file": "auxFile", "intent_name": "intentName"}


def num(value):
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def version_of(path):
    with ImageOpener(path) as f:
        head = f.read(4)
    for order in "<>":
        size = struct.unpack(order + "i", head)[0] if len(head) == 4 else 0
        if size in (348, 540):
            return 1 if size == 348 else 2
    raise ValueError("not a NIfTI header")


def header_fields(hdr):
    out = {name: num(hdr[key]) for key, name in SCALARS.items()}
    out.update({name: [num(v) for v in hdr[key]] for key, name in VECTORS.items()})
    out.update({name: hdr[key].tobytes().split(b"\0")[0].decode("latin1") for key, name in TEXTS.items()})
    return out


def extensions(hdr):
    # nibabel strips trailing NUL padding from the content; it parses some (CIFTI-2 XML) into objects: no bytes then
    return [{"code": int(ext.get_code()),
             "sha256": hashlib.sha256(content).hexdigest() if isinstance(content, bytes) else None}
            for ext, content in ((ext, ext.get_content()) for ext in hdr.extensions)]


def scaled_sha256(img):
    """SHA-256 of the true values as float64 (img.get_fdata()); None when unscaled or without a float view (RGB)."""
    if img.dataobj.slope == 1 and img.dataobj.inter == 0:
        return None
    complex_data = np.issubdtype(img.get_data_dtype(), np.complexfloating)
    dtype = np.complex128 if complex_data else np.float64  # complex: real, imaginary interleaved
    try:
        values = np.asanyarray(img.dataobj, dtype=dtype)
    except Exception:  # noqa: BLE001
        return None
    return hashlib.sha256(np.asfortranarray(values).astype(np.dtype(dtype).newbyteorder("<")).tobytes(order="F")).hexdigest()


def dump(path):
    version = version_of(path)
    pair = path.endswith(".hdr")
    klass = {(1, False): nib.Nifti1Header, (2, False): nib.Nifti2Header,
             (1, True): nib.nifti1.Nifti1PairHeader, (2, True): nib.nifti2.Nifti2PairHeader}[(version, pair)]
    with ImageOpener(path) as f:
        raw = klass.from_fileobj(f, check=False)
    out = {"version": version, "littleEndian": raw.endianness == "<", "header": header_fields(raw),
           "extensions": extensions(raw)}
    if pair:
        with ImageOpener(path) as f:
            out["affine"] = klass.from_fileobj(f).get_best_affine().tolist()
        return out
    img = (nib.Nifti2Image if version == 2 else nib.Nifti1Image).from_filename(path)
    data = np.asanyarray(img.dataobj.get_unscaled())
    data = data.astype(data.dtype.newbyteorder("<"), copy=False)
    out.update({
        "affine": img.affine.tolist(),
        "shape": list(img.shape),
        "slope": num(img.dataobj.slope),
        "inter": num(img.dataobj.inter),
        "sha256": hashlib.sha256(np.asfortranarray(data).tobytes(order="F")).hexdigest(),
        "scaledSha256": scaled_sha256(img),
    })
    return out


result = {}
for line in sys.stdin:
    path = line.strip()
    if path:
        try:
            result[path] = dump(path)
        except Exception as error:  # noqa: BLE001 - every refusal is reported to the comparing test
            result[path] = {"error": f"{type(error).__name__}: {error}"}
json.dump(result, sys.stdout)
