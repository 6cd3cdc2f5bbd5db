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
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from huizong.core.clock import OFFICE_TZ
from huizong.core.files import bounded
from huizong.intake.problems import ERROR, Problem
from huizong.intake.writer import put_text
from huizong.schemas import catalog as cat

LIST_SHEET = "问题清单"
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
WARN_FILL = PatternFill("solid", fgColor="FFEB9C")
UNOPENABLE = {"corrupt_file", "too_large", "not_a_workbook", "encrypted", "unreadable"}
# Excel holds at most 32,767 characters (UTF-16 units) in a cell or a comment; longer text is cut
# with a mark the clerk sees.
EXCEL_TEXT_MAX = 32_767
CUT_MARK = "…（已截断）"
# 问题清单 on A4 landscape, one page wide: widths (characters) that need no shrinking below ~95 %.
LIST_HEADS = ("序号", "工作表", "单元格", "指标", "问题", "类别")
LIST_WIDTHS = (6, 10, 8, 22, 60, 6)
WRAPPED = {"指标", "问题"}
FOOTER = "第 &P 页，共 &N 页"
CODE_WIDTH = 15  # a 12-digit village code shown whole


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
    """`book` with every problem cell marked and commented, and the list sheet first, all set up
    to print on A4 (comments printed at the end of their sheet)."""
    for (sheet_name, coordinate), found in _by_cell(book, problems).items():
        cell = book[sheet_name][coordinate]
        cell.fill = BAD_FILL if any(p.severity == ERROR for p in found) else WARN_FILL
        cell.comment = Comment(excel_text("\n".join(ILLEGAL_CHARACTERS_RE.sub("", p.message) for p in found)),
                               "县文明办", width=320, height=120)
    for ws in book.worksheets:
        _show_codes_whole(ws)
        _print_setup(ws, f"县文明办审核反馈：{ws.title}", landscape=ws.max_column > 8)
    sheet = book.create_sheet(LIST_SHEET, 0)
    book.active = 0
    for c, head in enumerate(LIST_HEADS, start=1):
        put_text(sheet, 1, c, head).font = Font(bold=True)
    for r, p in enumerate(problems, start=2):
        ind = cat.indicator_by_code().get(p.indicator_code)
        row = (r - 1, p.sheet, p.cell, ind.header if ind else "", p.message,
               "错误" if p.severity == ERROR else "提醒")
        for c, value in enumerate(row, start=1):
            put_text(sheet, r, c, excel_text(value) if isinstance(value, str) else value).alignment = \
                Alignment(wrap_text=LIST_HEADS[c - 1] in WRAPPED, vertical="top")
        sheet.row_dimensions[r].height = 15 * max(_lines(str(v or ""), w) for v, w in zip(row, LIST_WIDTHS)) + 2
    for c, width in enumerate(LIST_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    _print_setup(sheet, f"县文明办审核反馈：{LIST_SHEET}", landscape=True)
    sheet.print_title_rows = "1:1"
    return book


def excel_text(text: str) -> str:
    """`text` as a cell or comment can hold it: cut to Excel's 32,767 characters with a mark."""
    if _utf16_len(text) <= EXCEL_TEXT_MAX:
        return text
    room = EXCEL_TEXT_MAX - _utf16_len(CUT_MARK)
    kept = text[:room]
    while _utf16_len(kept) > room:  # characters beyond the BMP count twice
        kept = kept[:-1]
    return kept + CUT_MARK


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _by_cell(book: Workbook, problems: list[Problem]) -> dict[tuple[str, str], list[Problem]]:
    """The problems of each cell that can hold a comment, in order (several may name one cell)."""
    cells: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet in book.sheetnames and p.cell:
            if isinstance(book[p.sheet][p.cell], MergedCell):  # holds no comment; the list names it
                continue
            cells.setdefault((p.sheet, p.cell), []).append(p)
    return cells


def _lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column of `width` (a CJK character is two wide)."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, -(-units // max(int(width) - 1, 1)), text.count("\n") + 1)


def _show_codes_whole(ws) -> None:
    """A column holding unit codes (9 digits and more) wide enough to show them, as text."""
    for column in ws.iter_cols():
        codes = [c for c in column if isinstance(c.value, (int, str)) and not isinstance(c.value, bool)
                 and str(c.value).isdigit() and len(str(c.value)) >= 9]
        if not codes:
            continue
        for cell in codes:
            if isinstance(cell.value, int):
                cell.value = str(cell.value)
        letter = get_column_letter(codes[0].column)
        widest = max(len(str(c.value)) for c in codes) + 3
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, CODE_WIDTH, widest)


def _print_setup(ws, title: str, landscape: bool) -> None:
    """A4, one page wide (as many long as it takes), title and page numbers, comments at the end."""
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    setup.orientation = "landscape" if landscape else "portrait"
    setup.fitToWidth, setup.fitToHeight = 1, 0
    setup.cellComments = "atEnd"
    if ws.sheet_properties.pageSetUpPr is None:  # a town's sheet read back may have none
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddHeader.center.text = title
    ws.oddFooter.center.text = FOOTER


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
    (rows of marts.warning_reviews, huizong.office.review.Warned), whole or not at all; returns the stem."""
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
