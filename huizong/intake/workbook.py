"""Read one submitted workbook into tidy rows that remember their Excel cell.

Pure with respect to the warehouse: takes a file path, returns a `Submission`. Problems of the
file's shape (a missing sheet, an unknown column, a bad cover) are collected here; problems of the
values are left to the pandera schemas (see validation.py).
"""
from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from huizong.core import clock
from huizong.core.cells import (
    Percent,
    cell_text,
    code_text,
    parse_period,
)

# Bounds that keep a hostile file from exhausting memory before any reader runs (settings.py).
from huizong.core.settings import MAX_COLS, MAX_ROWS, MAX_UNZIPPED_BYTES
from huizong.intake.package import (
    OLE2_MAGIC,
    ZIP_MAGIC,
    ole2_kind,
    other_kind,
    reject_too_large,
    scan_xls,
    scan_zip,
    zip_members,
)
from huizong.intake.submission import Submission, column_letter, ref
from huizong.schemas import catalog as cat

FORM_SHEETS = {cat.COVER_SHEET, cat.VILLAGE_SHEET, cat.TOWN_SHEET, cat.COUNTY_SHEET}
VALUE_COL = 3  # column D: where a vertical sheet's values are entered
# The optional sheet where a clerk explains a figure that warns (FORM.md, the project's copy):
# one row per figure, the sheet and cell the warning named and why the figure is right.
EXPLANATION_SHEET = "情况说明"
EXPLANATION_HEADER = ("工作表", "单元格", "情况说明")


@dataclass
class Book:
    """A workbook's sheets as grids aligned with Excel's rows and columns, and what calamine's
    grid alone does not show."""
    grid: dict[str, list[list]]
    hidden: list[str]  # form sheets the clerk does not see in Excel
    merged: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]
    formulas: dict[str, list[tuple[int, int, str]]]  # stale formula results (see SheetScan)
    explanations_hidden: bool = False  # the clerk does not see the 情况说明 sheet in Excel


def read_submission(path: Path, sha256: str, file_name: str | None = None,
                    data: bytes | None = None) -> Submission:
    """Read `path` (or `data`, its bytes read already) into a Submission; never raises on bad
    content."""
    sub = Submission(file_name=file_name or path.name, sha256=sha256)
    book = _open_sheets(path, sub, data)
    if book is None:
        return sub
    grid = book.grid
    for name in book.hidden:
        sub.reject(name, "", "hidden_sheet")
    cover = grid.get(cat.COVER_SHEET)
    if cover is None:
        sub.reject(cat.COVER_SHEET, "", "missing_sheet", missing=cat.COVER_SHEET, sheets="、".join(grid))
        return sub
    unit = _read_cover(cover, sub)
    if unit is None or book.hidden:
        return sub
    for sheet in cat.sheets_of(unit):
        rows = grid.get(sheet)
        if rows is None:
            sub.reject(sheet, "", "missing_sheet", missing=sheet, sheets="、".join(grid))
            continue
        _check_merged(book.merged.get(sheet, []), sheet, sub)
        for r, c, formula in book.formulas.get(sheet, []):
            sub.reject(sheet, ref(r, c), "recalc_needed", formula)
        if sheet == cat.VILLAGE_SHEET:
            _read_village_sheet(rows, unit, sub)
        else:
            _read_vertical_sheet(rows, unit, sheet, sub)
    if EXPLANATION_SHEET in grid:
        _read_explanations(grid[EXPLANATION_SHEET], book.merged.get(EXPLANATION_SHEET, []),
                           book.explanations_hidden, unit, sub)
    return sub


def read_cover(path: Path) -> tuple[str | None, str | None]:
    """(unit code, period) a workbook's cover states, or None where it cannot say."""
    sub = Submission(file_name=path.name, sha256="")
    book = _open_sheets(path, sub)
    if book is None or cat.COVER_SHEET not in book.grid:
        return None, None
    _read_cover(book.grid[cat.COVER_SHEET], sub)
    return sub.unit_code, sub.period


