"""The annual work summary as a file: Markdown, HTML (with charts) or Word, by the file's ending.

Reads the published warehouse (read-only, like an analyst), or a pass's build to draft from
(flows/reporting.py), through the queries of `sql/report/`, fills the template (`summary.py`)
and writes the file whole or not at all (a temporary file renamed into place), so that a reader
never opens half a report.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from huizong.core import clock
from huizong.core.errors import HuizongError
from huizong.core.files import written_whole
from huizong.core.vocabulary import VALID_SUBMISSIONS
from huizong.outputs.charts import STATUS_STYLE
from huizong.outputs.summary import (
    CONFIRM,
    INCOMPLETE_MARK,
    QUARTER_WORDS,
    Coverage,
    Figure,
    Summary,
    fill,
    plain_number,
)
from huizong.schemas import catalog as cat
from huizong.store.versions import models_version
from huizong.store.warehouse import SQL_DIR, connect_read_only, has_marts, models_version_of, nothing_published

FORMATS = (".md", ".html", ".docx")
OFFICE_TIME = ZoneInfo("Asia/Shanghai")  # the time the note under the summary is written in
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


def may_change(ind: cat.Indicator, fig: Figure, valid: set[tuple[str, int]], coverage: Coverage) -> bool:
    """Whether a late or corrected file of a covered quarter could still change the figure.

    A flow changes with any covered quarter missing or rejected; a stock, flag or level (and the
    share and levels derived from them) only with the latest covered quarter missing for some
    reporter, since its year value is each reporter's latest quarter; a count of units active in
    the year (villages with reviews, towns with touring lectures) cannot rise above every unit."""
    if fig.value is None:
        return True
    reporters = ([u.code for u in cat.towns()] if ind.reported_by == "town" else [ind.reported_by])
    quarters = range(1, coverage.through + 1)
    any_missing = any((r, q) not in valid for r in reporters for q in quarters)
    latest_missing = any((r, coverage.through) not in valid for r in reporters)
    if (ind.code, fig.slot) in (("V13", 1), ("T18", 1)):
        ceiling = len(reporters) if ind.code == "T18" else sum(len(cat.villages_of(r)) for r in reporters)
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
    by_code = cat.indicator_by_code()
    figures = []
    for code, slot, value, qv, qe, what in _query(con, "summary_figures.sql", year=year):
        fig = Figure(code, slot, None if value is None else Decimal(str(value)), int(qv),
                     int(qe) * coverage.through // 4, what)  # expected over the covered quarters
        figures.append(replace(fig, may_change=may_change(by_code[code], fig, valid, coverage)))
    holders = {"V04": [name for _, name, _ in _query(con, "flag_holders.sql", year=year, code="V04")]}
    summary = fill(year, list(cat.indicators()), figures, coverage=coverage, names=holders)

    names = {row[4]: row[0] for row in grid} or {u.code: u.name for u in cat.submitters()}
    covered = coverage.periods
    per_unit = {code: sum(status[(code, p)] in VALID for p in covered) for code in names}
    short = "、".join(f"{names[c]}（{n}/{len(covered)}）" for c, n in per_unit.items() if n < len(covered))
    periods = [f"{year}Q{q}" for q in range(1, 5)]
    rows = _query(con, "year_chart.sql", year=year, through=coverage.through)
    compared = [(label, v, p) for label, v, p, ok, prev_ok in rows if ok and prev_ok and p is not None]
    return ReportData(
        summary=summary, as_of=now.astimezone(OFFICE_TIME), quarters_valid=sum(per_unit.values()),
        quarters_expected=len(names) * len(covered), units_short=short or None,
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


# --- what every format says besides the text ------------------------------------------------

def _day(moment: dt.datetime) -> str:
    """The last day on which a file is on time: due_by is the midnight after it."""
    last = (moment.astimezone(OFFICE_TIME) - dt.timedelta(seconds=1)).date()
    return f"{last.year}年{last.month}月{last.day}日"


def coverage_note(data: ReportData) -> str:
    c = data.coverage
    if c.full:
        return f"本总结涵盖{c.year}年全年（第一至四季度）。"
    rest = "；".join(f"第{QUARTER_WORDS[int(p[-1])]}季度截止日期为{_day(due)}" for p, due in data.not_due)
    note = f"本总结只涵盖{c.year}年{c.months}（{c.quarters}），不是全年总结"
    return note + (f"：其余季度未到报送期（{rest}），不计为未报。" if rest else "。")


def compare_note(data: ReportData) -> str:
    c, last = data.coverage, data.coverage.year - 1
    span = "全年" if c.full else c.months
    if not data.years:
        return (f"与{last}年的比较从略：没有两年{span}报送均完整的指标"
                + ("。" if data.years_left_out == 0 else f"（{data.years_left_out}项指标有一年报送不完整）。"))
    note = f"与{last}年的比较按两年同期（{span}）计算，只比较两年同期报送均完整的指标"
    return note + (f"（另有{data.years_left_out}项指标有一年报送不完整，未作比较）。" if data.years_left_out else "。")


def data_notes(data: ReportData, quote=lambda text: text) -> list[str]:
    """The note under the summary: what it covers, where the figures come from, how complete
    they are, which may still change, and what the office must confirm. Text from a town or a
    clerk (explanations, review notes) goes through `quote`."""
    notes = [coverage_note(data),
             f"本总结中的数字由 huizong 根据各镇、各部门报送的季度报表汇总生成"
             f"（{data.as_of:%Y年%m月%d日 %H:%M}）。所涵盖季度应报送 "
             f"{data.quarters_expected} 个单位季度，有效报送 {data.quarters_valid} 个。"]
    if data.units_short:
        notes.append(f"报送不完整的单位（有效季度/应报季度）：{data.units_short}。")
    changing = data.summary.incomplete
    settled = [f for _, f in data.summary.figures
               if f.figure.complete and f.figure.quarters_valid < f.figure.quarters_expected]
    if changing:
        notes.append(f"标有“{INCOMPLETE_MARK}”的{len(changing)}个数字所依据的报送不完整（所涵盖季度中有单位未报或被退回），"
                     "补报或更正后还会变化。")
    if settled:
        notes.append(f"另有{len(settled)}个数字虽然也有单位季度未报，但补报不会改变它们（时点数取各单位所涵盖的最后一个季度，"
                     "该季度已报齐；或计数已达全部单位），故未标“" + INCOMPLETE_MARK + "”。")
    notes.append(compare_note(data))
    notes += review_notes(data.reviewed, quote)
    if data.summary.to_confirm:
        notes.append(f"文中标“{CONFIRM}”的{sum(s.kind == 'confirm' for s in data.summary.to_confirm)}处"
                     "内容不是由报表数据生成的，印发前请核实；标“【待填：…】”的"
                     f"{sum(s.kind == 'fill' for s in data.summary.to_confirm)}处请填写。")
    return notes


NOTED_FIGURES = 3  # warned figures named per state in the notes; the rest are counted


def one_line(text: str) -> str:
    """Text a town or a clerk typed, as one line: every run of spaces, tabs, line or paragraph
    breaks is one space, other control characters are dropped."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", re.sub(r"\s+", " ", text)).strip()


