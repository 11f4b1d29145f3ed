"""Independent oracle: the decoded text pydicom 2.3 gives for each character-set-dependent element (PN, SH, LO, ST,
LT, UC, UT) of each file named on stdin. Prints {path: {"<tag path>": [value, ...]}}; tag paths as in
pydicom_tags.py; PN values as str(PersonName) ("Alphabetic=Ideographic=Phonetic")."""
import json
import sys
import warnings

import pydicom

warnings.simplefilter("ignore")
TEXT_VRS = {"PN", "SH", "LO", "ST", "LT", "UC", "UT"}


def strings(ds, prefix, out):
    for elem in ds:
        path = f"{prefix}{elem.tag:08X}"
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                strings(item, f"{path}/{index}/", out)
        elif elem.VR in TEXT_VRS and not elem.is_empty:
            values = elem.value if elem.VM > 1 else [elem.value]
            out[path] = [str(value) for value in values]
    return out


out = {}
for line in sys.stdin:
    path = line.rstrip("\n")
    if path:
        out[path] = strings(pydicom.dcmread(path), "", {})
json.dump(out, sys.stdout, ensure_ascii=False)
