"""The annual work summary as a file: Markdown, HTML (with charts) or Word, by the file's ending.

Reads the published warehouse (read-only, like an analyst), or a pass's build to draft from
(flows/reporting.py), through the queries of `sql/report/`, fills the template (`summary.py`)
and writes the file whole or not at all (a temporary file renamed into place), so that a reader
never opens half a report.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import duckdb

from huizong.core import clock
from huizong.core.errors import HuizongError
from huizong.core.files import written_whole
from huizong.core.vocabulary import VALID_SUBMISSIONS
from huizong.outputs.html import render_html
from huizong.outputs.markdown import render_markdown
from huizong.outputs.summary import (
    Coverage,
    Figure,
    Summary,
    fill,
)
from huizong.outputs.word import render_docx
from huizong.schemas import catalog as cat
from huizong.store.versions import models_version
from huizong.store.warehouse import SQL_DIR, connect_read_only, has_marts, models_version_of, nothing_published

FORMATS = (".md", ".html", ".docx")
TOWN_CHART_INDICATORS = ["V03", "V08", "T02", "T15"]  # towns compared on these in the HTML


class ReportError(HuizongError, ValueError):
    """No report can be written: no warehouse, no data for the year, an unknown format."""


@dataclass
class ReportData:
    summary: Summary
    as_of: dt.datetime
    quarters_valid: int  # over the covered quarters
    quarters_expected: int
    units_short: str | None  # units with a covered quarter not valid, e.g. 城关镇（1/2）
    status: list[tuple[str, str, str]]  # (unit name, period, status), not_due decided by the clock
    periods: list[str]  # the year's four quarters
    towns: list[tuple]
    years: list[tuple]  # (label, this year, last year) over the same quarters, both complete
    coverage: Coverage = None
    not_due: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (period, due by)
    years_left_out: int = 0  # indicators not compared: a year incomplete over those quarters
    # the year's warned figures and their review (sql/report/reviewed_warnings.sql)
    reviewed: list[tuple] = field(default_factory=list)


def _query(con: duckdb.DuckDBPyConnection, name: str, **params) -> list[tuple]:
    sql = (SQL_DIR / "report" / name).read_text(encoding="utf-8")
    return con.execute(sql, params).fetchall()


def years_with_data(con: duckdb.DuckDBPyConnection) -> list[int]:
    if not has_marts(con):  # nothing published yet
        return []
    return [y for (y,) in _query(con, "years_with_data.sql")]


VALID = VALID_SUBMISSIONS


def coverage_of(year: int, grid: list[tuple], now: dt.datetime) -> Coverage:
    """The quarters a summary of `year` covers, written at `now`: 1 up to the latest quarter
    whose deadline has passed, or later if a valid file of a later quarter is already in."""
    due = [q for q in range(1, 5) if clock.due_by(f"{year}Q{q}") <= now]
    valid = [row[5] for row in grid if row[2] in VALID]
    return Coverage(year, max([*due, *valid, 1]))


def year_status(con: duckdb.DuckDBPyConnection, year: int, now: dt.datetime) -> dict[tuple[str, str], str]:
    """Each (unit code, period) of the year's four quarters: the mart's status, except that a
    quarter without a valid file whose deadline has not passed at `now` is not_due
    (sql/report/year_status.sql)."""
    return {(code, period): st for code, period, st in _query(con, "year_status.sql", year=year, now=now)}


def may_change(ind: cat.Indicator, fig: Figure, valid: set[tuple[str, int]], owed: set[tuple[str, int]],
               coverage: Coverage) -> bool:
    """Whether a late or corrected file of a covered quarter could still change the figure.

    A flow changes with any covered quarter missing or rejected; a stock, flag or level (and the
    share and levels derived from them) only with the latest covered quarter missing for some
    reporter, since its year value is each reporter's latest quarter; a count of units active in
    the year (villages with reviews, towns with touring lectures) cannot rise above every unit.
    `valid` and `owed` are (unit, quarter)s of year_status.sql: a valid version in force, and
    anything but not_open (a town set up or merged away owes no other quarter)."""
    if fig.value is None:
        return True
    reporters = {u.code for u in cat.towns()} if ind.reported_by == "town" else {ind.reported_by}
    owed = sorted((r, q) for r, q in owed if r in reporters and q <= coverage.through)
    any_missing = any(rq not in valid for rq in owed)
    latest = [r for r, q in owed if q == coverage.through]
    latest_missing = any((r, coverage.through) not in valid for r in latest)
    if (ind.code, fig.slot) in (("V13", 1), ("T18", 1)):
        period = f"{coverage.year}Q{coverage.through}"  # the villages of the year's latest covered quarter
        ceiling = len(latest) if ind.code == "T18" else sum(len(cat.villages_of(r, period)) for r in latest)
        return any_missing and fig.value < ceiling
    if ind.kind == "flow":
        return any_missing
    return latest_missing


def read_report_data(con: duckdb.DuckDBPyConnection, year: int, now: dt.datetime | None = None) -> ReportData:
    if models_version_of(con) != models_version():
        raise ReportError("the warehouse was built under another catalog or other SQL models than "
                          "this huizong's: the next `huizong run` rebuilds it, then write the report")
    years = years_with_data(con)
    if year not in years:
        have = "、".join(map(str, years)) or "none"
        raise ReportError(f"no valid submission for {year} in the warehouse (years with data: {have})")
    now = now or clock.now()
    grid = _query(con, "status_grid.sql", year=year)
    coverage = coverage_of(year, grid, now)
    status = year_status(con, year, now)
    valid = {(code, int(period[-1])) for (code, period), st in status.items() if st in VALID}
    owed = {(code, int(period[-1])) for (code, period), st in status.items() if st != "not_open"}
    by_code = cat.indicator_by_code()
    figures = []
    for code, slot, value, qv, qe, what in _query(con, "summary_figures.sql", year=year):
        fig = Figure(code, slot, None if value is None else Decimal(str(value)), int(qv),
                     int(qe) * coverage.through // 4, what)  # expected over the covered quarters
        figures.append(replace(fig, may_change=may_change(by_code[code], fig, valid, owed, coverage)))
    holders = {"V04": [name for _, name, _ in _query(con, "flag_holders.sql", year=year, code="V04")]}
    summary = fill(year, list(cat.indicators()), figures, coverage=coverage, names=holders)

    # the grid's units, or (a year without one) year_status.sql's: the submitters of the year
    units = cat.unit_by_code()
    names = {row[4]: row[0] for row in grid} or {code: units[code].name for code, _ in status}
    covered = coverage.periods
    per_unit = {code: sum(status[(code, p)] in VALID for p in covered) for code in names}
    owed_by_unit = {code: sum(status[(code, p)] != "not_open" for p in covered) for code in names}
    short = "、".join(f"{names[c]}（{n}/{owed_by_unit[c]}）" for c, n in per_unit.items() if n < owed_by_unit[c])
    periods = [f"{year}Q{q}" for q in range(1, 5)]
    rows = _query(con, "year_chart.sql", year=year, through=coverage.through)
    compared = [(label, v, p) for label, v, p, ok, prev_ok in rows if ok and prev_ok and p is not None]
    return ReportData(
        summary=summary, as_of=now.astimezone(clock.OFFICE_TZ), quarters_valid=sum(per_unit.values()),
        quarters_expected=sum(owed_by_unit.values()), units_short=short or None,
        status=[(names[c], p, status[(c, p)]) for c in names for p in periods], periods=periods,
        towns=_query(con, "town_chart.sql", year=year, codes=TOWN_CHART_INDICATORS),
        years=compared, coverage=coverage,
        not_due=[(p, clock.due_by(p)) for p in periods if clock.due_by(p) > now],
        years_left_out=sum(1 for r in rows if r[2] is not None) - len(compared),
        reviewed=_query(con, "reviewed_warnings.sql", year=year))


def default_out(warehouse: Path, year: int | Coverage, suffix: str = ".html") -> Path:
    """<warehouse>/reports/summary_2019.html, or summary_2020_1-6月.html for part of a year."""
    tag = year.file_tag if isinstance(year, Coverage) else str(year)
    return Path(warehouse) / "reports" / f"summary_{tag}{suffix}"


def check_out(out: Path) -> None:
    """A file the report can be written to: not a folder, and of a known format."""
    if out.is_dir():
        raise ReportError(f"{out} is a folder: name the report's file, e.g. {out / 'summary.html'}")
    if out.suffix.lower() not in FORMATS:
        raise ReportError(f"{out.name}: the report is written as {', '.join(FORMATS)}")


def read_warehouse(warehouse: Path, year: int | None = None) -> ReportData | None:
    """The report's data for `year` (default: the latest year with data); None without any."""
    con = connect_read_only(warehouse)
    if con is None:
        return None
    try:
        if not has_marts(con):
            return None
        years = years_with_data(con)
        if year is None and not years:
            return None
        return read_report_data(con, year or years[-1])
    finally:
        con.close()


