"""The annual work summary as a file: Markdown, HTML (with charts) or Word, by the file's ending.

Reads the published warehouse (read-only, like an analyst) through the queries of `sql/report/`,
fills the template (`summary.py`) and writes the file whole or not at all (a temporary file
renamed into place), so that a reader never opens half a report.
"""
from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from zoneinfo import ZoneInfo

import duckdb

from huizong.summary import INCOMPLETE_MARK, Figure, Summary, fill, plain_number
from huizong.charts import STATUS_STYLE
from huizong.versions import models_version
from huizong.warehouse import SQL_DIR, connect_read_only, models_version_of
from huizong.schemas import catalog as cat

FORMATS = (".md", ".html", ".docx")
OFFICE_TIME = ZoneInfo("Asia/Shanghai")  # the time the note under the summary is written in
TOWN_CHART_INDICATORS = ["V03", "V08", "T02", "T15"]  # towns compared on these in the HTML


class ReportError(ValueError):
    """No report can be written: no warehouse, no data for the year, an unknown format."""


@dataclass
class ReportData:
    summary: Summary
    as_of: dt.datetime
    quarters_valid: int
    quarters_expected: int
    units_short: str | None  # units with a quarter not valid, e.g. 城关镇（3/4）
    status: list[tuple[str, str, str]]  # (unit name, period, status)
    periods: list[str]
    towns: list[tuple]
    years: list[tuple]


def _query(con: duckdb.DuckDBPyConnection, name: str, **params) -> list[tuple]:
    sql = (SQL_DIR / "report" / name).read_text(encoding="utf-8")
    return con.execute(sql, params).fetchall()


