"""The county's consolidated table (汇总表) of a year or a quarter, as the office sends it up to
临川市: one .xlsx with the county totals, towns x indicators, villages x indicators, the
departments' figures and the completeness of every submitting unit, laid out for print (A4
landscape, title rows, frozen headers, units of measure in the headers). A figure whose
submissions are incomplete carries ※ and a note. Every text is written as text (never a formula).
The file is written whole or not at all (a temporary file beside it, then os.replace)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from huizong.writer import put_text
from huizong.files import written_whole
from huizong.schemas import catalog as cat

MARK = "※"
NOTE = f"{MARK} 表示该数所依据的报送不完整（应报单位季度中有未报或被退回的），以实际已报数汇总。"


def _number(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sheet(wb: Workbook, name: str, title: str, header: list[str], rows: list[list], widths=None):
    ws = wb.create_sheet(name)
    put_text(ws, 1, 1, title).font = Font(bold=True, size=14)
    put_text(ws, 2, 1, NOTE)
    for c, text in enumerate(header, start=1):
        cell = put_text(ws, 3, c, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
        ws.column_dimensions[get_column_letter(c)].width = (widths or {}).get(c, 12)
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row, start=1):
            put_text(ws, r, c, _number(value))
    ws.freeze_panes = "C4" if len(header) > 8 else "A4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    return ws


def _mark(valid, expected) -> str:
    return "" if valid == expected else f"{MARK} {valid}/{expected}"


def _wide(con, sql: str, params: list, key_cols: int, indicators: list[tuple]) -> list[list]:
    """Rows (keys..., indicator_code, value, valid, expected) pivoted at the edge: one row per
    key, one column per indicator, then the completeness mark."""
    by_key: dict[tuple, dict] = {}
    marks: dict[tuple, str] = {}
    for row in con.execute(sql, params).fetchall():
        key, code, value, valid, expected = row[:key_cols], row[key_cols], *row[key_cols + 1:]
        by_key.setdefault(key, {})[code] = value
        marks[key] = _mark(valid, expected)
    return [[*key, *(values.get(code) for code, *_ in indicators), marks[key]]
            for key, values in by_key.items()]


def build_export(con: duckdb.DuckDBPyConnection, year: int, period: str | None = None) -> Workbook:
    """The consolidated table of `year` (or of the quarter `period`), in memory."""
    what = period or f"{year}年"
    if period is None:
        totals = con.execute("""
            select t.indicator_code, i.indicator_name, i.measure_unit, t.value, t.quarters_valid,
                t.quarters_expected, i.reported_by
            from marts.county_totals t join staging.stg_indicators i using (indicator_code)
            where t.year = ? order by t.indicator_code""", [year]).fetchall()
    else:
        totals = con.execute("""
            select t.indicator_code, i.indicator_name, i.measure_unit, t.value, t.units_valid,
                t.units_expected, i.reported_by
            from marts.county_quarter_totals t join staging.stg_indicators i using (indicator_code)
            where t.period = ? order by t.indicator_code""", [period]).fetchall()
    if not totals:
        raise LookupError(f"the warehouse has no figures for {what}")
    wb = Workbook()
    wb.remove(wb.active)
    unit_word = "单位季度" if period is None else "报送单位"
    _sheet(wb, "全县汇总", f"{cat.county().name}精神文明建设工作汇总表（{what}）",
           ["指标代码", "指标名称", "计量单位", "全县合计", f"有效{unit_word}", f"应报{unit_word}", "完整度"],
           [[code, name, unit, value, valid, expected, _mark(valid, expected)]
            for code, name, unit, value, valid, expected, _ in totals], {2: 26})

    town_inds = con.execute("""select indicator_code, indicator_name, measure_unit from staging.stg_indicators
        where reported_by = 'town' and is_numeric and sheet = '镇级指标' order by indicator_code""").fetchall()
    village_inds = con.execute("""select indicator_code, indicator_name, measure_unit from staging.stg_indicators
        where is_numeric and sheet = '村级指标' order by indicator_code""").fetchall()
    heads = lambda inds: [f"{code} {name}（{unit}）" for code, name, unit in inds]  # noqa: E731
    if period is None:
        town_sql = """select t.unit_code, u.unit_name, t.indicator_code, t.value, t.quarters_valid,
                t.quarters_expected
            from marts.town_totals t join staging.stg_units u using (unit_code)
            where t.year = ? order by t.unit_code, t.indicator_code"""
        village_sql = """select town_name, village_code, village_name, indicator_code, value,
                quarters_valid, quarters_expected
            from marts.village_year_values where year = ? and kind <> 'level'
            order by village_code, indicator_code"""
        params = [year]
    else:
        town_sql = """with s as (select submitter_code as unit_code, submitter_name as unit_name, indicator_code,
                    sum(value) as value from marts.unit_quarter_values
                    where period = ? and kind <> 'level' group by all)
            select s.*, 1, 1 from s order by unit_code, indicator_code"""
        village_sql = """select submitter_name, unit_code, unit_name, indicator_code, value, 1, 1
            from marts.unit_quarter_values where period = ? and unit_type = 'village' and kind <> 'level'
            order by unit_code, indicator_code"""
        params = [period]
    all_town_inds = village_inds + town_inds  # a town's figure adds up its villages and its own
    _sheet(wb, "各镇", f"各镇汇总（{what}）", ["镇代码", "镇名称", *heads(all_town_inds), "完整度"],
           _wide(con, town_sql, params, 2, all_town_inds), {2: 12})
    _sheet(wb, "各村", f"各村（社区）汇总（{what}）",
           ["所属镇", "村（社区）代码", "村（社区）名称", *heads(village_inds), "完整度"],
           _wide(con, village_sql, params, 3, village_inds), {2: 15, 3: 14})
    _sheet(wb, "县直部门", f"县直部门报送数（{what}）",
           ["报送部门", "指标代码", "指标名称", "计量单位", "数值", "完整度"],
           [[reported_by, code, name, unit, value, _mark(valid, expected)]
            for code, name, unit, value, valid, expected, reported_by in totals if reported_by != "town"],
           {3: 26})
    if period is None:
        completeness = con.execute("""select unit_code, unit_name, quarters_valid, quarters_expected,
                quarters_on_time, quarters_late, quarters_rejected, quarters_missing
            from marts.completeness where year = ? order by unit_code""", [year]).fetchall()
        header = ["单位代码", "单位名称", "有效季度", "应报季度", "按时", "迟报", "退回", "未报"]
    else:
        completeness = con.execute("""select unit_code, unit_name, period, status, first_valid_received_at,
                versions, rejected_versions
            from marts.submission_status where period = ? order by unit_code""", [period]).fetchall()
        completeness = [[*r[:4], None if r[4] is None else r[4].strftime("%Y-%m-%d %H:%M"), *r[5:]]
                        for r in completeness]
        header = ["单位代码", "单位名称", "报告期", "报送状态", "首次有效报送时间", "版本数", "退回版本数"]
    _sheet(wb, "报送完整度", f"各单位报送完整度（{what}）", header, completeness, {2: 14})
    return wb


def write_export(con: duckdb.DuckDBPyConnection, year: int, out: Path, period: str | None = None) -> Path:
    """Write the consolidated table to `out`, whole or not at all."""
    wb = build_export(con, year, period)
    with written_whole(out) as tmp:
        wb.save(tmp)
    return Path(out)
