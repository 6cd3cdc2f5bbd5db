"""Who has submitted what (`huizong status`, the office's page): the submission grid of
marts.submission_status, the rejected files with their feedback, the warnings awaiting the office,
the signed-off years with the files held for them, and the corrected figures. Read from the
published warehouse; the SQL is in sql/commands/."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from huizong.office.corrections import corrected
from huizong.office.review import ReviewCount, review_counts
from huizong.office.signoff import status_lines
from huizong.store.warehouse import published_path, statement


@dataclass(frozen=True)
class RejectedFile:
    unit_name: str
    period: str | None
    file_name: str
    received_at: dt.datetime
    n_errors: int
    first_reason: str
    feedback_path: str  # relative to the warehouse, without .xlsx / .txt


@dataclass(frozen=True)
class Correction:
    unit_code: str
    unit_name: str
    period: str
    corrections: int
    cells: int


@dataclass(frozen=True)
class Status:
    periods: list[str]
    units: list[tuple[str, str]]  # (code, name) of each submitting unit, in the grid's order
    cells: dict[tuple[str, str], tuple[str, int]]  # (code, period) -> (status, rejected versions)
    rejected: list[RejectedFile]
    reviews: list[ReviewCount]
    locked: list[str]  # the signed-off years and the files held for them, as sentences
    corrected: list[Correction]


def read_status(con: duckdb.DuckDBPyConnection, period: str | None = None) -> Status:
    """The status of every submitting unit, of one quarter or of all."""
    rows = con.execute(statement("commands", "status.sql"), {"period": period}).fetchall()
    rejected = con.execute(statement("commands", "rejected.sql"), {"period": period}).fetchall()
    return Status(periods=sorted({r[2] for r in rows}),
                  units=list(dict.fromkeys((r[0], r[1]) for r in rows)),
                  cells={(r[0], r[2]): (r[3], r[4]) for r in rows},
                  rejected=[RejectedFile(*r) for r in rejected],
                  reviews=review_counts(con, period),
                  locked=status_lines(con, period),
                  corrected=[Correction(*r) for r in corrected(con, period)])


@dataclass(frozen=True)
class Storage:
    """What the warehouse folder holds on disk, for the office to watch over the years."""
    warehouse_bytes: int  # huizong.duckdb, the published warehouse
    kept_bytes: int  # files/: every version received, kept by its hash (what a rebuild reads)
    kept_files: int
    other_bytes: int  # everything else: reports, signed copies, feedback, uploads, logs


def storage(warehouse: Path) -> Storage:
    warehouse = Path(warehouse)
    published = published_path(warehouse)
    kept = [os.path.join(d, f) for d, _, names in os.walk(warehouse / "files") for f in names]
    kept_bytes = sum(os.path.getsize(p) for p in kept)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, names in os.walk(warehouse) for f in names
                if os.path.isfile(os.path.join(d, f)))
    size = published.stat().st_size if published.exists() else 0
    return Storage(size, kept_bytes, len(kept), total - size - kept_bytes)
