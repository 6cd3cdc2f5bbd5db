"""The county's consolidated table (汇总表) of a year or a quarter, as the office sends it up to
临川市: one .xlsx with the county totals, towns x indicators, villages x indicators, the
departments' figures and the completeness of every submitting unit, laid out for print (A4
landscape at a fixed readable scale, wide sheets split by indicator group across pages with the
unit columns repeated, the title and page numbers in the header and footer, frozen headers,
units of measure in the headers). Every row says how complete its figures are; a figure whose
submissions are incomplete carries ※. Every text is written as text (never a formula).
The file is written whole or not at all (a temporary file beside it, then os.replace)."""
from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from huizong.core.files import written_whole
from huizong.intake.writer import put_text
from huizong.schemas import catalog as cat
from huizong.store.warehouse import statement

MARK = "※"
NOTE = (f"完整度为有效报送数/应报数；{MARK} 表示该数所依据的报送不完整（应报单位季度中有未报或被退回的），"
        "以实际已报数汇总。")

# Print: A4 landscape (297 mm wide) less the side margins, at a fixed scale so that the 11 pt
# text prints at 9.9 pt; a sheet wider than a page is split at column breaks (never shrunk).
PRINT_SCALE = 90
SIDE_MARGIN_IN = 0.5
PRINTABLE_PT = (297 / 25.4 - 2 * SIDE_MARGIN_IN) * 72
FIGURE_WIDTH = 11  # an indicator's column, in characters
# A column of width w is w digits wide: 7 px each in Calibri (Excel), 9.3 px in DejaVu Sans, which
# LibreOffice prints with where Calibri is missing. Pages are planned for the wider so that they
# hold in either.
DIGIT_PX = 9.5
FOOTER = "第 &P 页，共 &N 页"


