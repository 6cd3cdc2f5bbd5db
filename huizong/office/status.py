"""Who has submitted what (`huizong status`, the office's page): the submission grid of
marts.submission_status, the rejected files with their feedback, the warnings awaiting the office,
the signed-off years with the files held for them, and the corrected figures. Read from the
published warehouse; the SQL is in sql/commands/."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from huizong.office.corrections import corrected
from huizong.office.review import ReviewCount, review_counts
from huizong.office.signoff import status_lines
from huizong.store.warehouse import statement


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
