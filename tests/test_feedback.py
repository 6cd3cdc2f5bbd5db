"""Feedback to the town: its own workbook marked up, a list of problems, a text; no formulas."""
from pathlib import Path

from openpyxl import load_workbook

from huizong.intake.feedback import LIST_SHEET, write_feedback
from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.intake.writer import Formula
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]
V1, V2 = cat.villages_of(TOWN.code)[:2]


def rejected(tmp_path: Path, overrides):
    path = write_unit_workbook(tmp_path / "城关镇.xlsx", TOWN, "2019Q3", overrides, header="full")
    (outcome,), _ = validate_batch([read_submission(path, "ab" * 32)])
    assert not outcome.ok
    stem = write_feedback(path, path.name, outcome.unit_code, outcome.period, outcome.problems,
                          tmp_path / "warehouse")
    return outcome, tmp_path / "warehouse" / stem


def test_feedback_marks_the_towns_own_workbook(tmp_path: Path):
    outcome, stem = rejected(tmp_path, {(V1.code, "V03"): "-2", (V2.code, "V10"): "约100"})
    assert stem.parent == tmp_path / "warehouse" / "feedback" / "990101100" / "2019Q3"
    book = load_workbook(f"{stem}.xlsx")
    assert book.sheetnames[0] == LIST_SHEET and cat.VILLAGE_SHEET in book.sheetnames
    sheet = book[cat.VILLAGE_SHEET]
    assert sheet["E2"].value == "-2" and "不能为负数" in sheet["E2"].comment.text
    assert sheet["E2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert "约数" in sheet["L3"].comment.text
    assert sheet["E3"].comment is None  # a good cell is left alone
    listed = [row[4] for row in book[LIST_SHEET].iter_rows(min_row=2, values_only=True)]
    assert listed == [p.message for p in outcome.problems]
    text = Path(f"{stem}.txt").read_text(encoding="utf-8")
    assert "城关镇（990101100）2019Q3" in text and "1. 村级指标!E2 道德讲堂（场次）: “-2”不能为负数" in text


def test_nothing_in_feedback_can_run_as_a_formula(tmp_path: Path):
    _, stem = rejected(tmp_path, {(V1.code, "V03"): "=HYPERLINK(\"http://x\")",
                                  (V2.code, "V03"): "@SUM(1)", (V2.code, "V12"): Formula("=C3*2")})
    book = load_workbook(f"{stem}.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    for c in cells:  # every text starting with a formula sign is stored as text
        if isinstance(c.value, str) and c.value[:1] in "=+-@":
            assert c.data_type == "s"


def test_feedback_for_a_file_that_is_not_a_workbook(tmp_path: Path):
    path = tmp_path / "f.xlsx"
    path.write_text("not a workbook")
    (outcome,), _ = validate_batch([read_submission(path, "cd" * 32)])
    stem = write_feedback(path, path.name, None, None, outcome.problems, tmp_path / "warehouse")
    assert stem.parts[:3] == ("feedback", "unknown", "unknown")
    assert load_workbook(tmp_path / "warehouse" / f"{stem}.xlsx").sheetnames == [LIST_SHEET]