def _number(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def width_pt(width: float) -> float:
    """A column's printed width at 100 % (pixels at 96 dpi: 0.75 pt), planned for DIGIT_PX digits."""
    return (width * DIGIT_PX + 5) * 0.75


def column_breaks(widths: list[float], title_cols: int, groups: list[int]) -> list[int]:
    """The columns (1-based, the last of a page) after which a page ends, so that the repeated
    title columns and each page's columns fit the printable width at PRINT_SCALE. `groups` are
    the sizes of the column groups after the title columns (an indicator group, say); a page
    never holds two groups, and a group too wide for one page is cut into equal parts."""
    room = PRINTABLE_PT * 100 / PRINT_SCALE * 0.97 - sum(width_pt(w) for w in widths[:title_cols])
    breaks, start = [], title_cols
    for size in groups:
        cols = widths[start:start + size]
        pages = 1
        while any(sum(width_pt(w) for w in part) > room for part in _parts(cols, pages)):
            pages += 1
        end = start
        for part in _parts(cols, pages):
            end += len(part)
            breaks.append(end)
        start += size
    return breaks[:-1]  # the last page ends with the sheet


def _parts(cols: list, pages: int) -> list[list]:
    per = math.ceil(len(cols) / pages)
    return [cols[i:i + per] for i in range(0, len(cols), per)]


def _header_lines(text: str, width: float) -> int:
    """How many lines a wrapped header takes in a column (a CJK character is two digits wide)."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, math.ceil(units / max(width - 1, 1)))


def _print_setup(ws, title: str, widths: list[float], title_cols: int, groups: list[int]) -> None:
    setup = ws.page_setup
    setup.orientation, setup.paperSize, setup.scale = "landscape", ws.PAPERSIZE_A4, PRINT_SCALE
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_IN
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.center.text = title
    ws.oddFooter.center.text = FOOTER
    ws.print_title_rows = "3:3"
    if title_cols:
        ws.print_title_cols = f"A:{get_column_letter(title_cols)}"
    for col in column_breaks(widths, title_cols, groups):
        ws.col_breaks.append(Break(id=col))


def _sheet(wb: Workbook, name: str, title: str, header: list[str], rows: list[list],
           widths: list[float], title_cols: int = 0, groups: list[int] | None = None):
    """A sheet of the table: title, note, header (row 3), rows from row 4, set up for print.
    The first `title_cols` columns name the unit and are repeated on every page."""
    ws = wb.create_sheet(name)
    put_text(ws, 1, 1, title).font = Font(bold=True, size=14)
    put_text(ws, 2, 1, NOTE)
    for c, (text, width) in enumerate(zip(header, widths, strict=True), start=1):
        cell = put_text(ws, 3, c, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.row_dimensions[3].height = 15 * max(_header_lines(h, w) for h, w in zip(header, widths)) + 3
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row, start=1):
            cell = put_text(ws, r, c, _number(value))
            if value in ("是", "否"):
                cell.alignment = Alignment(horizontal="center")
    ws.freeze_panes = f"{get_column_letter(title_cols + 1)}4"
    _print_setup(ws, title, widths, title_cols, groups or [len(header) - title_cols])
    return ws


def completeness(valid, expected) -> str:
    """A row's completeness as printed: `4/4`, or `※ 3/4` when submissions are missing."""
    if valid is None or expected is None:
        return ""
    return f"{valid}/{expected}" if valid == expected else f"{MARK} {valid}/{expected}"


def counted(kind: str, sheet: str, measure_unit: str, reported_by: str = "town") -> str:
    """What a summed figure counts: a flag (是否) added over villages or towns counts those
    that said 是; a department's own flag and any other figure keep their unit of measure."""
    if kind != "flag":
        return measure_unit
    if sheet == "村级指标":
        return "“是”的村数"
    return "“是”的镇数" if reported_by == "town" else measure_unit


def _wide(con, sql: str, params, key_cols: int, indicators: list[tuple], shown=None) -> list[list]:
    """Rows (keys..., indicator_code, value, valid, expected) pivoted at the edge: one row per
    key: the keys, the completeness, then one column per indicator."""
    shown = shown or (lambda value, kind: _number(value))
    by_key: dict[tuple, dict] = {}
    marks: dict[tuple, str] = {}
    for row in con.execute(sql, params).fetchall():
        key, code, value, valid, expected = row[:key_cols], row[key_cols], *row[key_cols + 1:]
        by_key.setdefault(key, {})[code] = value
        marks[key] = completeness(valid, expected)
    return [[*key, marks[key], *(shown(values.get(code), kind) for code, _, _, kind, _ in indicators)]
            for key, values in by_key.items()]


def _flag_word(value, kind):
    """A village's own flag as the form asks it: 是 / 否."""
    if kind == "flag" and value is not None:
        return "是" if value == 1 else "否"
    return _number(value)


def _groups(indicators: list[tuple]) -> list[int]:
    """Consecutive indicators of one sheet of the form (村级指标, 镇级指标) are a group."""
    sizes: list[int] = []
    for i, (*_, sheet) in enumerate(indicators):
        if i and indicators[i - 1][-1] == sheet:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[tuple]:
    return con.execute(statement("export", name), params).fetchall()


def build_export(con: duckdb.DuckDBPyConnection, year: int, period: str | None = None) -> Workbook:
    """The consolidated table of `year` (or of the quarter `period`), in memory."""
    what = period or f"{year}年"
    # the queries of sql/export/, of the year or of the quarter
    kind, params = ("year", {"year": year}) if period is None else ("quarter", {"period": period})
    totals = _rows(con, f"totals_{kind}.sql", params)
    if not totals:
        raise LookupError(f"the warehouse has no figures for {what}")
    wb = Workbook()
    wb.remove(wb.active)
    title = f"{cat.county().name}精神文明建设工作汇总表（{what}）"
    unit_word = "单位季度" if period is None else "报送单位"
    _sheet(wb, "全县汇总", title,
           ["指标代码", "指标名称", "计量单位", "全县合计", f"有效{unit_word}", f"应报{unit_word}", "完整度"],
           [[code, name, counted(kind, sheet, unit, reported_by), value, valid, expected, completeness(valid, expected)]
            for code, name, unit, value, valid, expected, reported_by, kind, sheet, _ in totals],
           [9, 26, 12, 12, 13, 13, 10])

    town_inds = _rows(con, "indicators_of_sheet.sql", {"sheet": cat.TOWN_SHEET, "towns": True})
    village_inds = _rows(con, "indicators_of_sheet.sql", {"sheet": cat.VILLAGE_SHEET, "towns": False})
    town_sql, village_sql = statement("export", f"towns_{kind}.sql"), statement("export", f"villages_{kind}.sql")
    all_town_inds = village_inds + town_inds  # a town's figure adds up its villages and its own
    town_heads = [f"{code} {name}（{counted(kind, sheet, unit)}）" for code, name, unit, kind, sheet in all_town_inds]
    _sheet(wb, "各镇", f"各镇汇总（{what}）", ["镇代码", "镇名称", "完整度", *town_heads],
           _wide(con, town_sql, params, 2, all_town_inds), [11, 10, 8] + [FIGURE_WIDTH] * len(town_heads),
           title_cols=3, groups=_groups(all_town_inds))
    village_heads = [f"{code} {name}（{unit}）" for code, name, unit, *_ in village_inds]
    _sheet(wb, "各村", f"各村（社区）汇总（{what}）",
           ["所属镇", "村（社区）代码", "村（社区）名称", "完整度", *village_heads],
           _wide(con, village_sql, params, 3, village_inds, shown=_flag_word),
           [10, 14, 14, 8] + [FIGURE_WIDTH] * len(village_heads), title_cols=4)
    _sheet(wb, "县直部门", f"县直部门报送数（{what}）",
           ["报送部门", "指标代码", "指标名称", "计量单位", "数值", "完整度"],
           [[unit_name or reported_by, code, name, unit, _flag_word(value, kind), completeness(valid, expected)]
            for code, name, unit, value, valid, expected, reported_by, kind, _, unit_name in totals
            if reported_by != "town"],
           [18, 9, 26, 10, 12, 10])
    done = _rows(con, f"completeness_{kind}.sql", params)
    if period is None:
        header = ["单位代码", "单位名称", "有效季度", "应报季度", "按时", "迟报", "退回", "未报"]
        widths = [12, 16, 10, 10, 8, 8, 8, 8]
    else:
        done = [[*r[:4], None if r[4] is None else r[4].strftime("%Y-%m-%d %H:%M"), *r[5:]] for r in done]
        header = ["单位代码", "单位名称", "报告期", "报送状态", "首次有效报送时间", "版本数", "退回版本数"]
        widths = [12, 16, 9, 10, 18, 8, 10]
    _sheet(wb, "报送完整度", f"各单位报送完整度（{what}）", header, done, widths)
    return wb


def write_export(con: duckdb.DuckDBPyConnection, year: int, out: Path, period: str | None = None) -> Path:
    """Write the consolidated table to `out`, whole or not at all."""
    wb = build_export(con, year, period)
    with written_whole(out) as tmp:
        wb.save(tmp)
    return Path(out)
