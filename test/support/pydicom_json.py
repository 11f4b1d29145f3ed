"""Independent oracle: pydicom's DICOM JSON model of each file named on stdin (one path a line).
Prints one JSON object {path: {"json": ...} | {"error": "..."}}. Bulk data (> 1024 base64 chars) -> "BULK"."""
import json
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")
out = {}
for line in sys.stdin:
    path = line.rstrip("\n")
    if not path:
        continue
    try:
        ds = pydicom.dcmread(path)
        try:
            out[path] = {"json": ds.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=lambda e: "BULK")}
        except ValueError as error:
            # pydicom cannot serialise some elements (e.g. a DS holding text): drop them, say which.
            partial = ds.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=lambda e: "BULK",
                                      suppress_invalid_tags=True)
            out[path] = {"json": partial, "suppressed": f"{error}"}
    except Exception as error:  # noqa: BLE001 - report every failure to the comparing test
        out[path] = {"error": f"{type(error).__name__}: {error}"}
json.dump(out, sys.stdout, default=str)
