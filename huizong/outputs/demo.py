"""A deterministic generator of the county's quarterly workbooks, for the demo and the tests.

`true_value` is the figure a unit reports for a quarter; `write_unit_workbook` writes it the way
clerks do (text numbers, 是/否, empty for zero, varied headers and period forms), so reading it
back must give `true_value` again. Tests add up `true_value` by hand to check the SQL models.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from huizong.core.clock import due_by, period_of, quarter_index
from huizong.intake.writer import Values, write_workbook
from huizong.schemas import catalog as cat

DEMO_PERIODS = tuple(f"{y}Q{q}" for y in (2018, 2019) for q in (1, 2, 3, 4))
LEVEL_STEPS = cat.LEVELS  # from none up to the national title


def _draw(*key: object) -> float:
    """A stable number in [0, 1) for a key: the same on every machine and run."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def true_value(unit_code: str, period: str, code: str) -> float | str:
    """What `unit_code` (a village, town or department) reports for `code` in `period`."""
    ind = cat.indicator_by_code()[code]
    q = quarter_index(period)
    base = _draw(unit_code, code)
    if ind.kind == "level":
        # Most villages and towns hold no title; some climb one step every few years.
        if base < 0.6:
            return "无"
        step = min(len(LEVEL_STEPS) - 1, int((base - 0.6) * 10) + (q - 8072) // 6)
        return LEVEL_STEPS[max(1, step)]
    if ind.kind == "flag":
        # Once built, it stays: 1 from a unit's own quarter onward, never dropping back.
        return 1.0 if q >= 8070 + int(base * 10) else 0.0
    if code == "V01":  # households grow slowly, from 200 or more in 1970
        return float(200 + int(base * 600) + max(0, q - 7880) // 2)
    if code in ("V08", "V09"):  # a share of the households, so never more than V01
        households = true_value(unit_code, period, "V01")
        return float(int(households * (0.2 + 0.5 * base)))
    if code in ("V14", "V15") and true_value(unit_code, period, "V13") == 0:
        return 0.0
    if code == "E03":
        return 40.0 * true_value(unit_code, period, "E02")
    # Each unit has its own usual level; a quarter varies around it by at most x2.3, so that
    # the demo raises no spike warning (schemas/rules.py SPIKE_FACTOR, 5 times the median) by chance.
    usual = max(3.0, (ind.max or 0) * {"stock": 0.05, "flow": 0.02}[ind.kind]) * (0.3 + 0.7 * base)
    value = usual * (0.6 + 0.8 * _draw(unit_code, period, code))
    if code in ("V13",) and _draw(unit_code, period, "quiet") < 0.3:
        return 0.0  # some villages hold no review in a quarter
    if ind.decimals:
        return round(value, ind.decimals)
    return float(int(value))


def unit_values(unit: cat.Unit, period: str) -> dict[tuple[str, str], float | str]:
    """Every true value of one unit's workbook for a period."""
    out: dict[tuple[str, str], float | str] = {}
    for sheet in cat.sheets_of(unit):
        holders = cat.villages_of(unit.code, period) if sheet == cat.VILLAGE_SHEET else (unit,)
        for holder in holders:
            for ind in cat.indicators_for(unit, sheet, period):
                out[(holder.code, ind.code)] = true_value(holder.code, period, ind.code)
    return out


def as_clerk_writes(value: float | str, kind: str, key: tuple) -> object:
    """The same value the way a clerk might type it: all forms the filling rules accept."""
    if isinstance(value, str):
        return "" if value == "无" and _draw(*key, "blank") < 0.5 else value
    style = _draw(*key, "style")
    if kind == "flag":
        return ("是" if value else "否") if style < 0.3 else int(value)
    if value == 0:
        return ["", 0, "—", "无", "/"][int(style * 5)]
    if style < 0.08:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if style < 0.12:
        return str(int(value)).translate(str.maketrans("0123456789", "０１２３４５６７８９")) \
            if float(value).is_integer() else value
    if style < 0.2:
        return str(int(value)) if float(value).is_integer() else str(value)
    return int(value) if float(value).is_integer() else value


def period_text(unit_code: str, period: str) -> str:
    """The cover's 报告期 in one of the three accepted forms."""
    year, q = period[:4], period[-1]
    form = int(_draw(unit_code, period, "period") * 3)
    return [period, f"{year}年第{q}季度", f"{year}年第{'一二三四'[int(q) - 1]}季度"][form]


def write_unit_workbook(path: Path, unit: cat.Unit, period: str,
                        overrides: Values | None = None, **kwargs) -> Path:
    """Write a unit's demo workbook for a period; `overrides` replace cells (for bad files)."""
    kinds = {i.code: i for i in cat.form_of(period)}
    values: Values = {k: as_clerk_writes(v, kinds[k[1]].kind, (k, period))
                      for k, v in unit_values(unit, period).items()}
    values.update(overrides or {})
    kwargs.setdefault("header", ("full", "half", "bare")[int(_draw(unit.code, "header") * 3)])
    kwargs.setdefault("form_period", period)
    return write_workbook(path, unit, period_text(unit.code, period), values, **kwargs)


def received_time(unit_code: str, period: str) -> float:
    """A plausible arrival time: most units a few days before the deadline, some late."""
    due = due_by(period) - dt.timedelta(hours=12)  # noon of the 10th, the deadline's day
    return (due + dt.timedelta(days=int(_draw(unit_code, period, "late") * 16) - 13)).timestamp()


def generate(out_dir: Path, periods: tuple[str, ...] = DEMO_PERIODS,
             units: list[cat.Unit] | None = None) -> list[Path]:
    """Write every town's and department's workbook (or only those of `units`) for `periods`
    into `out_dir`."""
    paths = []
    for period in periods:
        for unit in units or cat.submitters():
            path = write_unit_workbook(out_dir / f"{unit.name}_{period}.xlsx", unit, period)
            os.utime(path, (received_time(unit.code, period),) * 2)
            paths.append(path)
    return paths


# The demo's correct correction of 城关镇 990101100's 2019Q3: 东街社区's moral lectures (V03, was 1),
# 西街社区's family mottos (V10, was 5), the town's large posters (T02, was 16)
CORRECTION: Values = {("990101100001", "V03"): 2, ("990101100002", "V10"): 6, ("990101100", "T02"): 12}


def write_demo_inbox(inbox: Path) -> list[Path]:
    """The shipped demo: the whole of 2018 and 2019 (so that the summary compares two years),
    plus two resubmissions a clerk got wrong, and one correct correction: the first town's
    2019Q3 sent again with three figures changed (`huizong diff --unit 990101100 --period
    2019Q3` shows them). It lands a day after the quarter's own file."""
    paths = generate(inbox, DEMO_PERIODS)
    town = cat.towns()[0]
    first, second = cat.villages_of(town.code)[:2]
    paths.append(write_unit_workbook(
        inbox / f"{town.name}_2019Q3_更正.xlsx", town, "2019Q3",
        {(first.code, "V03"): "-2", (second.code, "V10"): "约100", (town.code, "T02"): "十二"}))
    paths.append(write_unit_workbook(inbox / f"{town.name}_2019Q3_更正2.xlsx", town, "2019Q3", CORRECTION))
    os.utime(paths[-1], (received_time(town.code, "2019Q3") + 86400,) * 2)
    other = cat.towns()[1]
    stranger = cat.villages_of(cat.towns()[2].code)[0]
    rows = [(v.code, v.name) for v in cat.villages_of(other.code)[1:]] + [(stranger.code, stranger.name)]
    paths.append(write_unit_workbook(inbox / f"{other.name}_2019Q4(2).xlsx", other, "2019Q4",
                                     villages=rows))
    return paths


# --- a form and a map that change: the demo of issue 26 ------------------------------------------
CHANGED_FROM = "2020Q1"  # the first quarter of the changed form and map
CHANGING_PERIODS = tuple(f"{y}Q{q}" for y in (2019, 2020) for q in (1, 2, 3, 4))
NEW_INDICATORS = (  # on the form from CHANGED_FROM
    ("V16", "志愿服务时长", "小时", cat.VILLAGE_SHEET, "town", "flow", "0", "10000", "0", ""),
    ("T20", "网络文明传播活动", "场次", cat.TOWN_SHEET, "town", "flow", "0", "500", "0", ""),
)
RETIRED = "V15"  # 黑榜: its last quarter is the one before CHANGED_FROM
REBOUNDED = ("V03", "max", "150")  # 道德讲堂: the same meaning, a higher bound
RENAMED = ("T17", "name", "群众性文化体育活动")  # the same meaning, a new name


def merged_village() -> tuple[cat.Unit, cat.Unit]:
    """(the village merged away, the village it is merged into): the first town's third and second."""
    villages = cat.villages_of(cat.towns()[0].code)
    return villages[2], villages[1]


def write_changing_catalog(folder: Path) -> Path:
    """The shipped catalog and registry as an office would change them for 2020 (from
    CHANGED_FROM): two indicators added, one retired, one re-bounded, one renamed (each a second
    definition of its code), and one village merged into its neighbour. For HUIZONG_CATALOG."""
    import csv

    previous = period_of(quarter_index(CHANGED_FROM) - 1)
    folder.mkdir(parents=True, exist_ok=True)
    with (cat.CATALOG_DIR / "indicators.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, list(reader)
    out = []
    for row in rows:
        code = row["code"]
        if code == RETIRED:
            row = {**row, "valid_to": previous}
        for changed, column, value in (REBOUNDED, RENAMED):
            if code == changed:
                out.append({**row, "valid_to": previous})
                row = {**row, column: value, "valid_from": CHANGED_FROM}
        out.append(row)
        for new in NEW_INDICATORS:
            if code == {cat.VILLAGE_SHEET: "V15", cat.TOWN_SHEET: "T19"}[new[3]]:
                out.append({**dict(zip(columns, new)), "valid_from": CHANGED_FROM, "valid_to": ""})
    with (folder / "indicators.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    gone, into = merged_village()
    with (cat.CATALOG_DIR / "units.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["unit_code"] == gone.code:
            row.update(closed=previous, successor=into.code)
    with (folder / "units.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder
