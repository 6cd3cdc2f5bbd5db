"""The versions of what decides the warehouse's content, as short hashes: the rules a file is
checked under, and the models its figures are built by.

Whether a workbook is valid, and what values it gives, is a function of its bytes and of these
files only: the catalog and registry, the filling rules, the reader and the schemas. A version
checked valid under the same rules need not be read again by a rerun (its values are in
`raw.submitted_values`); a change to any of these files makes every version due again.
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from huizong.schemas.catalog import CATALOG_DIR as _SCHEMAS
from huizong.schemas.catalog import INDICATORS_CSV, UNITS_CSV
from huizong.store.warehouse import SQL_DIR as _SQL

_LIBRARY = Path(__file__).resolve().parent.parent  # huizong/
RULE_FILES = (
    INDICATORS_CSV, UNITS_CSV, _SCHEMAS / "catalog.py",
    _SCHEMAS / "submission.py", _SCHEMAS / "rules.py", _LIBRARY / "core" / "cells.py",
    *(_LIBRARY / "intake" / name for name in ("package.py", "submission.py", "workbook.py", "validation.py")),
)



def _digest(paths) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@cache
def rules_version() -> str:
    return _digest(RULE_FILES)


@cache
def models_version() -> str:
    """The catalog and registry (the models' seeds, `catalog.py` holding the levels'), the SQL
    models, the macros they call, their checks and their declarations (the YAML beside each model, and
    `setup/warehouse.yml`, which comment the warehouse and generate checks), and how they are
    built (`models.py`, with what the marts built by year are rebuilt from): when it changes, a
    pass rebuilds the marts even with no new file, and builds them whole."""
    models = sorted(p for layer in ("staging", "intermediate", "marts", "checks")
                    for p in (*(_SQL / layer).glob("*.sql"), *(_SQL / layer).glob("*.yml")))
    return _digest([INDICATORS_CSV, UNITS_CSV, _SCHEMAS / "catalog.py", *models,
                    _SQL / "setup" / "warehouse.yml", _SQL / "setup" / "macros.sql", _SQL / "setup" / "year_inputs.sql",
                    _SQL / "setup" / "changed_years.sql", _LIBRARY / "store" / "models.py"])
