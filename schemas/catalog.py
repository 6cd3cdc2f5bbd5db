"""Load the indicator catalog and the unit registry: the single source of truth.

Both are checked as they load: a typo in a CSV stops every command with `CatalogError` naming the
file, line and column, rather than failing later far from its cause.

`indicators.csv` and `units.csv` beside this module are the project's configuration (or those of
the folder `HUIZONG_CATALOG` names). Every other module (reading, validation, SQL seeds,
templates, the report) asks this module, never the CSVs.

Both change over time (FORM.md, "The form and the map over time"). An indicator is on the form
from its `valid_from` quarter to its `valid_to` quarter (empty: since always, still); a code may
have several rows, each a definition for its own quarters (renamed, re-bounded: the same meaning,
so the same code and history; a changed meaning is a new code). A unit exists from `opened` to
`closed`; a village merged into another or renamed names it as its `successor`.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from huizong.core.clock import quarter_index
from huizong.core.errors import HuizongError

CATALOG_DIR = Path(__file__).resolve().parent
# HUIZONG_CATALOG: another folder holding indicators.csv and units.csv (a second county, the
# demo of a changing form); read once, when huizong starts
DATA_DIR = Path(os.environ["HUIZONG_CATALOG"]).resolve() if os.environ.get("HUIZONG_CATALOG") else CATALOG_DIR
INDICATORS_CSV = DATA_DIR / "indicators.csv"
UNITS_CSV = DATA_DIR / "units.csv"

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
    valid_from: str | None = None  # the first quarter it is on the form (None: since always)
    valid_to: str | None = None  # the last quarter it is on the form (None: still)

    def on_form(self, period: str) -> bool:
        return _within(period, self.valid_from, self.valid_to)

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
    opened: str | None = None  # its first quarter (None: since always)
    closed: str | None = None  # its last quarter (None: still open)
    successor: str = ""  # the unit it became, when it was merged into another or renamed

    def exists_in(self, period: str) -> bool:
        return _within(period, self.opened, self.closed)


def _within(period: str, first: str | None, last: str | None) -> bool:
    q = quarter_index(period)
    return (first is None or q >= quarter_index(first)) and (last is None or q <= quarter_index(last))


KINDS = ("flow", "stock", "flag", "level")
UNIT_TYPES = ("county", "town", "village", "department")
INDICATOR_COLUMNS = ("code", "name", "unit", "sheet", "reported_by", "kind", "min", "max",
                     "decimals", "summary_phrase")
INDICATOR_PERIOD_COLUMNS = ("valid_from", "valid_to")  # optional: a catalog without them is for all time
UNIT_COLUMNS = ("unit_code", "unit_name", "unit_type", "parent_code", "village_type")
UNIT_PERIOD_COLUMNS = ("opened", "closed", "successor")  # optional, as above
_PERIOD = re.compile(r"[0-9]{4}Q[1-4]")
CODE_LENGTH = {"county": 6, "town": 9, "village": 12, "department": 9}
DEPARTMENT_ENDINGS = ("901", "902", "903")


class CatalogError(HuizongError, ValueError):
    """A row of the catalog or the registry that the rest of huizong cannot work with."""


def _shown(path: Path) -> str:
    """The file as people name it: relative to the repository when it is one of ours."""
    try:
        return path.resolve().relative_to(CATALOG_DIR.parent).as_posix()
    except ValueError:
        return str(path)


def _rows(path: Path, columns: tuple[str, ...]):
    """(line number as an editor shows it, row) of a CSV whose header must hold `columns`."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogError(f"{_shown(path)} line 1: missing column(s) {', '.join(missing)}")
        line = 1
        for row in reader:
            yield line + 1, {k: (v or "").strip() for k, v in row.items() if k is not None}
            line = reader.line_num


class _Where:
    """Raises CatalogError naming the file, line and column of a bad value."""

    def __init__(self, path: Path, line: int) -> None:
        self.path, self.line = path, line

    def fail(self, column: str, text: str) -> CatalogError:
        return CatalogError(f"{_shown(self.path)} line {self.line}, column {column}: {text}")

    def one_of(self, row: dict, column: str, allowed) -> str:
        if row[column] not in allowed:
            raise self.fail(column, f'"{row[column]}" is not one of {", ".join(allowed)}')
        return row[column]

    def periods(self, row: dict, first: str, last: str) -> tuple[str | None, str | None]:
        """The quarters (`2020Q1`) in columns `first` and `last`, each empty or a quarter, in order."""
        found = []
        for column in (first, last):
            text = row.get(column, "").upper()
            if text and not _PERIOD.fullmatch(text):
                raise self.fail(column, f'"{row[column]}" is not a quarter like 2020Q1 (or empty)')
            found.append(text or None)
        if found[0] and found[1] and quarter_index(found[0]) > quarter_index(found[1]):
            raise self.fail(last, f"{found[1]} is before {first} {found[0]}")
        return found[0], found[1]

    def number(self, row: dict, column: str) -> float | None:
        if not row[column]:
            return None
        try:
            return float(row[column])
        except ValueError:
            raise self.fail(column, f'"{row[column]}" is not a number') from None


