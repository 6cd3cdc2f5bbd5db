"""Feedback to the town on a rejected file: its own workbook marked up, and a short text.

The workbook is the file the town sent, with every problem cell filled red and commented, and a
first sheet 问题清单 listing every problem. Nothing written starts with = + - @ unless it is a
number (formula injection, RELIABILITY.md). A file that openpyxl cannot open (corrupt, .xls,
not a workbook) gets a workbook holding the list alone.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path, PurePosixPath

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from huizong.clock import OFFICE_TZ
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


# --- a returned warning: the figure stays loaded, the town is asked for a corrected file ---------

RETURN_SHEET = "退回说明"


def return_notice_stem(unit_code: str, period: str, sha256: str, file_name: str) -> PurePosixPath:
    """Where the 退回说明 of a version's returned figures lives, beside its unit's feedback."""
    return PurePosixPath("feedback", unit_code, period,
                         f"{sha256[:8]}_{bounded(Path(file_name).stem, 150)}_{RETURN_SHEET}")


def _number(value) -> str:
    """A figure as the clerk typed it: 60.00 -> 60, 12.50 -> 12.5."""
    return "" if value is None else format(Decimal(value).normalize(), "f")


def _figure(w) -> str:
    where = " ".join(p for p in (w.place, w.village_name or "", f"{w.indicator_name}（{w.measure_unit}）") if p)
    return f"{where}：{_number(w.value)}"


def return_notice_text(returned: list) -> str:
    """The message to the town: which figures the office returned and why; the figures stay in
    the totals until a corrected file replaces them."""
    first = returned[0]
    lines = [f"{first.unit_name}（{first.unit_code}）{first.period}报表“{first.file_name}”中，"
             f"有 {len(returned)} 个数字经县文明办审核退回，请核实：", ""]
    for i, w in enumerate(returned, start=1):
        lines.append(f"{i}. {_figure(w)}")
        lines.append(f"   提醒：{w.message}")
        if w.explanation:
            lines.append(f"   贵单位的说明：{w.explanation}")
        lines.append(f"   退回意见：{w.office_note}（{w.decided_by}，{w.decided_at.astimezone(OFFICE_TZ):%Y年%m月%d日}）")
    lines += ["", "这些数字目前仍按报送的数值计入汇总（提醒不影响入库）。请在原报表中更正后重新报送整份报表，"
              "以最新的合格版本为准；如数字确实无误，请在报表的“情况说明”表中写明情况后重新报送。"]
    return "\n".join(lines) + "\n"


def write_return_notice(returned: list, warehouse: Path) -> PurePosixPath:
    """Write `<stem>.xlsx` and `<stem>.txt` for the returned warnings of one version in force
    (rows of marts.warning_reviews, huizong.review.Warned), whole or not at all; returns the stem."""
    first = returned[0]
    stem = return_notice_stem(first.unit_code, first.period, first.sha256, first.file_name)
    out = warehouse / stem
    out.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    sheet.title = RETURN_SHEET
    text = return_notice_text(returned)
    put_text(sheet, 1, 1, text.splitlines()[0]).font = Font(bold=True)
    heads = ("序号", "工作表", "单元格", "村（社区）", "指标", "数值", "提醒", "单位说明", "退回意见", "审核人", "审核日期")
    for c, head in enumerate(heads, start=1):
        put_text(sheet, 3, c, head).font = Font(bold=True)
    for r, w in enumerate(returned, start=4):
        row = (r - 3, w.sheet, w.cell, w.village_name or "", f"{w.indicator_name}（{w.measure_unit}）",
               w.value, w.message, w.explanation or "", w.office_note or "", w.decided_by or "",
               f"{w.decided_at.astimezone(OFFICE_TZ):%Y-%m-%d}")
        for c, value in enumerate(row, start=1):
            put_text(sheet, r, c, float(value) if c == 6 and value is not None else value)
    put_text(sheet, len(returned) + 5, 1, text.strip().splitlines()[-1])
    for col, width in zip("ABCDEFGHIJK", (6, 10, 8, 12, 22, 8, 60, 40, 40, 10, 12)):
        sheet.column_dimensions[col].width = width
    tmp = out.with_name(out.name + ".xlsx.part")
    book.save(tmp)
    tmp.replace(out.with_name(out.name + ".xlsx"))
    txt = out.with_name(out.name + ".txt.part")
    txt.write_text(text, encoding="utf-8")
    txt.replace(out.with_name(out.name + ".txt"))
    return stem
