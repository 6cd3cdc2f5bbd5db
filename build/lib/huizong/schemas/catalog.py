"""Load the indicator catalog and the unit registry: the single source of truth.

`indicators.csv` and `units.csv` beside this module are the project's configuration. Every other
module (reading, validation, SQL seeds, templates, the report) asks this module, never the CSVs.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent
INDICATORS_CSV = CATALOG_DIR / "indicators.csv"
UNITS_CSV = CATALOG_DIR / "units.csv"

# The sheets of a workbook, by who submits it.
COVER_SHEET = "封面"
VILLAGE_SHEET = "村级指标"
TOWN_SHEET = "镇级指标"
COUNTY_SHEET = "县级指标"
VILLAGE_CODE_HEADER = "村（社区）代码"
VILLAGE_NAME_HEADER = "村（社区）名称"
VERTICAL_HEADER = ("指标代码", "指标名称", "计量单位", "数值")

LEVELS = ("无", "县级", "市级", "省级", "全国")
NUMERIC_KINDS = ("flow", "stock", "flag")


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    unit: str
    sheet: str
    reported_by: str  # "town" or a department's unit code
    kind: str  # flow | stock | flag | level
    min: float | None
    max: float | None
    decimals: int | None
    summary_phrase: str

    @property
    def header(self) -> str:
        """The column header a template writes: name with its unit in full-width brackets."""
        return f"{self.name}（{self.unit}）"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str  # county | town | village | department
    parent_code: str
    village_type: str


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def indicators() -> tuple[Indicator, ...]:
    with INDICATORS_CSV.open(encoding="utf-8", newline="") as f:
        return tuple(
            Indicator(
                code=r["code"], name=r["name"], unit=r["unit"], sheet=r["sheet"],
                reported_by=r["reported_by"], kind=r["kind"],
                min=_num(r["min"]), max=_num(r["max"]),
                decimals=int(r["decimals"]) if r["decimals"].strip() else None,
                summary_phrase=r["summary_phrase"],
            )
            for r in csv.DictReader(f)
        )


@cache
def units() -> tuple[Unit, ...]:
    with UNITS_CSV.open(encoding="utf-8", newline="") as f:
        return tuple(
            Unit(code=r["unit_code"], name=r["unit_name"], type=r["unit_type"],
                 parent_code=r["parent_code"], village_type=r["village_type"])
            for r in csv.DictReader(f)
        )


@cache
def indicator_by_code() -> dict[str, Indicator]:
    return {i.code: i for i in indicators()}


@cache
def unit_by_code() -> dict[str, Unit]:
    return {u.code: u for u in units()}


def towns() -> list[Unit]:
    return [u for u in units() if u.type == "town"]


def departments() -> list[Unit]:
    return [u for u in units() if u.type == "department"]


def submitters() -> list[Unit]:
    """Every unit that sends a quarterly workbook: towns, then departments."""
    return towns() + departments()


@cache
def villages_of(town_code: str) -> tuple[Unit, ...]:
    return tuple(u for u in units() if u.type == "village" and u.parent_code == town_code)


def sheets_of(unit: Unit) -> tuple[str, ...]:
    """The data sheets a unit's workbook holds, after the cover."""
    if unit.type == "town":
        return (VILLAGE_SHEET, TOWN_SHEET)
    return (COUNTY_SHEET,)


def indicators_for(unit: Unit, sheet: str) -> list[Indicator]:
    """The indicators `unit` reports on `sheet`, in catalog order."""
    who = "town" if unit.type == "town" else unit.code
    return [i for i in indicators() if i.sheet == sheet and i.reported_by == who]


_BRACKETED_UNIT = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")


def header_key(header: str) -> str:
    """The indicator name a column header stands for: `道德讲堂(场次)` -> `道德讲堂`."""
    return _BRACKETED_UNIT.sub("", str(header).strip()).strip()