def years_with_data(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [y for (y,) in _query(con, "years_with_data.sql")]


def read_report_data(con: duckdb.DuckDBPyConnection, year: int) -> ReportData:
    if models_version_of(con) != models_version():
        raise ReportError("the warehouse was built under another catalog or other SQL models than "
                          "this huizong's: the next `huizong run` rebuilds it, then write the report")
    years = years_with_data(con)
    if year not in years:
        have = "、".join(map(str, years)) or "none"
        raise ReportError(f"no valid submission for {year} in the warehouse (years with data: {have})")
    figures = [Figure(code, slot, None if value is None else Decimal(str(value)), valid, expected, what)
               for code, slot, value, valid, expected, what in _query(con, "summary_figures.sql", year=year)]
    summary = fill(year, list(cat.indicators()), figures)
    valid, expected, short = _query(con, "completeness.sql", year=year)[0]
    status = _query(con, "status_grid.sql", year=year)
    return ReportData(
        summary=summary, as_of=dt.datetime.now(OFFICE_TIME), quarters_valid=int(valid),
        quarters_expected=int(expected), units_short=short, status=status,
        periods=[f"{year}Q{q}" for q in range(1, 5)],
        towns=_query(con, "town_chart.sql", year=year, codes=TOWN_CHART_INDICATORS),
        years=_query(con, "year_chart.sql", year=year))


def default_out(warehouse: Path, year: int, suffix: str = ".html") -> Path:
    return Path(warehouse) / "reports" / f"summary_{year}{suffix}"


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
        years = years_with_data(con)
        if year is None and not years:
            return None
        return read_report_data(con, year or years[-1])
    finally:
        con.close()


def write_report(warehouse: Path, year: int, out: Path | None = None) -> Path:
    """Write the year's summary to `out` (its ending picks the format)."""
    warehouse = Path(warehouse)
    out = Path(out) if out else default_out(warehouse, year)
    check_out(out)
    data = read_warehouse(warehouse, year)
    if data is None:
        raise ReportError(f"no warehouse at {warehouse}: run `huizong run` first")
    return write_file(data, out)


def write_year_reports(warehouse: Path, year: int | None = None) -> list[Path]:
    """The summary of `year` (default: the latest year with data) in every format, under
    `<warehouse>/reports/`; what the nightly pass leaves for the office. None without data."""
    data = read_warehouse(Path(warehouse), year)
    if data is None:
        return []
    return [write_file(data, default_out(warehouse, data.summary.year, suffix)) for suffix in FORMATS]


def write_file(data: ReportData, out: Path) -> Path:
    """Write `data` to `out` whole or not at all (a temporary file renamed into place)."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    suffix = out.suffix.lower()
    try:
        if suffix == ".md":
            tmp.write_text(render_markdown(data), encoding="utf-8")
        elif suffix == ".html":
            tmp.write_text(render_html(data), encoding="utf-8")
        else:
            render_docx(data, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)  # after a failure; after the rename there is none
    return out


# --- what every format says besides the text ------------------------------------------------

def data_notes(data: ReportData) -> list[str]:
    """The note under the summary: where the figures come from and how complete they are."""
    notes = [f"本总结中的数字由 huizong 根据各镇、各部门报送的季度报表汇总生成"
             f"（{data.as_of:%Y年%m月%d日 %H:%M}）。{data.summary.year}年应报送 "
             f"{data.quarters_expected} 个单位季度，有效报送 {data.quarters_valid} 个。"]
    if data.units_short:
        notes.append(f"报送不完整的单位（有效季度/应报季度）：{data.units_short}。")
    if data.summary.incomplete:
        notes.append(f"标有“{INCOMPLETE_MARK}”的数字所依据的报送不完整，待补报后数字会变化。")
    return notes


def figure_rows(summary: Summary) -> list[tuple[str, str, str, str, str]]:
    """One row per figure of the text: code, indicator, as written, exact value, completeness."""
    return [(ind.code, ind.name + ("" if span.figure.figure in ("", "全县合计") else f"：{span.figure.figure}"),
             span.text,
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


# --- Markdown ----------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *("| " + " | ".join(_md_cell(str(c)) for c in row) + " |" for row in rows)]


def render_markdown(data: ReportData) -> str:
    lines: list[str] = []
    for block in data.summary.blocks:
        prefix = {"title": "# ", "heading": "## "}.get(block.kind, "")
        lines += [prefix + block.text, ""]
    lines += ["---", "", "## 附：数据说明", ""] + [n + "\n" for n in data_notes(data)]
    lines += ["### 报送情况", "", *_md_table(*status_table(data)), ""]
    lines += ["### 总结中的数字", "", *_md_table(FIGURE_HEADER, figure_rows(data.summary)), ""]
    return "\n".join(lines)


# --- HTML --------------------------------------------------------------------------------------

CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif;
       max-width: 52em; margin: 2em auto; padding: 0 1em; line-height: 1.9; color: #212121; }
h1 { text-align: center; font-size: 1.6em; }
p { text-indent: 2em; text-align: justify; }
.figure { font-weight: 600; color: #0d47a1; }
.figure.incomplete { color: #b71c1c; }
sup.mark { color: #b71c1c; }
figure.chart { margin: 2em 0; text-align: center; }
figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bdbdbd; padding: 0.2em 0.6em; }
.notes p { text-indent: 0; }
"""


def _html_block(block) -> str:
    parts = []
    for span in block.spans:
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


def render_html(data: ReportData) -> str:
    from huizong import charts

    year = data.summary.year
    drawn = [
        ("towns", charts.towns_chart(data.towns), "各镇主要指标对比"),
        ("completeness", charts.completeness_chart(data.status, data.periods), "报送完整度"),
        ("years", charts.year_chart([(label, _f(v), _f(p)) for label, v, p in data.years], year),
         f"{year}年与{year - 1}年比较"),
    ]
    figures = []
    for key, svg, caption in drawn:
        body = svg if svg else f"<p>（{html.escape(caption)}：没有可比较的数据）</p>"
        figures.append(f'<figure class="chart" id="chart-{key}">{body}'
                       f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    text = "\n".join(_html_block(b) for b in data.summary.blocks)
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

def render_docx(data: ReportData, path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(12)
    for name, font in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体"), ("Heading 2", "黑体")):
        # the font Chinese text is set in: Word's own styles name only a Latin one
        doc.styles[name].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    for block in data.summary.blocks:
        if block.kind == "title":
            p = doc.add_heading(level=0)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "heading":
            p = doc.add_heading(level=1)
        else:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
        for span in block.spans:
            p.add_run(span.text)
            if span.figure is not None and not span.figure.complete:
                p.add_run(INCOMPLETE_MARK).font.superscript = True
    doc.add_page_break()
    doc.add_heading("附：数据说明", level=1)
    for note in data_notes(data):
        doc.add_paragraph(note)
    for title, (header, rows) in (("报送情况", status_table(data)),
                                  ("总结中的数字", (FIGURE_HEADER, figure_rows(data.summary)))):
        doc.add_heading(title, level=2)
        table = doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, h in zip(table.rows[0].cells, header):
            cell.text = h
        for row in rows:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = str(value)
    doc.core_properties.title = data.summary.title
    doc.save(str(path))
