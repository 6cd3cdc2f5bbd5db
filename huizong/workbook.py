"""Read one submitted workbook into tidy rows that remember their Excel cell.

Pure with respect to the warehouse: takes a file path, returns a `Submission`. Problems of the
file's shape (a missing sheet, an unknown column, a bad cover) are collected here; problems of the
values are left to the pandera schemas (see validation.py).
"""
from __future__ import annotations

import posixpath
import re
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from huizong.cells import EXCEL_ERROR, UNSAVED_FORMULA, Unreadable, cell_text, code_text, parse_period
from huizong.problems import Problem, located
from schemas import catalog as cat

# Bounds that keep a hostile file from exhausting memory before any reader runs. A real
# submission unzips to well under 1 MB; the ratio check is kept to large entries because small
# styles.xml files compress very well and are legitimate (RELIABILITY.md).
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
LARGE_ENTRY_BYTES = 1024 * 1024
MAX_RATIO = 100
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


def cell_position(reference: str) -> tuple[int, int]:
    """"E5" -> (4, 4): zero-based row and column."""
    letters, digits = re.match(r"([A-Z]+)(\d+)$", reference).groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def unreadable_cells(z: zipfile.ZipFile) -> dict[str, dict[tuple[int, int], Unreadable]]:
    """Cells calamine reads as empty although they are not: Excel errors and unsaved formulas.

    calamine gives '' for both (RELIABILITY.md), which would silently count as zero; so the
    sheet XML of an .xlsx/.xlsm is scanned for them. {sheet name: {(row, col): Unreadable}}.
    """
    book = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", _NS)}
    found: dict[str, dict[tuple[int, int], Unreadable]] = {}
    for sheet in book.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        if member not in z.namelist():
            continue
        xml = z.read(member)
        cells = {}
        if b"<f" not in xml and b":f" not in xml and b't="e"' not in xml:
            found[sheet.get("name", "").strip()] = cells  # the common case: nothing to look for
            continue
        for attrs, inner in _CELL.findall(xml):
            ref = _REF.search(attrs)
            if not ref:
                continue
            value = _VALUE.search(inner or b"")
            if _ERROR_TYPE.search(attrs):
                text = value.group(1).decode("utf-8", "replace") if value else "#ERROR"
                cells[cell_position(ref.group(1).decode())] = Unreadable(EXCEL_ERROR, text)
            elif (formula := _FORMULA.search(inner or b"")) and not (value and value.group(1)):
                text = "=" + (formula.group(1) or b"").decode("utf-8", "replace")
                cells[cell_position(ref.group(1).decode())] = Unreadable(UNSAVED_FORMULA, text)
        found[sheet.get("name", "").strip()] = cells
    return found


def read_submission(path: Path, sha256: str, file_name: str | None = None) -> Submission:
    """Read `path` into a Submission; never raises on bad content."""
    sub = Submission(file_name=file_name or path.name, sha256=sha256)
    grid = _open_sheets(path, sub)
    if grid is None:
        return sub
    cover = grid.get(cat.COVER_SHEET)
    if cover is None:
        sub.reject(cat.COVER_SHEET, "", "missing_sheet",
                   f"缺少工作表“{cat.COVER_SHEET}”（本文件的工作表：{'、'.join(grid)}），请勿改动工作表名称")
        return sub
    unit = _read_cover(cover, sub)
    if unit is None:
        return sub
    for sheet in cat.sheets_of(unit):
        rows = grid.get(sheet)
        if rows is None:
            sub.reject(sheet, "", "missing_sheet",
                       f"缺少工作表“{sheet}”（本文件的工作表：{'、'.join(grid)}），请勿改动工作表名称")
        elif sheet == cat.VILLAGE_SHEET:
            _read_village_sheet(rows, unit, sub)
        else:
            _read_vertical_sheet(rows, unit, sheet, sub)
    return sub


def read_cover(path: Path) -> tuple[str | None, str | None]:
    """(unit code, period) a workbook's cover states, or None where it cannot say."""
    sub = Submission(file_name=path.name, sha256="")
    grid = _open_sheets(path, sub)
    if grid is None or cat.COVER_SHEET not in grid:
        return None, None
    _read_cover(grid[cat.COVER_SHEET], sub)
    return sub.unit_code, sub.period