def review_notes(reviewed: list[tuple], quote=lambda text: text) -> list[str]:
    """The year's warned figures (huizong review): how many in each state, and the first few
    explained, accepted and returned ones with the town's or the office's reason, folded to one
    line and cut, then passed through `quote` (the Markdown file escapes it there)."""
    if not reviewed:
        return []
    by_state = {s: [r for r in reviewed if r[0] == s] for s in ("explained", "accepted", "returned", "open")}

    def named(rows: list[tuple], reason: int, label: str) -> str:
        def one(r: tuple) -> str:
            _, unit, period, village, indicator, measure, value, *_ = r
            # an accepted figure the town did not explain (confirmed by telephone): the office's note
            why, said = (r[reason], label) if r[reason] or reason != 7 else (r[8], "审核意见")
            why = one_line(why or "")
            why = why if len(why) <= 40 else why[:40] + "…"
            figure = f"{unit}{period}{village or ''}“{indicator}”{plain_number(value)}{measure}"
            return f"{figure}（{said}：{quote(why)}）" if why else figure
        more = f"等{len(rows)}个" if len(rows) > NOTED_FIGURES else ""
        return "；".join(one(r) for r in rows[:NOTED_FIGURES]) + more

    counts = "，".join(f"{word}{len(by_state[s])}个" for s, word in (
        ("accepted", "经审核认可"), ("explained", "已作说明、待审核"), ("returned", "已退回待更正"),
        ("open", "尚未说明")) if by_state[s])
    notes = [f"各单位报送的数字中有{len(reviewed)}个与本单位以往季度相比异常，已提醒核实（提醒不影响入库）：{counts}。"]
    if by_state["accepted"]:
        notes.append(f"经审核认可的：{named(by_state['accepted'], 7, '说明')}。")
    if by_state["explained"]:
        notes.append(f"已作说明、待审核的：{named(by_state['explained'], 7, '说明')}。")
    if by_state["returned"]:
        notes.append(f"已退回待更正的（在更正前仍按报送数计入汇总）：{named(by_state['returned'], 8, '退回意见')}。")
    return notes


