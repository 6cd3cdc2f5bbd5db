"""Feedback to the town on a rejected file: its own workbook marked up, and a short text.

The workbook is the file the town sent, with every problem cell filled red and commented, and a
first sheet 问题清单 listing every problem. Nothing written starts with = + - @ unless it is a
number (formula injection, RELIABILITY.md). A file that openpyxl cannot open (corrupt, .xls,
not a workbook) gets a workbook holding the list alone.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from huizong.files import bounded
from huizong.problems import ERROR, Problem
from huizong.writer import put_text
from huizong.schemas import catalog as cat

LIST_SHEET = "问题清单"
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
WARN_FILL = PatternFill("solid", fgColor="FFEB9C")
UNOPENABLE = {"corrupt_file", "too_large", "not_a_workbook", "encrypted", "unreadable"}


def feedback_stem(unit_code: str | None, period: str | None, sha256: str, file_name: str) -> PurePosixPath:
    """Where a file's feedback lives under the warehouse, without its ending: by unit and period.
    The town's file name is cut so that the feedback's name stays within a file system's 255 bytes."""
    return PurePosixPath("feedback", unit_code or "unknown", period or "unknown",
                         f"{sha256[:8]}_{bounded(Path(file_name).stem, 150)}_反馈")


def feedback_text(file_name: str, unit_code: str | None, period: str | None,
                  problems: list[Problem]) -> str:
    unit = cat.unit_by_code().get(unit_code or "")
    who = f"{unit.name}（{unit.code}）" if unit else "报送单位"
    errors = [p for p in problems if p.severity == ERROR]
    warnings = [p for p in problems if p.severity != ERROR]
    lines = [f"{who}{period or ''}报表“{file_name}”未通过审核，整份退回，已入库的数据不受影响。",
             f"共发现 {len(errors)} 个错误，请逐条修改后重新报送：", ""]
    lines += [f"{i}. {p.message}" for i, p in enumerate(errors, start=1)]
    if warnings:
        lines += ["", f"另有 {len(warnings)} 条提醒（不影响入库，请核实）："]
        lines += [f"- {p.message}" for p in warnings]
    lines += ["", "修改时请使用下发的模板，不要改动工作表名称、表头和村（社区）代码。"]
    return "\n".join(lines) + "\n"


def write_feedback(source: Path, file_name: str, unit_code: str | None, period: str | None,
                   problems: list[Problem], warehouse: Path) -> PurePosixPath:
    """Write `<stem>.xlsx` and `<stem>.txt` under the warehouse; returns the stem's path."""
    stem = feedback_stem(unit_code, period, problems[0].sha256 if problems else "", file_name)
    out = warehouse / stem
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".xlsx.part")
    try:
        feedback_book(_open_or_new(source, problems), problems).save(tmp)
    except Exception:  # something in the town's workbook openpyxl cannot write back: list only
        feedback_book(_empty_book(), problems).save(tmp)
    tmp.replace(out.with_name(out.name + ".xlsx"))
    out.with_name(out.name + ".txt").write_text(feedback_text(file_name, unit_code, period, problems),
                                                encoding="utf-8")
    return stem


def feedback_book(book: Workbook, problems: list[Problem]) -> Workbook:
    """`book` with every problem cell marked and commented, and the list sheet first."""
    for p in problems:
        if p.sheet in book.sheetnames and p.cell:
            cell = book[p.sheet][p.cell]
            if isinstance(cell, MergedCell):  # holds no comment; the list sheet still names it
                continue
            cell.fill = BAD_FILL if p.severity == ERROR else WARN_FILL
            cell.comment = Comment(ILLEGAL_CHARACTERS_RE.sub("", p.message), "县文明办",
                                   width=320, height=120)
    sheet = book.create_sheet(LIST_SHEET, 0)
    book.active = 0
    for c, head in enumerate(("序号", "工作表", "单元格", "指标", "问题", "类别"), start=1):
        put_text(sheet, 1, c, head).font = Font(bold=True)
    for r, p in enumerate(problems, start=2):
        ind = cat.indicator_by_code().get(p.indicator_code)
        for c, value in enumerate((r - 1, p.sheet, p.cell, ind.header if ind else "", p.message,
                                   "错误" if p.severity == ERROR else "提醒"), start=1):
            put_text(sheet, r, c, value)
    for col, width in zip("ABCDEF", (6, 12, 8, 26, 90, 8)):
        sheet.column_dimensions[col].width = width
    return book


def _empty_book() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    return book


def _open_or_new(source: Path, problems: list[Problem]) -> Workbook:
    """The town's own workbook when openpyxl can open it safely, else an empty one."""
    if source.suffix.lower() in (".xlsx", ".xlsm") and not any(p.check in UNOPENABLE for p in problems):
        try:
            book = load_workbook(source)  # macros are dropped: keep_vba is off
            if LIST_SHEET in book.sheetnames:
                del book[LIST_SHEET]
            for ws in book.worksheets:  # the town's own formulas come back as text, never to run
                for row in ws.iter_rows():
                    for cell in row:
                        if cell.data_type == "f":
                            cell.value, cell.data_type = str(cell.value), "s"
            return book
        except Exception:  # a file calamine read may still trouble openpyxl: fall back
            pass
    return _empty_book()