def load_indicators(path: Path, registry: dict[str, "Unit"] | None = None) -> tuple[Indicator, ...]:
    """The indicator catalog at `path`, checked row by row against the form and `registry`
    (default: the unit registry); CatalogError names the first bad cell."""
    registry = unit_by_code() if registry is None else registry
    departments = [u.code for u in registry.values() if u.type == "department"]
    seen: dict[str, list[tuple[int, Indicator]]] = {}
    out = []
    for line, r in _rows(path, INDICATOR_COLUMNS):
        at = _Where(path, line)
        if not r["code"]:
            raise at.fail("code", "is empty")
        if not r["name"]:
            raise at.fail("name", "is empty")
        sheet = at.one_of(r, "sheet", (VILLAGE_SHEET, TOWN_SHEET, COUNTY_SHEET))
        who = at.one_of(r, "reported_by", ("town", *departments))
        if (who == "town") != (sheet != COUNTY_SHEET):
            raise at.fail("reported_by", f'"{who}" does not report on sheet {sheet}')
        kind = at.one_of(r, "kind", KINDS)
        low, high = at.number(r, "min"), at.number(r, "max")
        if kind != "level" and (low is None or high is None):
            raise at.fail("min" if low is None else "max", f"is empty, but a {kind} needs bounds")
        if low is not None and high is not None and low > high:
            raise at.fail("max", f"{high:g} is below min {low:g}")
        if r["decimals"] and not r["decimals"].isdigit():
            raise at.fail("decimals", f'"{r["decimals"]}" is not a whole number of places (0, 1, 2 ...)')
        valid_from, valid_to = at.periods(r, "valid_from", "valid_to")
        ind = Indicator(
            code=r["code"], name=r["name"], unit=r["unit"], sheet=sheet, reported_by=who,
            kind=kind, min=low, max=high, decimals=int(r["decimals"]) if r["decimals"] else None,
            summary_phrase=r["summary_phrase"], valid_from=valid_from, valid_to=valid_to)
        for other_line, other in seen.get(ind.code, []):
            # another definition of the same indicator: the same meaning, for other quarters
            for column in ("sheet", "reported_by", "kind"):
                if getattr(other, column) != getattr(ind, column):
                    raise at.fail(column, f'"{getattr(ind, column)}" differs from line {other_line} of the '
                                          f'same code: a changed meaning needs a new code')
            if _overlap(ind, other):
                raise at.fail("code", f'"{ind.code}" is a duplicate of line {other_line} for the same quarters '
                                      "(a second definition needs valid_from after the other's valid_to)")
        seen.setdefault(ind.code, []).append((line, ind))
        out.append(ind)
    return tuple(out)


def _overlap(a: Indicator, b: Indicator) -> bool:
    first = max(quarter_index(p) if p else -1 for p in (a.valid_from, b.valid_from))
    last = min(quarter_index(p) if p else 1 << 30 for p in (a.valid_to, b.valid_to))
    return first <= last


