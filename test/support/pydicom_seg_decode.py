"""Independent decode of a DICOM-SEG with pydicom + numpy (not medvox code): one mask per segment on a slice grid.

Usage: pydicom_seg_decode.py SEG [REFERENCE_FILE ...] [--threshold T]
The grid: the reference image files sorted by position along the slice normal; without them, the distinct frame
positions along the normal, gaps that are whole multiples of the smallest gap filled with empty slices.
Each frame is placed through its own PlanePositionSequence (nearest slice along the normal, within 5% of the
spacing). Prints JSON: {"rows", "columns", "slices", "type", "segments": {number: base64(packbits(mask[k][r][c]))}}.
Pixel data pydicom 2.3 cannot decode (Deflated Image Frame Compression, 1-bit RLE) is decoded here by hand:
raw deflate / PackBits, then the packed bits little-endian (PS3.5 8.1.1).
"""
import base64
import json
import sys
import zlib

import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame

args = sys.argv[1:]
threshold = 0.5
if "--threshold" in args:
    i = args.index("--threshold")
    threshold = float(args[i + 1])
    del args[i : i + 2]
seg_path, reference_paths = args[0], args[1:]
seg = pydicom.dcmread(seg_path)
rows, columns = int(seg.Rows), int(seg.Columns)
frames_n = int(getattr(seg, "NumberOfFrames", 1))
seg_type = seg.SegmentationType


def packbits_rle(data):
    out = bytearray()
    i = 0
    while i < len(data):
        n = data[i]
        i += 1
        if n < 128:
            out += data[i : i + n + 1]
            i += n + 1
        elif n > 128:
            out += bytes([data[i]]) * (257 - n)
            i += 1
    return bytes(out)


def unpack(packed, count):
    bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), bitorder="little")
    return bits[:count]


def frames():
    ts = seg.file_meta.TransferSyntaxUID
    count = rows * columns
    if ts == "1.2.840.10008.1.2.8.1" or (ts == "1.2.840.10008.1.2.5" and seg.BitsAllocated == 1):
        out = []
        for encoded in generate_pixel_data_frame(seg.PixelData, frames_n):
            if ts == "1.2.840.10008.1.2.8.1":
                raw = zlib.decompress(encoded, -15)
            else:
                offsets = np.frombuffer(encoded[:64], dtype="<u4")
                end = int(offsets[2]) if offsets[0] > 1 else len(encoded)
                raw = packbits_rle(encoded[int(offsets[1]) : end])
            if seg.BitsAllocated == 1:
                out.append(unpack(raw, count).reshape(rows, columns))
            else:
                out.append(np.frombuffer(raw, dtype=np.uint8 if seg.BitsAllocated == 8 else "<u2")[:count].reshape(rows, columns))
        return np.stack(out)
    array = seg.pixel_array
    return array.reshape(frames_n, rows, columns)


pixels = frames()
shared = seg.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in seg else None
per_frame = seg.PerFrameFunctionalGroupsSequence


def group(frame, name):
    if name in frame:
        return frame[name].value[0]
    if shared is not None and name in shared:
        return shared[name].value[0]
    return None


iop = np.array(group(per_frame[0], "PlaneOrientationSequence").ImageOrientationPatient, dtype=float)
normal = np.cross(iop[:3], iop[3:])
positions = [np.array(group(f, "PlanePositionSequence").ImagePositionPatient, dtype=float) for f in per_frame]

if reference_paths:
    distances = []
    for path in reference_paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if getattr(ds, "Modality", "") in ("SEG", "RTSTRUCT"):
            continue
        distances.append(float(np.dot(normal, np.array(ds.ImagePositionPatient, dtype=float))))
    distances.sort()
else:
    unique = sorted({round(float(np.dot(normal, p)), 3) for p in positions})
    gaps = np.diff(unique)
    step = float(gaps.min()) if len(gaps) else 1.0
    regular = all(abs(g / step - round(g / step)) < 0.1 for g in gaps)
    distances = [unique[0]]
    for g, d in zip(gaps, unique[1:]):
        if regular:
            n = int(round(g / step))
            distances += [distances[-1] + (d - distances[-1]) * m / n for m in range(1, n)]
        distances.append(d)

distances = np.array(distances)
spacing = float(np.min(np.diff(distances))) if len(distances) > 1 else 1.0
segment_numbers = [int(s.SegmentNumber) for s in seg.SegmentSequence]
padding = getattr(seg, "PixelPaddingValue", None)
maximum = float(getattr(seg, "MaximumFractionalValue", 255))
masks = {n: np.zeros((len(distances), rows, columns), dtype=bool) for n in segment_numbers if not (seg_type == "LABELMAP" and n == 0)}

for index, frame in enumerate(per_frame):
    d = float(np.dot(normal, positions[index]))
    k = int(np.argmin(np.abs(distances - d)))
    if abs(distances[k] - d) > max(0.01, 0.05 * spacing):
        raise SystemExit(f"frame {index + 1} lies on no slice")
    values = pixels[index]
    if seg_type == "LABELMAP":
        for n in masks:
            if padding is not None and n == int(padding):
                continue
            masks[n][k] |= values == n
    else:
        n = int(group(frame, "SegmentIdentificationSequence").ReferencedSegmentNumber)
        if seg_type == "FRACTIONAL":
            masks[n][k] |= (values > 0) & (values >= threshold * maximum)
        else:
            masks[n][k] |= values != 0

print(
    json.dumps(
        {
            "rows": rows,
            "columns": columns,
            "slices": len(distances),
            "type": seg_type,
            "segments": {str(n): base64.b64encode(np.packbits(m.ravel()).tobytes()).decode() for n, m in masks.items()},
        }
    )
)