def figure_rows(summary: Summary) -> list[tuple[str, str, str, str, str]]:
    """One row per figure of the text: code, indicator, as written, exact value, completeness."""
    return [(ind.code, ind.name + ("" if span.figure.figure in ("", "全县合计") else f"：{span.figure.figure}"),
             span.text + ("" if span.figure.complete else INCOMPLETE_MARK),
             "" if span.figure.value is None else plain_number(span.figure.value),
             f"{span.figure.quarters_valid}/{span.figure.quarters_expected}")
            for ind, span in summary.figures]


STATUS_WORDS = {status: label for status, (label, _) in STATUS_STYLE.items()}
FIGURE_HEADER = ("指标代码", "指标", "文中写作", "汇总值", "有效/应报单位季度")


def status_table(data: ReportData) -> tuple[list[str], list[list[str]]]:
    units = list(dict.fromkeys(r[0] for r in data.status))
    status = {(u, p): s for u, p, s in data.status}
    return (["报送单位", *data.periods],
            [[u, *(STATUS_WORDS[status.get((u, p), "missing")] for p in data.periods)] for u in units])


def year_caption(data: ReportData) -> str:
    c = data.coverage
    span = "" if c.full else c.months
    return f"{c.year}年{span}与{c.year - 1}年{span}比较"


# --- Markdown ----------------------------------------------------------------------------------