def years_to_report(warehouse: Path, today: dt.date | None = None) -> list[int]:
    """What the nightly pass writes: the latest earlier year with data (complete, or as far as
    it is due) and the current year to date, if it has data, and any year unlocked to be
    revised; never a year signed off (its summary is the signed one, huizong/office/signoff.py)."""
    con = connect_read_only(warehouse)
    if con is None:
        return []
    try:
        return years_to_report_of(con, today)
    finally:
        con.close()


def years_to_report_of(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> list[int]:
    """years_to_report, of the warehouse (published, or a pass's build) open as `con`."""
    from huizong.store.locks import locked_years, reopened_years

    years = years_with_data(con)
    locked, reopened = locked_years(con), reopened_years(con)
    this_year = (today or clock.today()).year
    earlier = [y for y in years if y < this_year]
    chosen = earlier[-1:] + [y for y in years if y == this_year] + [y for y in reopened if y in years]
    return sorted({y for y in chosen if y not in locked})


def write_report(warehouse: Path, year: int, out: Path | None = None) -> Path:
    """Write the year's summary to `out` (its ending picks the format). A signed-off year's
    summary under reports/ and signed/ is the signed one: it is written only elsewhere."""
    warehouse = Path(warehouse)
    if out:
        check_out(Path(out))
    refuse_signed(warehouse, year, out)
    data = read_warehouse(warehouse, year)
    if data is None:
        raise ReportError(nothing_published(warehouse))
    return write_file(data, Path(out) if out else default_out(warehouse, data.coverage))


def refuse_signed(warehouse: Path, year: int, out: Path | None) -> None:
    """ReportError if `year` is signed off and `out` is none, or its summary under reports/, or
    a file under signed/ (huizong/office/signoff.py)."""
    from huizong.store.locks import SIGNED_DIR, locked_years_of

    locked = locked_years_of(warehouse).get(year)
    if locked is None:
        return
    target = Path(out).resolve() if out else None
    kept = [Path(warehouse).resolve() / "reports", Path(warehouse).resolve() / SIGNED_DIR]
    if target is None or any(target.is_relative_to(folder) for folder in kept):
        raise ReportError(f"{locked.says()}: its summary is not written again there; to write a copy, "
                          "name a file elsewhere with --out")


def write_year_reports(warehouse: Path, year: int | None = None, write_apart=None,
                       apart: tuple[str, ...] = (".docx",)) -> list[Path]:
    """The summaries in every format under `<warehouse>/reports/`, each named for what it covers
    (summary_2019.md, summary_2020_1-6月.md): of `year`, or by default of the years_to_report.
    A summary of the same year that covered fewer quarters is removed. [] without data.
    `write_apart(data, out)`, when given, writes the files whose ending is in `apart` (the Word
    files by default, the slowest: their charts are drawn as images) in other processes, side
    by side with this one's."""
    warehouse = Path(warehouse)
    con = connect_read_only(warehouse)
    if con is None:
        return []
    try:
        plan = plan_year_reports(con, warehouse, year)
    finally:
        con.close()
    render_reports(plan, write_apart=write_apart, apart=apart)
    return replace_fewer_quarters(warehouse, plan)


# (year, its data, the file of each format under <warehouse>/reports/)
ReportPlan = list[tuple[int, ReportData, list[Path]]]


def plan_year_reports(con: duckdb.DuckDBPyConnection, warehouse: Path, year: int | None = None) -> ReportPlan:
    """What write_year_reports writes, read from the warehouse open as `con`."""
    plan = []
    for y in ([year] if year else years_to_report_of(con)):
        data = read_report_data(con, y)
        plan.append((y, data, [default_out(Path(warehouse), data.coverage, suffix) for suffix in FORMATS]))
    return plan


def render_reports(plan: ReportPlan, into: Path | None = None, write_apart=None,
                   apart: tuple[str, ...] = (".docx",)) -> list[Path]:
    """Write every file of `plan`, under its own name in `into` if given (drafts); the files
    whose ending is in `apart` by `write_apart(data, out)`, side by side with this process's."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(data, into / out.name if into else out) for _, data, outs in plan for out in outs]
    sent = [(data, out) for data, out in jobs if write_apart and out.suffix in apart]
    with ThreadPoolExecutor(max_workers=max(1, len(sent))) as others:
        futures = [others.submit(write_apart, data, out) for data, out in sent]
        for data, out in jobs:
            if not any(out == sent_out for _, sent_out in sent):
                write_file(data, out)
        for future in futures:
            future.result()
    return [out for _, out in jobs]


def replace_fewer_quarters(warehouse: Path, plan: ReportPlan) -> list[Path]:
    """Remove an earlier pass's summary of the same year that covered fewer quarters; the
    plan's files, in order."""
    written = []
    for y, _, paths in plan:
        for old in (Path(warehouse) / "reports").glob(f"summary_{y}*"):
            if old.suffix in FORMATS and old not in paths and old.stem.split("_")[1] == str(y):
                old.unlink()
        written += paths
    return written


def import_libraries() -> None:
    """Import what writing the reports needs (matplotlib, python-docx: about half a second) and
    find the charts' font, ahead of time; never raises (writing a report imports them again,
    and says what fails)."""
    try:
        from huizong.outputs import charts

        charts._pyplot()
        charts.cjk_font()
        import docx  # noqa: F401
    except Exception:
        pass


def write_file(data: ReportData, out: Path) -> Path:
    """Write `data` to `out` whole or not at all (a temporary file renamed into place)."""
    check_out(out)
    suffix = out.suffix.lower()
    with written_whole(out) as tmp:
        if suffix == ".md":
            tmp.write_text(render_markdown(data), encoding="utf-8")
        elif suffix == ".html":
            tmp.write_text(render_html(data), encoding="utf-8")
        else:
            render_docx(data, tmp)
    return out
