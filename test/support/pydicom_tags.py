"""Independent oracle: the element tree pydicom 2.3 reads from each file named on stdin (one path a line).
Prints {path: {"meta": [tag...], "tags": [path...], "ts": uid} | {"error": "..."}}; a path is "GGGGEEEE" at the top
level and "<sequence path>/<item index>/GGGGEEEE" inside items. Files without File Meta are read with force=True."""
import json
import sys
import warnings

import pydicom
from pydicom.errors import InvalidDicomError

warnings.simplefilter("ignore")


def paths(ds, prefix, out):
    for elem in ds:
        path = f"{prefix}{elem.tag:08X}"
        out.append(path)
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                paths(item, f"{path}/{index}/", out)
    return out


out = {}
for line in sys.stdin:
    path = line.rstrip("\n")
    if not path:
        continue
    try:
        try:
            ds = pydicom.dcmread(path)
            forced = False
        except InvalidDicomError:
            ds = pydicom.dcmread(path, force=True)
            forced = True
        meta = [f"{elem.tag:08X}" for elem in ds.file_meta] if hasattr(ds, "file_meta") else []
        out[path] = {"meta": meta, "tags": paths(ds, "", []), "forced": forced}
    except Exception as error:  # noqa: BLE001 - report every failure to the comparing test
        out[path] = {"error": f"{type(error).__name__}: {error}"}
json.dump(out, sys.stdout)