def md_literal(text: str) -> str:
    """Text from a town as Markdown that shows exactly that text and nothing live: every ASCII
    punctuation character backslash-escaped (CommonMark lets each be), so no emphasis, link,
    image, HTML tag, entity, table cell or code span can start; it is one line already
    (`one_line`), so it cannot start a paragraph, heading or list either."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", one_line(text))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *("| " + " | ".join(_md_cell(str(c)) for c in row) + " |" for row in rows)]


def _md_span(span) -> str:
    if span.kind == "confirm":
        return f"<mark>{span.text}</mark>{CONFIRM}"
    if span.kind == "fill":
        return f"<mark>{span.written}</mark>"
    return span.text + (INCOMPLETE_MARK if span.figure and not span.figure.complete else "")


def render_markdown(data: ReportData) -> str:
    lines: list[str] = []
    for block in data.summary.blocks:
        prefix = {"title": "# ", "heading": "## "}.get(block.kind, "")
        lines += [prefix + "".join(_md_span(s) for s in block.spans), ""]
        if block.kind == "title":
            lines += [f"> {coverage_note(data)}", ""]
    lines += ["---", "", "## 附：数据说明", ""] + [n + "\n" for n in data_notes(data, md_literal)]
    lines += ["### 报送情况", "", *_md_table(*status_table(data)), ""]
    lines += ["### 总结中的数字", "", *_md_table(FIGURE_HEADER, figure_rows(data.summary)), ""]
    if data.years:
        lines += [f"### {year_caption(data)}", "",
                  *_md_table(("指标", f"{data.coverage.year - 1}年", f"{data.coverage.year}年"),
                             [(label, _num(p), _num(v)) for label, v, p in data.years]), ""]
    return "\n".join(lines)


def _num(v) -> str:
    return "" if v is None else plain_number(Decimal(str(v)))


# --- HTML --------------------------------------------------------------------------------------

CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif;
       max-width: 52em; margin: 2em auto; padding: 0 1em; line-height: 1.9; color: #212121; }
h1 { text-align: center; font-size: 1.6em; }
p { text-indent: 2em; text-align: justify; }
.figure { font-weight: 600; color: #0d47a1; }
.figure.incomplete { color: #b71c1c; }
sup.mark { color: #b71c1c; }
mark.confirm, mark.fill { background: #fff59d; }
.confirm-tag { color: #e65100; font-weight: 600; }
.coverage { text-align: center; text-indent: 0; color: #37474f; }
figure.chart { margin: 2em 0; text-align: center; }
figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bdbdbd; padding: 0.2em 0.6em; }
.notes p { text-indent: 0; }
"""


def _html_block(block) -> str:
    parts = []
    for span in block.spans:
        if span.kind == "confirm":
            parts.append(f'<mark class="confirm" title="不是由报表数据生成，请核实">{html.escape(span.text)}</mark>'
                         f'<span class="confirm-tag">{CONFIRM}</span>')
            continue
        if span.kind == "fill":
            parts.append(f'<mark class="fill">{html.escape(span.written)}</mark>')
            continue
        if span.figure is None:
            parts.append(html.escape(span.text))
            continue
        f = span.figure
        exact = "暂无数据" if f.value is None else plain_number(f.value)
        tip = f"{f.indicator_code}：{exact}（有效 {f.quarters_valid}/{f.quarters_expected} 单位季度）"
        cls = "figure" if f.complete else "figure incomplete"
        mark = "" if f.complete else f'<sup class="mark">{INCOMPLETE_MARK}</sup>'
        parts.append(f'<span class="{cls}" title="{html.escape(tip)}">{html.escape(span.text)}</span>{mark}')
    tag = {"title": "h1", "heading": "h2"}.get(block.kind, "p")
    return f"<{tag}>{''.join(parts)}</{tag}>"


def _html_table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# On paper (the Word file's PNG) a chart is printed 156 mm wide and must fit the 225 mm text block
# with its caption: a long one is drawn as several parts of at most this many rows (a part of 30
# indicators is 176 mm tall, of 20 units 170 mm).
YEAR_ROWS_PER_CHART = 30
UNITS_PER_CHART = 20


