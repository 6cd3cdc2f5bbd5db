"""The year locks: a signed-off year is locked until the office unlocks it (`ops.signoffs`,
`ops.locked_years`). Read by the passes, the review, the report and the sign-off alike, so they
live in the store, below everything that asks whether a year is locked."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from huizong.core import clock
from huizong.store.warehouse import connect_read_only

SIGNED_DIR = "signed"  # <warehouse>/signed/<year>/<n>/: the copies of each sign-off


@dataclass(frozen=True)
class LockedYear:
    year: int
    signoff_id: int
    signed_by: str
    signed_at: dt.datetime
    archive_path: str

    def says(self) -> str:
        """2019 is signed off (by 王五 on 2020-03-01, copies under signed/2019/1)"""
        day = self.signed_at.astimezone(clock.OFFICE_TZ)
        return f"{self.year} is signed off (by {self.signed_by} on {day:%Y-%m-%d}, copies under {self.archive_path})"


def locked_years(con: duckdb.DuckDBPyConnection) -> dict[int, LockedYear]:
    """The years locked in the warehouse of `con`: their latest sign-off action is `signed`."""
    try:
        rows = con.execute("select year, signoff_id, signed_by, signed_at, archive_path "
                           "from ops.locked_years order by year").fetchall()
    except duckdb.CatalogException:  # a warehouse older than sign-offs: nothing is locked
        return {}
    return {r[0]: LockedYear(*r) for r in rows}


def reopened_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years unlocked and not signed again: the office is revising them, so passes keep their
    summary current until the next sign-off."""
    try:
        rows = con.execute("select year from ops.signoffs group by year "
                           "having arg_max(action, signoff_id) = 'unlocked' order by year").fetchall()
    except duckdb.CatalogException:
        return []
    return [y for (y,) in rows]


def locked_years_of(warehouse: Path) -> dict[int, LockedYear]:
    con = connect_read_only(warehouse)
    if con is None:
        return {}
    try:
        return locked_years(con)
    finally:
        con.close()


def year_of(period: str | None) -> int | None:
    return int(period[:4]) if period and period[:4].isdigit() else None