def _open_sheets(path: Path, sub: Submission) -> dict[str, list[list]] | None:
    """Every sheet's cells as a grid aligned with Excel's rows and columns, or None if unreadable.

    The file's kind is told by its first bytes, not its name (RELIABILITY.md).
    """
    with path.open("rb") as f:
        head = f.read(8)
    unreadable: dict[str, dict[tuple[int, int], Unreadable]] = {}
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as z:
                if not _zip_is_safe_workbook(z, sub):
                    return None
                unreadable = unreadable_cells(z)
        except (zipfile.BadZipFile, OSError, ET.ParseError, KeyError, EOFError):
            sub.reject("", "", "corrupt_file", "文件已损坏，无法打开，请在 Excel 中重新保存后再报送")
            return None
    elif head.startswith(OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in path.read_bytes():
            sub.reject("", "", "encrypted", "文件设置了打开密码，请取消密码后再报送")
            return None
    else:
        kind = "CSV 或文本文件" if path.suffix.lower() in (".csv", ".txt") else "文件"
        sub.reject("", "", "not_a_workbook",
                   f"这不是 Excel 工作簿，而是其他{kind}，请用下发的模板填写后以 .xlsx 报送")
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
            rows = sheet.to_python(skip_empty_area=False)
            for (r, c), cell in unreadable.get(name.strip(), {}).items():
                while len(rows) <= r:  # calamine may drop a trailing row of unsaved formulas
                    rows.append([])
                rows[r].extend([""] * (c + 1 - len(rows[r])))
                rows[r][c] = cell
            grid[name.strip()] = rows
        return grid
    except Exception:  # calamine raises several types for corrupt files; none must escape
        sub.reject("", "", "corrupt_file", "文件已损坏或格式不受支持，无法读取，请在 Excel 中另存为 .xlsx 后再报送")
        return None


def _zip_is_safe_workbook(z: zipfile.ZipFile, sub: Submission) -> bool:
    """A zip that is an Excel workbook of sane size (zip-bomb bounds checked before unzipping)."""
    infos = z.infolist()
    too_big = (len(infos) > MAX_ZIP_ENTRIES
               or sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES
               or any(i.file_size > LARGE_ENTRY_BYTES and i.file_size > MAX_RATIO * max(1, i.compress_size)
                      for i in infos))
    if too_big:
        sub.reject("", "", "too_large", "文件解压后过大，不是正常的报表，请使用下发的模板")
        return False
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        sub.reject("", "", "not_a_workbook", "这不是 Excel 工作簿（可能是 Word 文档或压缩包），请用下发的模板填写后报送")
        return False
    return True


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
    found: set[str] = set()
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
            if ind.code in found:
                sub.reject(S, ref(0, c), "duplicate_column", f"“{h}”列重复", indicator_code=ind.code)
            else:
                columns[c] = ind
                found.add(ind.code)
        else:
            sub.reject(S, ref(0, c), "unknown_column", f"“{h}”不是本表的指标，请使用下发的模板")
    if code_col is None:
        sub.reject(S, "A1", "missing_column", f"缺少“{cat.VILLAGE_CODE_HEADER}”列")
        return
    for ind in by_name.values():
        if ind.code not in found:
            sub.reject(S, "", "missing_column", f"缺少指标列“{ind.header}”", indicator_code=ind.code)
    letters = {c: column_letter(c) for c in [code_col, *columns]}
    for r in range(1, len(rows)):
        if all(cell_text(v) == "" for v in rows[r]):
            continue
        village = code_text(_at(rows, r, code_col))
        name = cell_text(_at(rows, r, name_col)) if name_col is not None else ""
        sub.villages.append((S, f"{letters[code_col]}{r + 1}", village, name))
        for c, ind in columns.items():
            sub.values.append((S, f"{letters[c]}{r + 1}", village, ind.code, _at(rows, r, c)))


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
