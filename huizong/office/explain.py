"""Where a figure of the year comes from (`huizong explain`): the figure as the summary gives it
(marts.summary_figures, or the county total of an indicator the summary does not phrase), and
every value behind it with its unit, file, sheet and cell (marts.figure_lineage). The SQL is in
sql/commands/explain_figure.sql and explain_sources.sql."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from huizong.core.errors import HuizongError
from huizong.schemas import catalog as cat
from huizong.store.warehouse import statement


class NoSuchFigure(HuizongError, LookupError):
    """The year has no figure for that indicator and slot."""


@dataclass(frozen=True)
class Figure:
    year: int
    indicator_code: str
    slot: int
    value: Decimal | float | None
    figure: str  # what the figure is: 全县合计, or the summary phrase's part
    quarters_valid: int
    quarters_expected: int
    indicator_name: str
    measure_unit: str

    @property
    def missing(self) -> int:
        """Unit-quarters expected but not in (the ※ of an incomplete figure)."""
        return self.quarters_expected - self.quarters_valid


@dataclass(frozen=True)
class Explanation:
    figure: Figure
    columns: list[str]  # unit, submitted by, indicator, period, value, file_name, cell, sha256
    sources: list[tuple]


def explain_figure(con: duckdb.DuckDBPyConnection, year: int, code: str, slot: int = 1) -> Explanation:
    code = code.strip().upper()
    params = {"year": year, "code": code, "slot": slot}
    row = con.execute(statement("commands", "explain_figure.sql"), params).fetchone()
    if row is None:
        raise NoSuchFigure(f"no figure for {code} in {year}, slot {slot}: see "
                           "`huizong query \"select * from marts.summary_figures\"` for the figures there are")
    value, what, valid, expected, name, unit = row
    indicator = cat.indicator_by_code().get(code)
    if indicator is not None and indicator.kind == "level":  # a level's figures count the units at it
        unit = "个"
    cursor = con.execute(statement("commands", "explain_sources.sql"), params)
    return Explanation(Figure(year, code, slot, value, what, valid, expected, name, unit),
                       [c[0] for c in cursor.description], cursor.fetchall())