def load_units(path: Path) -> tuple[Unit, ...]:
    """The unit registry at `path`, checked row by row against FORM.md's code shapes and
    hierarchy; CatalogError names the first bad cell."""
    rows = list(_rows(path, UNIT_COLUMNS))
    types: dict[str, str] = {}
    lines: dict[str, int] = {}
    for line, r in rows:
        at = _Where(path, line)
        code = r["unit_code"]
        kind = at.one_of(r, "unit_type", UNIT_TYPES)
        if not code.isdigit() or len(code) != CODE_LENGTH[kind]:
            raise at.fail("unit_code", f'"{code}" is not a {kind} code of {CODE_LENGTH[kind]} digits')
        if kind == "department" and not code.endswith(DEPARTMENT_ENDINGS):
            raise at.fail("unit_code", f'"{code}" is a department code but does not end 901–903')
        if code in types:
            raise at.fail("unit_code", f'"{code}" is a duplicate of line {lines[code]}')
        if not r["unit_name"]:
            raise at.fail("unit_name", "is empty")
        at.periods(r, "opened", "closed")
        types[code], lines[code] = kind, line
    counties = [line for line, r in rows if r["unit_type"] == "county"]
    if len(counties) != 1:  # its name heads the office's outputs (county())
        where = f"lines {', '.join(map(str, counties))}" if counties else "no line"
        raise CatalogError(f"{_shown(path)}: the registry needs exactly one county row ({where} has one)")
    parent_type = {"town": "county", "department": "county", "village": "town"}
    for line, r in rows:
        wanted = parent_type.get(r["unit_type"])
        if wanted and types.get(r["parent_code"]) != wanted:
            raise _Where(path, line).fail(
                "parent_code", f'"{r["parent_code"]}" is not a {wanted} of this registry')
    for line, r in rows:
        successor = r.get("successor", "")
        if successor:
            at = _Where(path, line)
            if types.get(successor) != r["unit_type"]:
                raise at.fail("successor", f'"{successor}" is not a {r["unit_type"]} of this registry')
            if not r.get("closed"):
                raise at.fail("closed", "is empty, but a unit with a successor has closed")
    return tuple(Unit(code=r["unit_code"], name=r["unit_name"], type=r["unit_type"],
                      parent_code=r["parent_code"], village_type=r["village_type"],
                      opened=r.get("opened", "").upper() or None, closed=r.get("closed", "").upper() or None,
                      successor=r.get("successor", "")) for _, r in rows)


@cache
def definitions() -> tuple[Indicator, ...]:
    """Every row of the catalog: each indicator's definitions, each for its own quarters."""
    return load_indicators(INDICATORS_CSV)


@cache
def indicators() -> tuple[Indicator, ...]:
    """One per code, in the catalog's order: its latest definition (its name and bounds now)."""
    latest: dict[str, Indicator] = {}
    for ind in definitions():
        held = latest.get(ind.code)
        if held is None or quarter_index(ind.valid_from or "0000Q1") > quarter_index(held.valid_from or "0000Q1"):
            latest[ind.code] = ind
    return tuple(latest.values())


@cache
def form_of(period: str) -> tuple[Indicator, ...]:
    """The indicators on the form of `period`, each in its definition of that quarter."""
    return tuple(i for i in definitions() if i.on_form(period))


def indicator_on(code: str, period: str) -> Indicator | None:
    """`code`'s definition on the form of `period`, or None when it is not on that form."""
    return next((i for i in form_of(period) if i.code == code), None)


@cache
def units() -> tuple[Unit, ...]:
    return load_units(UNITS_CSV)


@cache
def indicator_by_code() -> dict[str, Indicator]:
    return {i.code: i for i in indicators()}


@cache
def unit_by_code() -> dict[str, Unit]:
    return {u.code: u for u in units()}


def county() -> Unit:
    """The county of the registry (its one county row): its name heads the office's outputs."""
    return next(u for u in units() if u.type == "county")


def office_name() -> str:
    """The office that writes the report: 云岭县精神文明建设办公室 for the registry's 云岭县."""
    return f"{county().name}精神文明建设办公室"


def towns() -> list[Unit]:
    return [u for u in units() if u.type == "town"]


def departments() -> list[Unit]:
    return [u for u in units() if u.type == "department"]


def submitters() -> list[Unit]:
    """Every unit that sends a quarterly workbook: towns, then departments."""
    return towns() + departments()


@cache
def villages_of(town_code: str, period: str | None = None) -> tuple[Unit, ...]:
    """The town's villages that exist in `period` (None: every village it ever had)."""
    return tuple(u for u in units() if u.type == "village" and u.parent_code == town_code
                 and (period is None or u.exists_in(period)))


def sheets_of(unit: Unit) -> tuple[str, ...]:
    """The data sheets a unit's workbook holds, after the cover."""
    if unit.type == "town":
        return (VILLAGE_SHEET, TOWN_SHEET)
    return (COUNTY_SHEET,)


def indicators_for(unit: Unit, sheet: str, period: str) -> list[Indicator]:
    """The indicators `unit` reports on `sheet` on the form of `period`, in catalog order."""
    who = "town" if unit.type == "town" else unit.code
    return [i for i in form_of(period) if i.sheet == sheet and i.reported_by == who]


_BRACKETED_UNIT = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")


def header_key(header: str) -> str:
    """The indicator name a column header stands for: `道德讲堂(场次)` -> `道德讲堂`."""
    return _BRACKETED_UNIT.sub("", str(header).strip()).strip()
