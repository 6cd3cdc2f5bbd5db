"""What a correction changed: the versions of a unit's quarter in order of arrival, and for each
valid version that replaced an earlier one the cells whose values differ, old -> new.

The pairs and cells are the warehouse's (intermediate.int_replacements, marts.corrections); this
module reads them for `huizong diff` and `huizong status` and lays them out for the terminal.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb
from rich.console import Console

from huizong.core.clock import OFFICE_TZ
from huizong.core.errors import HuizongError
from huizong.core.terminal import LINE_CUT, table
from huizong.core.terminal import shown as printable
from huizong.outputs.summary import plain_number
from huizong.store.warehouse import statement

ABSENT = "(none)"  # a value the one file has and the other has not
# The versions that replace one another (int_replacements.sql): not a rejected one, nor one held
# `locked` for a signed-off year until the year is unlocked.
CHAINED = ("loaded", "duplicate", "superseded")


class NotKept(HuizongError, LookupError):
    """The warehouse was built before corrections were kept (a pass rebuilds it)."""


@dataclass(frozen=True)
class Version:
    sha256: str
    file_name: str
    status: str
    received_at: dt.datetime
    first_reason: str | None
    replacement: int | None  # which replacement this valid version was; None for the first, or rejected
    old_file: str | None  # the valid version it replaced
    cells_changed: int


@dataclass(frozen=True)
class Change:
    replacement: int
    sheet: str
    cell: str
    village: str
    indicator: str
    measure_unit: str | None
    old: str
    new: str


@dataclass(frozen=True)
class Diff:
    versions: tuple[Version, ...]
    changes: tuple[Change, ...]

    @property
    def valid(self) -> list[Version]:
        return [v for v in self.versions if v.status in CHAINED]

    @property
    def replacements(self) -> list[Version]:
        return [v for v in self.versions if v.replacement is not None]


def shown(value: Decimal | None, level: str | None) -> str:
    """A value as the clerk typed it: 12, 12.5, 省级; ABSENT when the file has none."""
    if level is not None:
        return level
    return ABSENT if value is None else plain_number(value)


def kept(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds marts.corrections (one built by this huizong or later)."""
    return bool(con.execute("select 1 from duckdb_tables() where database_name = current_database() "
                            "and schema_name = 'marts' and table_name = 'corrections'").fetchall())


def read_diff(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> Diff:
    if not kept(con):
        raise NotKept("the warehouse was built before corrections were kept: run `huizong run` to rebuild it")
    params = {"unit": unit_code, "period": period}
    versions = tuple(Version(*row) for row in con.execute(statement("commands", "versions.sql"), params).fetchall())
    changes = tuple(Change(rep, sheet, cell, village, indicator, measure, shown(ov, ol), shown(nv, nl))
                    for rep, sheet, cell, village, indicator, measure, ov, ol, nv, nl
                    in con.execute(statement("commands", "diff.sql"), params).fetchall())
    return Diff(versions, changes)


def corrected(con: duckdb.DuckDBPyConnection, period: str | None) -> list[tuple]:
    """(unit_code, unit_name, period, corrections, cells_changed) of every unit and quarter whose
    figures a correction changed; empty for a warehouse built before corrections were kept."""
    if not kept(con):
        return []
    return con.execute(statement("commands", "corrected.sql"), {"period": period}).fetchall()


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(OFFICE_TZ):%Y-%m-%d %H:%M}"


def show(diff: Diff, who: str, period: str, console: Console) -> None:
    """The versions, then each replacement with its changed cells; data printed as data."""
    def line(text: str) -> None:
        console.print(printable(text, LINE_CUT), markup=False, highlight=False, soft_wrap=True)

    valid = diff.valid
    others = [v for v in diff.versions if v not in valid]
    also = f" and {len(others)} other(s) ({', '.join(sorted({v.status for v in others}))})" if others else ""
    line(f"{who} {period}: {len(valid)} valid version(s){also}, {len(diff.replacements)} replacement(s)")
    versions = table("versions in order of arrival", "#", "file", "received", "status", "replaced",
                     prose=("status", "replaced"))
    for i, v in enumerate(diff.versions, start=1):
        status = v.status + (f": {v.first_reason}" if v not in valid and v.first_reason else "")
        changed = f"{v.cells_changed} cell(s) changed" if v.cells_changed else "the same figures"
        replaced = "" if v.replacement is None else f"{v.old_file} ({changed})"
        versions.add_row(str(i), v.file_name, _when(v.received_at), status, replaced)
    console.print(versions)
    if not valid:
        line("no valid version in the ledger's chain: nothing was replaced (a rejected file never replaces "
             "anything; a locked one waits for its year to be unlocked)")
        return
    if not diff.replacements:
        line(f"one valid version ({valid[0].file_name}): nothing was replaced")
        return
    for v in diff.replacements:
        head = f"replacement {v.replacement}: {v.old_file} -> {v.file_name} (received {_when(v.received_at)})"
        if not v.cells_changed:
            line(f"{head}: the same figures (a duplicate), no cell changed")
            continue
        line(f"{head}: {v.cells_changed} cell(s) changed")
        t = table(None, "sheet", "cell", "village", "indicator", "old", "new")
        for c in (c for c in diff.changes if c.replacement == v.replacement):
            unit = f" {c.measure_unit}" if c.measure_unit and c.measure_unit not in ("是否", "等级") else ""
            t.add_row(c.sheet, c.cell, c.village, c.indicator, c.old + (unit if c.old != ABSENT else ""),
                      c.new + (unit if c.new != ABSENT else ""))
        console.print(t)
