"""The feedback on paper (issue 23, item 4) and within Excel's limits (issue 28, item 4): the
workbook written for a rejected file prints 问题清单 one A4 width at a readable scale with the
reasons wrapped, shows village codes whole as text, prints the comments, carries page numbers;
no comment and no cell holds more than Excel's 32,767 characters.

The scale is computed here from the column widths (Excel's 7-pixel digits and, wider, DejaVu
Sans's 0.636 em at 11 pt, LibreOffice's stand-in for Calibri) and A4's printable width."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import libreoffice_has
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from huizong.intake.feedback import LIST_SHEET, feedback_book, write_feedback
from huizong.intake.problems import ERROR, Problem
from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]
V1, V2 = cat.villages_of(TOWN.code)[:2]
EXCEL_MAX = 32_767
A4_WIDTH_IN = {"landscape": 297 / 25.4, "portrait": 210 / 25.4}


def _rejected(tmp_path: Path, overrides) -> Path:
    path = write_unit_workbook(tmp_path / "城关镇.xlsx", TOWN, "2019Q3", overrides, header="full")
    (outcome,), _ = validate_batch([read_submission(path, "ab" * 32)])
    assert not outcome.ok
    stem = write_feedback(path, path.name, outcome.unit_code, outcome.period, outcome.problems,
                          tmp_path / "warehouse")
    return tmp_path / "warehouse" / f"{stem}.xlsx"


def _fit_scale(ws, digit_pt: float) -> float:
    """The scale fitToWidth=1 gives: the printable width over the columns' width (5 px padding)."""
    printable = (A4_WIDTH_IN[ws.page_setup.orientation] - ws.page_margins.left - ws.page_margins.right) * 72
    widths = [ws.column_dimensions[get_column_letter(c)].width or 8.43 for c in range(1, ws.max_column + 1)]
    return min(1.0, printable / sum(w * digit_pt + 3.75 for w in widths))


@pytest.fixture
def feedback(tmp_path):
    return load_workbook(_rejected(tmp_path, {(V1.code, "V03"): "-2", (V2.code, "V10"): "约100",
                                              (V2.code, "V12"): "x" * 300}))


def test_the_list_prints_one_a4_width_at_8_pt_or_more(feedback):
    ws = feedback[LIST_SHEET]
    setup = ws.page_setup
    assert int(setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1 and setup.fitToHeight == 0
    heads = [c.value for c in ws[1]]
    assert heads[-1] == "类别" and "问题" in heads  # every column is within the one page width
    smallest = min(c.font.sz or 11 for row in ws.iter_rows() for c in row if c.value is not None)
    for digit_pt in (7 * 0.75, 0.636 * 11):  # Excel's Calibri; DejaVu Sans
        assert smallest * _fit_scale(ws, digit_pt) >= 8, digit_pt


def test_reasons_wrap_and_their_rows_are_tall_enough(feedback):
    ws = feedback[LIST_SHEET]
    reason = [c.value for c in ws[1]].index("问题") + 1
    width = ws.column_dimensions[get_column_letter(reason)].width
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, reason)
        assert cell.alignment.wrap_text, cell.coordinate
        units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in cell.value)
        lines = -(-units // int(width - 1))  # by hand: characters over the column's width
        assert (ws.row_dimensions[r].height or 15) >= 15 * lines, (cell.coordinate, lines)


def test_village_codes_show_whole_as_text(feedback):
    ws = feedback[cat.VILLAGE_SHEET]
    codes = [c for c in ws["A"][1:] if c.value]
    assert codes and all(isinstance(c.value, str) and len(c.value) == 12 for c in codes)
    assert ws.column_dimensions["A"].width >= 12 + 2  # twelve digits and the cell's padding


def test_comments_print_and_every_sheet_numbers_its_pages(feedback):
    for ws in feedback.worksheets:
        footer = ws.oddFooter.center.text or ""
        assert "&P" in footer and "&N" in footer, ws.title
        assert ws.oddHeader.center.text, ws.title
    village = feedback[cat.VILLAGE_SHEET]
    assert village["E2"].comment is not None
    assert village.page_setup.cellComments in ("atEnd", "asDisplayed")


def _problem(message: str, cell="E2", severity=ERROR) -> Problem:
    return Problem(sha256="ab" * 32, sheet=cat.VILLAGE_SHEET, cell=cell,
                   indicator_code="V03", check="not_a_number", severity=severity, message=message)


def _town_book(tmp_path):
    return load_workbook(write_unit_workbook(tmp_path / "t.xlsx", TOWN, "2019Q3", {}, header="full"))


def test_a_100_kb_cell_gives_a_comment_and_a_list_cell_cut_with_a_mark(tmp_path):
    message = f"村级指标!E2 道德讲堂（场次）: “{'长' * 100_000}”请用阿拉伯数字填写"
    book = feedback_book(_town_book(tmp_path), [_problem(message)])
    out = tmp_path / "f.xlsx"
    book.save(out)
    book = load_workbook(out)
    comment = book[cat.VILLAGE_SHEET]["E2"].comment.text
    listed = book[LIST_SHEET]["E2"].value
    for text in (comment, listed):
        assert len(text) <= EXCEL_MAX and text.endswith("（已截断）") and text.startswith("村级指标!E2")
    _no_cell_over_the_limit(book)


def test_many_problems_on_one_cell_share_one_comment_within_the_limit(tmp_path):
    problems = [_problem(f"第 {i} 条：" + "问题" * 500) for i in range(60)]  # 60 x 1,000 characters
    book = feedback_book(_town_book(tmp_path), problems)
    out = tmp_path / "f.xlsx"
    book.save(out)
    book = load_workbook(out)
    comment = book[cat.VILLAGE_SHEET]["E2"].comment.text
    assert comment.startswith("第 0 条：") and "第 1 条：" in comment  # every problem, not the last alone
    assert len(comment) <= EXCEL_MAX and comment.endswith("（已截断）")
    _no_cell_over_the_limit(book)


def test_characters_beyond_the_bmp_count_twice_toward_the_limit(tmp_path):
    book = feedback_book(_town_book(tmp_path), [_problem("😀" * 20_000)])
    comment = book[cat.VILLAGE_SHEET]["E2"].comment.text
    assert len(comment.encode("utf-16-le")) // 2 <= EXCEL_MAX and comment.endswith("（已截断）")


def _no_cell_over_the_limit(book):
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    assert len(c.value.encode("utf-16-le")) // 2 <= EXCEL_MAX, (ws.title, c.coordinate)


@pytest.mark.skipif(not (libreoffice_has("calc") and shutil.which("pdftotext")),
                    reason="LibreOffice Calc (libreoffice-calc-nogui) and poppler (pdftotext) are not installed")
def test_libreoffice_prints_the_list_whole_on_one_page(tmp_path):
    out = _rejected(tmp_path, {(V1.code, "V03"): "-2", (V2.code, "V10"): "约100"})
    book = load_workbook(out)
    for name in book.sheetnames[1:]:
        del book[name]
    listed = tmp_path / "list.xlsx"
    book.save(listed)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(listed)],
                   check=True, capture_output=True, timeout=300)
    info = subprocess.run(["pdfinfo", str(tmp_path / "list.pdf")], check=True, capture_output=True,
                          text=True).stdout
    assert re.search(r"Pages:\s+1\b", info), info
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "list.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "类别" in text and "不能为负数" in text and "第 1 页，共 1 页" in text
