"""The version of the rules a file is checked under, as one short hash.

Whether a workbook is valid, and what values it gives, is a function of its bytes and of these
files only: the catalog and registry, the filling rules, the reader and the schemas. A version
checked valid under the same rules need not be read again by a rerun (its values are in
`raw.submitted_values`); a change to any of these files makes every version due again.
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SCHEMAS = _HERE.parent / "schemas"
RULE_FILES = (
    _SCHEMAS / "indicators.csv", _SCHEMAS / "units.csv", _SCHEMAS / "catalog.py",
    _SCHEMAS / "submission.py", _HERE / "cells.py", _HERE / "workbook.py", _HERE / "validation.py",
)


@cache
def rules_version() -> str:
    digest = hashlib.sha256()
    for path in RULE_FILES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