def _open_sheets(path: Path, sub: Submission, data: bytes | None = None) -> Book | None:
    """Every sheet of the workbook (of `data`, its bytes, when given), or None if it is
    unreadable or too large.

    The file's kind is told by its first bytes, not its name (RELIABILITY.md). Its size is told
    by its bytes too, before calamine runs: calamine aborts the process on a sheet too large.
    """
    if data is None:
        data = read_head(path)  # calamine reads these same bytes, not the path
    if len(data) > MAX_UNZIPPED_BYTES:  # its zip directory may still say why
        members = zip_members(path) if data.startswith(ZIP_MAGIC) else []
        reject_too_large(sub, members, None)
        return None
    try:
        if data.startswith(ZIP_MAGIC):
            scans = scan_zip(data, sub)
        elif data.startswith(OLE2_MAGIC):
            if "EncryptedPackage".encode("utf-16-le") in data:
                sub.reject("", "", "encrypted")
                return None
            if kind := ole2_kind(data):
                sub.reject("", "", "not_a_workbook", variant=kind[0], **kind[1])
                return None
            scans = scan_xls(data)
        else:
            variant, values = other_kind(data, path.suffix.lower())
            sub.reject("", "", "not_a_workbook", variant=variant, **values)
            return None
    except Exception:  # zipfile, zlib, expat and xlrd raise many types for a damaged file
        sub.reject("", "", "corrupt_file")
        return None
    if scans is None:
        return None
    for name, scan in scans.items():
        if scan.rows > MAX_ROWS or scan.cols > MAX_COLS:
            sub.reject(name, "", "too_large", variant="bounds", max_rows=MAX_ROWS, max_cols=MAX_COLS)
            return None
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        invisible = {m.name.strip() for m in workbook.sheets_metadata
                     if m.visible != python_calamine.SheetVisibleEnum.Visible}
        hidden = [name for name in invisible if name in FORM_SHEETS]
        grid, merged = {}, {}
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            if sheet.total_height > MAX_ROWS or sheet.total_width > MAX_COLS:
                sub.reject(name, "", "too_large", variant="size",
                           rows=sheet.total_height, cols=sheet.total_width)
                return None
            rows = sheet.to_python(skip_empty_area=False)
            if name.strip() not in scans:  # its errors and formulas would go unchecked
                raise ValueError(f"sheet {name!r} was not scanned")
            scan = scans[name.strip()]
            for (r, c), cell in scan.unreadable.items():
                while len(rows) <= r:  # calamine may drop a trailing row of unsaved formulas
                    rows.append([])
                rows[r].extend([""] * (c + 1 - len(rows[r])))
                rows[r][c] = cell
            for (r, c), decimals in scan.percent.items():
                if r < len(rows) and c < len(rows[r]) and type(rows[r][c]) is float:
                    rows[r][c] = Percent(rows[r][c], decimals)
            grid[name.strip()] = rows
            merged[name.strip()] = sheet.merged_cell_ranges or []
        return Book(grid, hidden, merged, {name: scan.formulas for name, scan in scans.items()},
                    EXPLANATION_SHEET in invisible)
    except Exception:  # calamine raises several types for corrupt files; none must escape
        sub.reject("", "", "corrupt_file", variant="unsupported")
        return None


def read_head(path: Path) -> bytes:
    """A file's bytes, up to one byte more than a workbook may have (MAX_UNZIPPED_BYTES): enough
    to read it, or to know it is too large."""
    with path.open("rb") as f:
        return f.read(min(os.fstat(f.fileno()).st_size, MAX_UNZIPPED_BYTES) + 1)


