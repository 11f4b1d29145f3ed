"""Independent check of a rebuilt series: stdin is JSON [[original, rebuilt(, allowed keywords)], ...]. For each pair, every element of the
original dataset (pixel data and File Meta aside) must be in the rebuilt one with an equal value (pydicom's
DataElement equality; sequences compared item by item). Prints {original: [problems]} and the rebuilt pixels' sha256."""
import hashlib
import json
import sys
import warnings

import numpy as np
import pydicom

warnings.simplefilter("ignore")
SKIP = {0x7FE00010}
ALLOWED = set(sys.argv[1:])  # keywords the UID policy may change


def compare(a, b, path, problems, allowed):
    for elem in a:
        if elem.tag in SKIP or elem.keyword in allowed:
            continue
        if elem.tag not in b:
            problems.append(f"{path}{elem.tag} {elem.keyword}: missing")
            continue
        other = b[elem.tag]
        if elem.VR == "SQ":
            if len(elem.value) != len(other.value):
                problems.append(f"{path}{elem.tag}: {len(elem.value)} items vs {len(other.value)}")
                continue
            for i, (x, y) in enumerate(zip(elem.value, other.value)):
                compare(x, y, f"{path}{elem.tag}[{i}].", problems, allowed)
        elif elem.value != other.value:
            problems.append(f"{path}{elem.tag} {elem.keyword}: {str(elem.value)[:60]!r} vs {str(other.value)[:60]!r}")


out = {}
for pair in json.load(sys.stdin):
    original, rebuilt = pair[0], pair[1]
    # A third element: keywords this pair may also change (e.g. Photometric Interpretation of a YBR source).
    allowed = ALLOWED | set(pair[2] if len(pair) > 2 else [])
    problems = []
    a = pydicom.dcmread(original, force=True)
    b = pydicom.dcmread(rebuilt)
    compare(a, b, "", problems, allowed)
    try:
        array = b.pixel_array
        pixels = np.ascontiguousarray(array).astype("<f8" if array.dtype.kind == "f" else "<i8")
        digest = hashlib.sha256(pixels.tobytes()).hexdigest()
    except Exception as error:  # reported per file, so the test names it
        digest = f"pydicom cannot decode the rebuilt pixels: {error}"
    out[original] = {"problems": problems, "pixels": digest}
json.dump(out, sys.stdout)
