"""Read one submitted workbook into tidy rows that remember their Excel cell.

Pure with respect to the warehouse: takes a file path, returns a `Submission`. Problems of the
file's shape (a missing sheet, an unknown column, a bad cover) are collected here; problems of the
values are left to the pandera schemas (see validation.py).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from huizong.cells import cell_text, code_text, parse_period
from huizong.problems import Problem, located
from schemas import catalog as cat

# Bounds that keep a hostile file from exhausting memory before any reader runs.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
MAX_ROWS = 5_000
MAX_COLS = 200

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Submission:
    """What one file says: who, which quarter, its values and villages, and what is wrong."""
    file_name: str
    sha256: str
    unit_code: str | None = None
    period: str | None = None
    # (sheet, cell, unit_code, indicator_code, raw): unit_code is the village for village rows.
    values: list[tuple] = field(default_factory=list)
    # (sheet, cell, village_code, village_name) for each row of the village sheet.
    villages: list[tuple] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def reject(self, sheet: str, cell: str, check: str, text: str, what: str = "",
               indicator_code: str = "") -> None:
        self.problems.append(Problem(self.sha256, sheet, cell, indicator_code, check,
                                     located(sheet, cell, what, text)))


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row + 1}"


def read_submission(path: Path, sha256: str, file_name: str | None = None) -> Submission:
    """Read `path` into a Submission; never raises on bad content."""
    sub = Submission(file_name=file_name or path.name, sha256=sha256)
    grid = _open_sheets(path, sub)
    if grid is None:
        return sub
    cover = grid.get(cat.COVER_SHEET)
    if cover is None:
        sub.reject(cat.COVER_SHEET, "", "missing_sheet", f"缺少工作表“{cat.COVER_SHEET}”")
        return sub
    unit = _read_cover(cover, sub)
    if unit is None:
        return sub
    for sheet in cat.sheets_of(unit):
        rows = grid.get(sheet)
        if rows is None:
            sub.reject(sheet, "", "missing_sheet", f"缺少工作表“{sheet}”")
        elif sheet == cat.VILLAGE_SHEET:
            _read_village_sheet(rows, unit, sub)
        else:
            _read_vertical_sheet(rows, unit, sheet, sub)
    return sub


def _open_sheets(path: Path, sub: Submission) -> dict[str, list[list]] | None:
    """Every sheet's cells as a grid aligned with Excel's rows and columns, or None if unreadable."""
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
        except (zipfile.BadZipFile, OSError):
            sub.reject("", "", "corrupt_file", "文件已损坏，无法打开，请重新保存后再报送")
            return None
        if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
            sub.reject("", "", "too_large", "文件解压后过大，不是正常的报表，请使用下发的模板")
            return None
    elif not magic.startswith(OLE2_MAGIC):
        sub.reject("", "", "not_a_workbook", "不是 Excel 工作簿（.xlsx 或 .xls），请使用下发的模板")
        return None
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        grid = {}
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            if sheet.total_height > MAX_ROWS or sheet.total_width > MAX_COLS:
                sub.reject(name, "", "too_large",
                           f"工作表过大（{sheet.total_height} 行 × {sheet.total_width} 列），请使用下发的模板")
                return None
            grid[name.strip()] = sheet.to_python(skip_empty_area=False)
        return grid
    except Exception:  # calamine raises several types for corrupt or encrypted files
        sub.reject("", "", "corrupt_file", "文件已损坏、加密或格式不受支持，无法读取，请另存为 .xlsx 后再报送")
        return None


def _at(rows: list[list], r: int, c: int) -> object:
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else ""


def _read_cover(rows: list[list], sub: Submission) -> cat.Unit | None:
    """Who submits and for which quarter, from the cover's label/value pairs (any row order)."""
    fields: dict[str, tuple[object, str]] = {}
    for r, row in enumerate(rows):
        label = cell_text(_at(rows, r, 0))
        if label:
            fields.setdefault(label, (_at(rows, r, 1), ref(r, 1)))
    S = cat.COVER_SHEET
    missing = [k for k in ("填报单位", "单位代码", "报告期") if k not in fields]
    for k in missing:
        sub.reject(S, "", "cover_field_missing", f"封面缺少“{k}”一项（A 列填项目名，B 列填内容）")
    if missing:
        return None
    (raw_code, code_cell), (raw_name, name_cell), (raw_period, period_cell) = (
        fields["单位代码"], fields["填报单位"], fields["报告期"])
    sub.period = parse_period(raw_period)
    if sub.period is None:
        sub.reject(S, period_cell, "bad_period",
                   f"“{cell_text(raw_period)}”不是有效的报告期，应填如 2019Q1 或 2019年第1季度", "报告期")
    code = code_text(raw_code)
    unit = cat.unit_by_code().get(code)
    if unit is None or unit.type not in ("town", "department"):
        sub.reject(S, code_cell, "unknown_unit", f"“{cell_text(raw_code)}”不是报送单位的代码", "单位代码")
        return None
    sub.unit_code = unit.code
    if cell_text(raw_name) != unit.name:
        sub.reject(S, name_cell, "unit_name_mismatch",
                   f"“{cell_text(raw_name)}”与单位代码 {unit.code} 的名称“{unit.name}”不符", "填报单位")
    return unit


