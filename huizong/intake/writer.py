"""Write a workbook in the form's layout (FORM.md): cover, village sheet, vertical sheets.

Used by the demo generator, the tests and templates, so that all of them write the one layout
the reader expects. Text that could be taken for a formula is written as text.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING

from huizong.core import clock
from huizong.core.cells import parse_period
from huizong.schemas import catalog as cat

# values: {(unit_code, indicator_code): raw cell content}; unit_code is the village for village rows.
Values = dict[tuple[str, str], object]


class Formula(str):
    """A cell content meant as a formula (tests write them); every other string is text."""


def put_text(ws, row: int, col: int, value: object):
    """Write a cell; a string is always text, never a formula, unless it is a `Formula`.

    Control characters, which a workbook cannot hold, are dropped."""
    if isinstance(value, str):
        value = type(value)(ILLEGAL_CHARACTERS_RE.sub("", value))
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and not isinstance(value, Formula) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = TYPE_STRING  # never a formula, whatever a clerk typed
    return cell


def write_workbook(path: Path, unit: cat.Unit, period_text: str, values: Values, **kwargs) -> Path:
    """Write `unit`'s workbook for a period (see `build_workbook` for the keyword arguments)."""
    wb = build_workbook(unit, period_text, values, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def build_workbook(unit: cat.Unit, period_text: str, values: Values, *,
                   unit_name: str | None = None, unit_code: object = None,
                   header: str = "full", villages: list[tuple[object, str]] | None = None,
                   cover_extra: dict[str, str] | None = None, form_period: str | None = None) -> Workbook:
    """`unit`'s workbook for a period, in memory. Keyword arguments let tests write it wrong.

    header: "full" (`道德讲堂（场次）`), "half" (`道德讲堂(场次)`) or "bare" (`道德讲堂`).
    villages: the (code, name) rows of the village sheet; default the town's registry villages.
    form_period: the quarter whose form (indicators, villages) it is written in; default the
    quarter `period_text` names, or this quarter.
    """
    period = form_period or parse_period(str(period_text)) or clock.current_period()
    wb = Workbook()
    cover = wb.active
    cover.title = cat.COVER_SHEET
    fields = {"填报单位": unit_name if unit_name is not None else unit.name,
              "单位代码": unit_code if unit_code is not None else unit.code,
              "报告期": period_text, "填报人": "", "联系电话": "", "填报日期": ""}
    fields.update(cover_extra or {})
    for r, (label, value) in enumerate(fields.items(), start=1):
        put_text(cover, r, 1, label)
        put_text(cover, r, 2, value)
    for sheet in cat.sheets_of(unit):
        ws = wb.create_sheet(sheet)
        inds = cat.indicators_for(unit, sheet, period)
        if sheet == cat.VILLAGE_SHEET:
            heads = {"full": lambda i: i.header, "half": lambda i: f"{i.name}({i.unit})",
                     "bare": lambda i: i.name}[header]
            for c, text in enumerate([cat.VILLAGE_CODE_HEADER, cat.VILLAGE_NAME_HEADER]
                                     + [heads(i) for i in inds], start=1):
                put_text(ws, 1, c, text)
            rows = villages if villages is not None else [
                (v.code, v.name) for v in cat.villages_of(unit.code, period)]
            for r, (code, name) in enumerate(rows, start=2):
                put_text(ws, r, 1, code)
                put_text(ws, r, 2, name)
                for c, ind in enumerate(inds, start=3):
                    put_text(ws, r, c, values.get((str(code), ind.code)))
        else:
            for c, text in enumerate(cat.VERTICAL_HEADER, start=1):
                put_text(ws, 1, c, text)
            for r, ind in enumerate(inds, start=2):
                for c, value in enumerate((ind.code, ind.name, ind.unit,
                                           values.get((unit.code, ind.code))), start=1):
                    put_text(ws, r, c, value)
    return wb


def with_explanation(data: bytes, sheet: str, cell: str, text: str) -> bytes:
    """The bytes of a workbook (.xlsx) whose 情况说明 sheet explains `sheet!cell` with `text`:
    the row that already names that cell gets the new text, else the first empty row does (the
    sheet is added, with its header, if the workbook has none). Every other cell is kept, so the
    figures are the same: a pass takes it as a duplicate of the version it came from, whose
    explanations it then carries (sql/marts/warning_reviews.sql)."""
    import io

    from openpyxl import load_workbook

    from huizong.intake.workbook import EXPLANATION_HEADER, EXPLANATION_SHEET

    wb = load_workbook(io.BytesIO(data))
    if EXPLANATION_SHEET in wb.sheetnames:
        ws = wb[EXPLANATION_SHEET]
    else:
        ws = wb.create_sheet(EXPLANATION_SHEET)
        for c, head in enumerate(EXPLANATION_HEADER, start=1):
            put_text(ws, 1, c, head)
    ws.sheet_state = "visible"  # a hidden 情况说明 is not read

    def names(r: int) -> bool:
        named_sheet = str(ws.cell(r, 1).value or "").strip()
        named_cell = str(ws.cell(r, 2).value or "").replace("$", "").strip().upper()
        return named_cell in (cell, f"{sheet}!{cell}") and named_sheet in ("", sheet)

    def empty(r: int) -> bool:
        return all(ws.cell(r, c).value in (None, "") for c in (1, 2, 3))

    rows = range(2, ws.max_row + 2)
    row = next((r for r in rows if names(r)), None) or next(r for r in rows if empty(r))
    for c, value in enumerate((sheet, cell, text), start=1):
        put_text(ws, row, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