def _check_merged(ranges: list, sheet: str, sub: Submission) -> None:
    """A merged range keeps its value in its first cell only: the others read as empty, i.e. 0.
    Refused where it covers input cells: village rows, or a vertical sheet's column D."""
    village = sheet == cat.VILLAGE_SHEET
    for (r0, c0), (r1, c1) in ranges:
        if (r0, c0) != (r1, c1) and r1 >= 1 and (village or c0 <= VALUE_COL <= c1):
            span = f"{ref(r0, c0)}:{ref(r1, c1)}"
            sub.reject(sheet, ref(r0, c0), "merged_cell", span=f"{sheet}!{span}",
                       row_kind="村" if village else "指标")


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
        sub.reject(S, "", "cover_field_missing", label=k)
    if missing:
        return None
    (raw_code, code_cell), (raw_name, name_cell), (raw_period, period_cell) = (
        fields["单位代码"], fields["填报单位"], fields["报告期"])
    sub.period = parse_period(raw_period)
    if sub.period is None:
        sub.reject(S, period_cell, "bad_period", "报告期", raw=cell_text(raw_period))
    elif clock.quarter_index(sub.period) > clock.quarter_index(current := clock.current_period()):
        sub.reject(S, period_cell, "future_period", "报告期", period=sub.period, current=current)
    code = code_text(raw_code)
    unit = cat.unit_by_code().get(code)
    if unit is None or unit.type not in ("town", "department"):
        sub.reject(S, code_cell, "unknown_unit", "单位代码", raw=cell_text(raw_code))
        return None
    sub.unit_code = unit.code
    if cell_text(raw_name) != unit.name:
        sub.reject(S, name_cell, "unit_name_mismatch", "填报单位",
                   raw=cell_text(raw_name), code=unit.code, name=unit.name)
    return unit


def _form_period(sub: Submission) -> str:
    """The quarter whose form a file is read against: its cover's (a file whose cover names no
    quarter is rejected for that, and read against this quarter's form for the rest)."""
    return sub.period or clock.current_period()


def _read_village_sheet(rows: list[list], unit: cat.Unit, sub: Submission) -> None:
    """One row per village; one column per village indicator, found by its header."""
    S = cat.VILLAGE_SHEET
    header = [cell_text(h) for h in (rows[0] if rows else [])]
    by_name = {i.name: i for i in cat.indicators_for(unit, S, _form_period(sub))}
    code_col = name_col = None
    columns: dict[int, cat.Indicator] = {}
    found: set[str] = set()
    code_keys = (cat.VILLAGE_CODE_HEADER, cat.header_key(cat.VILLAGE_CODE_HEADER))
    name_keys = (cat.VILLAGE_NAME_HEADER, cat.header_key(cat.VILLAGE_NAME_HEADER))
    for c, h in enumerate(header):
        if not h:
            continue
        key = cat.header_key(h)
        if key in code_keys:
            code_col = c
        elif key in name_keys:
            name_col = c
        elif key in by_name:
            ind = by_name[key]
            if ind.code in found:
                sub.reject(S, ref(0, c), "duplicate_column", indicator_code=ind.code, header=h)
            else:
                columns[c] = ind
                found.add(ind.code)
        else:
            sub.reject(S, ref(0, c), "unknown_column", header=h)
    if code_col is None:
        sub.reject(S, "A1", "missing_column", variant="code", header=cat.VILLAGE_CODE_HEADER)
        return
    for ind in by_name.values():
        if ind.code not in found:
            sub.reject(S, "", "missing_column", indicator_code=ind.code, header=ind.header)
    letters = {c: column_letter(c) for c in [code_col, *columns]}
    wanted = [(c, letters[c], ind.code) for c, ind in columns.items()]
    values = sub.values
    for r in range(1, len(rows)):
        row = rows[r]
        if all(cell_text(v) == "" for v in row):
            continue
        width = len(row)  # a row may end early: its missing cells are empty (as `_at` reads them)
        village = code_text(row[code_col] if code_col < width else "")
        name = cell_text(row[name_col] if name_col < width else "") if name_col is not None else ""
        sub.villages.append((S, f"{letters[code_col]}{r + 1}", village, name))
        for c, letter, code in wanted:  # the inner loop of a pass: 300 cells a workbook
            values.append((S, f"{letter}{r + 1}", village, code, row[c] if c < width else ""))