def parts(items: list, most: int) -> list[list]:
    """`items` in as few runs of at most `most` as can be, of even length (31 rows: 16 and 15)."""
    if len(items) <= most:
        return [items]
    count = -(-len(items) // most)
    size = -(-len(items) // count)
    return [items[i:i + size] for i in range(0, len(items), size)]


def numbered(caption: str, i: int, count: int) -> str:
    return caption if count == 1 else f"{caption}（{i}/{count}）"


def drawn_charts(data: ReportData, fmt: str) -> list[tuple[str, object, str]]:
    """(key, drawing or None, caption) of the report's charts: three, or for paper (PNG) more
    when one is long (each part with its own axis, title and legend)."""
    from huizong.outputs import charts

    c = data.coverage
    years = charts.comparable([(label, _f(v), _f(p)) for label, v, p in data.years])
    units = list(dict.fromkeys(r[0] for r in data.status))
    year_parts = parts(years, YEAR_ROWS_PER_CHART) if fmt == "png" else [years]
    unit_parts = parts(units, UNITS_PER_CHART) if fmt == "png" else [units]
    drawn = [("towns", charts.towns_chart(data.towns, fmt=fmt), f"各镇主要指标对比（{c.year}年{'' if c.full else c.months}）")]
    for i, mine in enumerate(unit_parts, start=1):
        rows = [r for r in data.status if r[0] in set(mine)]
        drawn.append(("completeness", charts.completeness_chart(rows, data.periods, fmt=fmt),
                      numbered("报送完整度", i, len(unit_parts))))
    for i, rows in enumerate(year_parts, start=1):
        drawn.append(("years", charts.year_chart(rows, c.year, fmt=fmt, span="" if c.full else c.months),
                      numbered(year_caption(data), i, len(year_parts))))
    return drawn


def render_html(data: ReportData) -> str:
    figures = []
    for key, svg, caption in drawn_charts(data, "svg"):
        body = svg if svg else f"<p>（{html.escape(caption)}：没有可比较的数据）</p>"
        figures.append(f'<figure class="chart" id="chart-{key}">{body}'
                       f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    blocks = []
    for b in data.summary.blocks:
        blocks.append(_html_block(b))
        if b.kind == "title":
            blocks.append(f'<p class="coverage">{html.escape(coverage_note(data))}</p>')
    text = "\n".join(blocks)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in data_notes(data))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(data.summary.title)}</title><style>{CSS}</style></head>
<body>
{text}
<hr>
<h2>附：图表</h2>
{''.join(figures)}
<h2>附：数据说明</h2>
<div class="notes">{notes}</div>
<h3>报送情况</h3>
{_html_table(*status_table(data))}
<h3>总结中的数字</h3>
{_html_table(FIGURE_HEADER, figure_rows(data.summary))}
</body></html>
"""


def _f(v) -> float | None:
    return None if v is None else float(v)


# --- Word --------------------------------------------------------------------------------------
# GB/T 9704-2012 (党政机关公文格式): A4; top margin 37 mm, left 28 mm, a text block of 156 x 225 mm
# (so right 26 mm, bottom 35 mm); 22 lines of 28 characters on the document grid; body 3号 仿宋
# (16 pt), title 2号 小标宋 (22 pt), 一、 headings 黑体, （一） headings 楷体, all black; page
# numbers 4号 in the footer as — 1 —, odd pages right and even pages left.

OFFICE = cat.office_name()  # from the registry (schemas/units.csv)
BODY_FONT, TITLE_FONT, H1_FONT, H2_FONT = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"
LATIN_FONT = "Times New Roman"
FONT_ALT = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体"}  # where missing
LINE_PITCH_TWIPS = 579  # 225 mm / 22 lines
# 28 characters of 16 pt in 156 mm (442.2 pt) is 15.79 pt a character: a line grid of 22 lines,
# and the characters set 0.25 pt closer (w:spacing -5 twips: 28 x 15.75 pt = 441 pt). Not a
# character grid (linesAndChars, charSpace -842): Word squeezes 16 pt characters into its 15.79 pt
# cells, but LibreOffice gives each character as many whole cells as its size needs, two, so
# 14 characters a line and 29 pages.
CHAR_SPACING_TWIPS = -5
CHARTS_LEFT_OUT = "（图表未插入：生成本文件的计算机缺少可显示图表中文字的中文字体。请重新安装 huizong（其依赖包带有中文字体 Noto Sans SC）后重新生成，或查看同名 HTML 文件中的图表。）"


def _fonts(target, east_asia: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = target.font
    font.name = LATIN_FONT
    if size_pt:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    rfonts = target.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:eastAsia",):
        rfonts.set(qn(attr), east_asia)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)


def _paragraph_style(doc, name: str, east_asia: str, size_pt: float, outline: int | None = None):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    _fonts(style, east_asia, size_pt, bold=False)
    if outline is not None:  # in the navigation pane, without Word's blue heading styles
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), str(outline))
        style.element.get_or_add_pPr().append(lvl)
    return style


def _page_setup(doc) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.left_margin = Mm(37), Mm(28)
    section.right_margin, section.bottom_margin = Mm(210 - 28 - 156), Mm(297 - 37 - 225)
    section.header_distance, section.footer_distance = Mm(15), Mm(28 - 7)  # 页码 7 mm below the block
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    sect.append(grid)


# what follows w:spacing in a w:rPr (ECMA-376 CT_RPr): Word refuses a file out of this order
RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
                     "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang",
                     "w:eastAsianLayout", "w:specVanish", "w:oMath")


def _condensed(style) -> None:
    """The style's characters set CHAR_SPACING_TWIPS closer, 28 a line (see above)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CHAR_SPACING_TWIPS))
    style.element.get_or_add_rPr().insert_element_before(spacing, *RPR_AFTER_SPACING)


def _page_number(paragraph, size_pt: float = 14) -> None:
    """— PAGE — in 4号 宋体."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run(text=None, field=None):
        r = paragraph.add_run(text or "")
        _fonts(r, "宋体", size_pt)
        r.font.name = "宋体"
        if field:
            for kind, instr in (("begin", None), (None, field), ("separate", None), (None, "1"), ("end", None)):
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                    r._r.append(el)
                elif instr == field:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = f" {field} "
                    r._r.append(el)
                else:
                    el = OxmlElement("w:t")
                    el.text = instr
                    r._r.append(el)
        return r

    run("— ")
    run(field="PAGE")
    run(" —")


def _footers(doc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        p.paragraph_format.line_spacing = None
        # 单页码居右空一字，双页码居左空一字
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(14)
        else:
            p.paragraph_format.left_indent = Pt(14)
        _page_number(p)


def _metadata(doc, title: str, when: dt.datetime) -> None:
    props = doc.core_properties
    props.author = OFFICE
    props.last_modified_by = OFFICE
    props.title = title
    props.subject = ""
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.revision = 1
    utc = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    props.created = utc
    props.modified = utc
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = (
                b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                b"<Template>Normal.dotm</Template><Application>huizong</Application>"
                b"<Company>" + OFFICE.encode() + b"</Company></Properties>")


def _font_alternates(doc) -> None:
    """Name a common font Word uses where a GB/T 9704 font is not installed (w:altName)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    try:
        fonts = doc.part.part_related_by(RT.FONT_TABLE)
    except KeyError:
        return
    from docx.oxml import parse_xml

    root = parse_xml(fonts.blob)
    for name, alt in FONT_ALT.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt_el = OxmlElement("w:altName")
        alt_el.set(qn("w:val"), alt)
        font.append(alt_el)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")  # GB2312
        font.append(charset)
        root.append(font)
    from lxml import etree

    fonts._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def render_docx(data: ReportData, path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
    from docx.shared import Pt

    doc = Document()
    _page_setup(doc)
    normal = doc.styles["Normal"]
    _fonts(normal, BODY_FONT, 16)
    _condensed(normal)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(LINE_PITCH_TWIPS / 20)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    title_style = _paragraph_style(doc, "公文标题", TITLE_FONT, 22, outline=0)
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.paragraph_format.line_spacing = Pt(LINE_PITCH_TWIPS / 20 * 1.2)
    h1 = _paragraph_style(doc, "一级标题", H1_FONT, 16, outline=1)
    h1.paragraph_format.first_line_indent = Pt(32)
    h2 = _paragraph_style(doc, "二级标题", H2_FONT, 16, outline=2)
    h2.paragraph_format.first_line_indent = Pt(32)
    for heading in (h1, h2):  # never a heading alone at a page's foot
        heading.paragraph_format.keep_with_next = True
    note_style = _paragraph_style(doc, "附注", BODY_FONT, 12)
    note_style.paragraph_format.line_spacing = Pt(20)
    _footers(doc)
    _font_alternates(doc)

    def add_spans(p, spans):
        for span in spans:
            if span.kind == "confirm":
                p.add_run(span.text).font.highlight_color = WD_COLOR_INDEX.YELLOW
                tag = p.add_run(CONFIRM)
                tag.font.highlight_color = WD_COLOR_INDEX.YELLOW
                tag.font.bold = True
            elif span.kind == "fill":
                p.add_run(span.written).font.highlight_color = WD_COLOR_INDEX.YELLOW
            else:
                p.add_run(span.text)
                if span.figure is not None and not span.figure.complete:
                    p.add_run(INCOMPLETE_MARK).font.superscript = True

    for block in data.summary.blocks:
        if block.kind == "title":
            p = doc.add_paragraph(style=title_style)
            add_spans(p, block.spans)
            doc.add_paragraph()  # 标题与正文间空一行
            continue
        p = doc.add_paragraph(style=h1 if block.kind == "heading" else None)
        if block.kind != "heading":
            p.paragraph_format.first_line_indent = Pt(32)  # 首行缩进二字
        add_spans(p, block.spans)

    doc.add_page_break()
    doc.add_paragraph("附：数据说明", style=h1)
    for note in data_notes(data):
        p = doc.add_paragraph(note)
        p.paragraph_format.first_line_indent = Pt(32)
    doc.add_paragraph("（一）图表", style=h2)
    if _no_font():
        doc.add_paragraph(CHARTS_LEFT_OUT)  # never a chart of empty boxes
    else:
        has_rows = {"towns": bool(data.towns), "completeness": bool(data.status), "years": bool(data.years)}
        for key, png, caption in drawn_charts(data, "png"):
            if png is None:
                why = "没有可比较的数据" if not has_rows[key] else "字体缺少图中的字，未插入"
                doc.add_paragraph(f"（{caption}：{why}）")
                continue
            doc.add_picture(io.BytesIO(png), **picture_size(png))
            picture = doc.paragraphs[-1]
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            picture.paragraph_format.keep_with_next = True  # its caption under it, on its page
            cap = doc.add_paragraph(caption, style=note_style)
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for title, (header, rows) in (("（二）报送情况", status_table(data)),
                                  ("（三）总结中的数字", (FIGURE_HEADER, figure_rows(data.summary)))):
        doc.add_paragraph(title, style=h2)
        table = doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, h in zip(table.rows[0].cells, header):
            cell.text = h
        for row in rows:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = str(value)
        for i, row in enumerate(table.rows):
            for cell in row.cells:
                for para in cell.paragraphs:
                    # the style's id set directly: `para.style = note_style` looks through every
                    # style for the default one, each time (a third of the Word file's time)
                    para._p.style = note_style.style_id
                    if i == 0:  # the header row stays with the first row of figures
                        para.paragraph_format.keep_with_next = True
        for_paper(table)
    _metadata(doc, data.summary.title, data.as_of)
    doc.save(str(path))


CHART_MOST_MM = 200  # a chart's height on paper: with its caption within the 225 mm text block


def picture_size(png: bytes) -> dict:
    """The width (156 mm, the text block's) a chart is inserted at, or the height that keeps it
    within CHART_MOST_MM when it is taller: PNG's IHDR holds its size in pixels."""
    from docx.shared import Mm

    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return {"width": Mm(156)} if 156 * height / width <= CHART_MOST_MM else {"height": Mm(CHART_MOST_MM)}


def for_paper(table) -> None:
    """A table as printed: its header row repeated on each page (w:tblHeader), no row split
    across two pages (w:cantSplit)."""
    from docx.oxml import OxmlElement

    for i, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        for tag in ("w:cantSplit", "w:tblHeader") if i == 0 else ("w:cantSplit",):
            tr_pr.append(OxmlElement(tag))


def _no_font() -> bool:
    from huizong.outputs import charts

    return charts.cjk_font() is None