def _read_village_sheet(rows: list[list], unit: cat.Unit, sub: Submission) -> None:
    """One row per village; one column per village indicator, found by its header."""
    S = cat.VILLAGE_SHEET
    header = [cell_text(h) for h in (rows[0] if rows else [])]
    by_name = {i.name: i for i in cat.indicators_for(unit, S)}
    code_col = name_col = None
    columns: dict[int, cat.Indicator] = {}
    for c, h in enumerate(header):
        key = cat.header_key(h)
        if not h:
            continue
        if key in (cat.VILLAGE_CODE_HEADER, cat.header_key(cat.VILLAGE_CODE_HEADER)):
            code_col = c
        elif key in (cat.VILLAGE_NAME_HEADER, cat.header_key(cat.VILLAGE_NAME_HEADER)):
            name_col = c
        elif key in by_name:
            ind = by_name[key]
            if ind in columns.values():
                sub.reject(S, ref(0, c), "duplicate_column", f"“{h}”列重复", indicator_code=ind.code)
            else:
                columns[c] = ind
        else:
            sub.reject(S, ref(0, c), "unknown_column", f"“{h}”不是本表的指标，请使用下发的模板")
    if code_col is None:
        sub.reject(S, "A1", "missing_column", f"缺少“{cat.VILLAGE_CODE_HEADER}”列")
        return
    for ind in by_name.values():
        if ind not in columns.values():
            sub.reject(S, "", "missing_column", f"缺少指标列“{ind.header}”", indicator_code=ind.code)
    for r in range(1, len(rows)):
        if all(cell_text(v) == "" for v in rows[r]):
            continue
        village = code_text(_at(rows, r, code_col))
        name = cell_text(_at(rows, r, name_col)) if name_col is not None else ""
        sub.villages.append((S, ref(r, code_col), village, name))
        for c, ind in columns.items():
            sub.values.append((S, ref(r, c), village, ind.code, _at(rows, r, c)))


def _read_vertical_sheet(rows: list[list], unit: cat.Unit, sheet: str, sub: Submission) -> None:
    """`指标代码 | 指标名称 | 计量单位 | 数值`, one row per indicator this unit reports."""
    header = tuple(cat.header_key(cell_text(_at(rows, 0, c))) for c in range(4))
    if header != cat.VERTICAL_HEADER:
        sub.reject(sheet, "A1", "bad_header", f"表头应为“{' | '.join(cat.VERTICAL_HEADER)}”")
        return
    expected = {i.code: i for i in cat.indicators_for(unit, sheet)}
    seen: set[str] = set()
    for r in range(1, len(rows)):
        code = code_text(_at(rows, r, 0)).upper()
        if not code and all(cell_text(v) == "" for v in rows[r]):
            continue
        ind = expected.get(code)
        if ind is None:
            sub.reject(sheet, ref(r, 0), "unknown_indicator", f"“{code}”不是本单位应报的指标代码", "指标代码")
            continue
        if code in seen:
            sub.reject(sheet, ref(r, 0), "duplicate_indicator", f"指标 {code} 重复填报", indicator_code=code)
            continue
        seen.add(code)
        name = cat.header_key(cell_text(_at(rows, r, 1)))
        if name != ind.name:
            sub.reject(sheet, ref(r, 1), "indicator_name_mismatch",
                       f"“{name}”与指标代码 {code} 的名称“{ind.name}”不符", indicator_code=code)
        sub.values.append((sheet, ref(r, 3), unit.code, code, _at(rows, r, 3)))
    for code, ind in expected.items():
        if code not in seen:
            sub.reject(sheet, "", "missing_indicator", f"缺少指标 {code} {ind.name}", indicator_code=code)