def _read_vertical_sheet(rows: list[list], unit: cat.Unit, sheet: str, sub: Submission) -> None:
    """`指标代码 | 指标名称 | 计量单位 | 数值`, one row per indicator this unit reports."""
    header = tuple(cat.header_key(cell_text(_at(rows, 0, c))) for c in range(4))
    if header != cat.VERTICAL_HEADER:
        sub.reject(sheet, "A1", "bad_header", header=" | ".join(cat.VERTICAL_HEADER))
        return
    expected = {i.code: i for i in cat.indicators_for(unit, sheet, _form_period(sub))}
    seen: set[str] = set()
    for r in range(1, len(rows)):
        code = code_text(_at(rows, r, 0)).upper()
        if not code and all(cell_text(v) == "" for v in rows[r]):
            continue
        ind = expected.get(code)
        if ind is None:
            sub.reject(sheet, ref(r, 0), "unknown_indicator", "指标代码", code=code)
            continue
        if code in seen:
            sub.reject(sheet, ref(r, 0), "duplicate_indicator", indicator_code=code, code=code)
            continue
        seen.add(code)
        name = cat.header_key(cell_text(_at(rows, r, 1)))
        if name != ind.name:
            sub.reject(sheet, ref(r, 1), "indicator_name_mismatch", indicator_code=code,
                       raw=name, code=code, name=ind.name)
        sub.values.append((sheet, ref(r, 3), unit.code, code, _at(rows, r, 3)))
    for code, ind in expected.items():
        if code not in seen:
            sub.reject(sheet, "", "missing_indicator", indicator_code=code, code=code, name=ind.name)


def _reference(sheet_text: str, cell_text_: str) -> tuple[str, str]:
    """(sheet, cell) a clerk wrote, as the warning named it: `村级指标` and `E12`, or
    `村级指标!E12` (or `'村级指标'!$E$12`, full-width or lower case) in the cell's column alone."""
    cell = unicodedata.normalize("NFKC", cell_text_).replace("$", "").replace(" ", "")
    sheet = unicodedata.normalize("NFKC", sheet_text).strip()
    if "!" in cell:
        named, cell = cell.rsplit("!", 1)
        sheet = named.strip("'\"") or sheet
    return sheet, cell.upper()


def _read_explanations(rows: list[list], merged: list, hidden: bool, unit: cat.Unit,
                       sub: Submission) -> None:
    """The 情况说明 sheet: `工作表 | 单元格 | 情况说明`, one row per explained figure, tied to
    the input cell it names (the cells the form sheets were just read from). It never rejects a
    file: a row that names no input cell is left out with a warning naming its cell; a hidden
    sheet is not read (the clerk would not see what it says). A merged range reads as its first
    cell throughout, as the clerk sees it (one sheet name over several rows)."""
    S = EXPLANATION_SHEET
    if hidden:
        sub.reject(S, "", "explanation_ignored", variant="hidden")
        return
    header = tuple(cat.header_key(cell_text(_at(rows, 0, c))) for c in range(3))
    if not any(cell_text(v) for row in rows[1:] for v in row[:3]) and (
            header == EXPLANATION_HEADER or not any(header)):
        return  # nothing written: the template's empty sheet, or an empty one a clerk added
    if header != EXPLANATION_HEADER:  # a clerk's own sheet, perhaps one explanation in row 1
        sub.reject(S, "A1", "explanation_ignored", variant="header", header=" | ".join(EXPLANATION_HEADER))
        return
    spans = {}
    for (r0, c0), (r1, c1) in merged:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                spans[(r, c)] = (r0, c0)
    targets = {(sheet, cell): code for sheet, cell, _, code, _ in sub.values}
    sheets = cat.sheets_of(unit)

    def at(r: int, c: int) -> str:
        return cell_text(_at(rows, *spans.get((r, c), (r, c))))

    for r in range(1, len(rows)):
        sheet_text, cell_text_, text = at(r, 0), at(r, 1), at(r, 2)
        if not (sheet_text or cell_text_ or text):
            continue
        sheet, cell = _reference(sheet_text, cell_text_)
        if not cell:
            sub.reject(S, ref(r, 1), "explanation_ignored", variant="no_cell")
            continue
        if not text:
            sub.reject(S, ref(r, 2), "explanation_ignored", variant="no_text",
                       target=f"{sheet}!{cell}" if sheet else cell)
            continue
        if not sheet:  # only one of the unit's sheets may have that input cell
            holders = [s for s in sheets if (s, cell) in targets]
            if len(holders) != 1:
                sub.reject(S, ref(r, 0), "explanation_ignored", variant="no_sheet", target=cell)
                continue
            sheet = holders[0]
        code = targets.get((sheet, cell))
        if code is None:
            sub.reject(S, ref(r, 1), "explanation_ignored", target=f"{sheet}!{cell}")
            continue
        sub.explanations.append((sheet, cell, code, text, ref(r, 2)))
