"""Warnings that can be explained and accepted (issue 16, part 1): the workbook's 情况说明 sheet,
ops.explanations and ops.reviews, marts.warning_reviews, `huizong review`, status and the notes.

One town sends 2019Q1 and Q2 as usual, then a Q3 whose figures warn: two villages' moral
lectures (V03) far above their usual, one village's flag V02 back to 否, and the town's T01 far
above its usual. Its 情况说明 sheet explains the first village's V03 and T01, and has one row
that names no input cell. The expected values and cells below are worked out by hand from the
demo generator's figures and the form's layout.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query, run_pass
from openpyxl import load_workbook

from huizong import cli
from huizong.core.settings import MAX_ROWS
from huizong.flows.rerun import rerun
from huizong.intake.validation import validate_batch
from huizong.intake.workbook import EXPLANATION_SHEET, read_submission
from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.outputs.notes import data_notes
from huizong.outputs.report import read_warehouse
from huizong.outputs.templates import INSTRUCTIONS_SHEET, write_template
from huizong.schemas import catalog as cat

TOWN = cat.towns()[1]
VILLAGES = cat.villages_of(TOWN.code)
SPIKE = 60  # moral lectures in a quarter: far above any demo village's usual (1 to 5)
TOWN_SPIKE = 150  # T01 景观小品: far above the town's usual (at most 5)


def _steady(code: str) -> list[int]:
    """Villages whose V03 was above 0 in 2019Q1 and Q2, so that their median is above 0."""
    return [i for i, v in enumerate(VILLAGES)
            if all(true_value(v.code, p, code) > 0 for p in ("2019Q1", "2019Q2"))]


A_INDEX, B_INDEX = _steady("V03")[:2]
C_INDEX = next(i for i, v in enumerate(VILLAGES) if true_value(v.code, "2019Q2", "V02") == 1
               and i not in (A_INDEX, B_INDEX))
A, B, C = VILLAGES[A_INDEX], VILLAGES[B_INDEX], VILLAGES[C_INDEX]
# The form's layout: village rows from row 2 in the registry's order; V02 in column D, V03 in E
# (A code, B name, then V01, V02, V03 ...); 镇级指标 holds T01 on row 2, its value in column D.
A_CELL, B_CELL, C_CELL = f"E{A_INDEX + 2}", f"E{B_INDEX + 2}", f"D{C_INDEX + 2}"
T01_CELL = "D2"
EXPLAIN_A = "本季度全村开展“道德讲堂进农家”活动，每个村民小组各办一场"
EXPLAIN_T01 = "镇里统一采购安装了景观小品"
EXPLAIN_B = "补记上季度的场次"
RETURN_NOTE = "景观小品数量与采购合同不符，请核实"
STATE = ("select sheet || '!' || cell, state from marts.warning_reviews where unit_code = ? "
         "and period = '2019Q3' order by all")


def median_v03(village) -> float:
    return statistics.median(true_value(village.code, p, "V03") for p in ("2019Q1", "2019Q2"))


def explain(path: Path, rows: list[tuple], hidden: bool = False) -> Path:
    """Add a 情况说明 sheet to a workbook with these (工作表, 单元格, 情况说明) rows, as a clerk
    would in Excel."""
    book = load_workbook(path)
    ws = book.create_sheet(EXPLANATION_SHEET)
    for r, row in enumerate([("工作表", "单元格", "情况说明"), *rows], start=1):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    if hidden:
        ws.sheet_state = "hidden"
    book.save(path)
    return path


def q3_workbook(path: Path, *, a_value: int = SPIKE, t01: object = TOWN_SPIKE, rows=None) -> Path:
    overrides = {(A.code, "V03"): a_value, (B.code, "V03"): SPIKE, (C.code, "V02"): "否",
                 (TOWN.code, "T01"): t01}
    write_unit_workbook(path, TOWN, "2019Q3", overrides, header="full")
    return explain(path, rows if rows is not None else [
        ("村级指标", A_CELL, EXPLAIN_A),
        (None, f"镇级指标!{T01_CELL}", EXPLAIN_T01),  # the whole reference in the cell's column
        ("村级指标", "A1", "这一行写错了单元格"),  # no input cell: a warning, never a rejection
    ])


def review(warehouse: Path, *args: str) -> int:
    return cli.main(["review", "--warehouse", str(warehouse), *args])


@pytest.fixture(scope="module")
def quarter(tmp_path_factory, prefect_harness):
    """The town's 2019Q1-Q3 after one pass: the Q3 file warns and explains two figures."""
    root = tmp_path_factory.mktemp("review")
    inbox, warehouse = root / "inbox", root / "warehouse"
    for period in ("2019Q1", "2019Q2"):
        write_unit_workbook(inbox / f"{TOWN.name}_{period}.xlsx", TOWN, period)
    q3_workbook(inbox / f"{TOWN.name}_2019Q3.xlsx")
    summary = run_pass(inbox, warehouse)
    shutil.copyfile(warehouse / "huizong.duckdb", root / "undecided.duckdb")  # for the notes' test
    return inbox, warehouse, summary


def test_the_figures_chosen_warn():
    # the scenario's preconditions, by FORM.md's rule: above 5 times a median above 0
    for village in (A, B):
        assert 0 < 5 * median_v03(village) < SPIKE
    t01 = statistics.median(true_value(TOWN.code, p, "T01") for p in ("2019Q1", "2019Q2"))
    assert 0 < 5 * t01 < TOWN_SPIKE


def test_explained_warnings_load_and_a_bad_reference_is_a_warning(quarter):
    _, warehouse, summary = quarter
    assert {f["file_name"]: f["status"] for f in summary.files} == {
        f"{TOWN.name}_{p}.xlsx": "loaded" for p in ("2019Q1", "2019Q2", "2019Q3")}
    q3 = f"{TOWN.name}_2019Q3.xlsx"
    assert query(warehouse, "select e.sheet, e.cell, e.indicator_code, e.explanation, e.source_cell "
                            "from ops.explanations e join ops.imports using (sha256) "
                            "where file_name = ? order by e.source_cell", [q3]) == [
        ("村级指标", A_CELL, "V03", EXPLAIN_A, "C2"), ("镇级指标", T01_CELL, "T01", EXPLAIN_T01, "C3")]
    ignored = query(warehouse, "select e.severity, e.message from ops.import_errors e join ops.imports "
                               "using (sha256) where file_name = ? and check_name = 'explanation_ignored'", [q3])
    assert ignored == [("warning", "情况说明!B4: “村级指标!A1”不是本单位报表中填报数值的单元格，这条说明未记录。"
                                   "请照提醒写明工作表和单元格（如 村级指标!E12）")]


def test_states_before_any_decision(quarter):
    _, warehouse, _ = quarter
    assert query(warehouse, STATE, [TOWN.code]) == sorted([
        (f"村级指标!{A_CELL}", "explained"), (f"村级指标!{B_CELL}", "open"),
        (f"村级指标!{C_CELL}", "open"), (f"镇级指标!{T01_CELL}", "explained")])
    row = query(warehouse, "select unit_name, village_code, village_name, indicator_code, value, "
                           "explanation, explanation_cell, file_name, message from marts.warning_reviews "
                           "where sheet = '村级指标' and cell = ?", [A_CELL])
    median = f"{median_v03(A):g}"
    assert row == [(TOWN.name, A.code, A.name, "V03", Decimal(SPIKE), EXPLAIN_A, "C2",
                    f"{TOWN.name}_2019Q3.xlsx",
                    f"村级指标!{A_CELL} 道德讲堂（场次）: “{SPIKE}”超过本单位以往季度中位数 {median} 的 5 倍，请核实是否填错")]


def test_the_office_decides_and_its_decisions_outlive_a_rerun_and_a_correction(quarter, capsys):
    inbox, warehouse, _ = quarter
    u = ["--unit", TOWN.code, "--period", "2019Q3"]

    # what awaits the office: the explained and open warnings, and status says so
    assert review(warehouse, *u) == 0
    out = capsys.readouterr().out
    assert "4 warning(s) explained/open" in out and EXPLAIN_A in out
    assert cli.main(["status", "--warehouse", str(warehouse)]) == 0
    assert (f"{TOWN.name} {TOWN.code} 2019Q3: 2 explained, 2 open    huizong review --unit {TOWN.code} "
            "--period 2019Q3") in capsys.readouterr().out

    # mistakes: one sentence each, nothing recorded
    assert review(warehouse, *u, "--cell", "村级指标!C2", "--accept", "--by", "王芳") == 1
    assert "no warning at 村级指标!C2" in capsys.readouterr().err
    assert review(warehouse, *u, "--cell", f"镇级指标!{T01_CELL}", "--return", "--by", "王芳") == 1
    assert "a return needs a note" in capsys.readouterr().err
    assert review(warehouse, "--period", "2019Q3", "--cell", A_CELL, "--accept", "--by", "王芳") == 1
    capsys.readouterr()
    assert query(warehouse, "select count(*) from ops.reviews") == [(0,)]

    # accept the explained village figure and the open flag; return T01 and village B's figure
    assert review(warehouse, *u, "--cell", f"村级指标!{A_CELL}", f"村级指标!{C_CELL}", "--accept", "--by", "王芳") == 0
    assert review(warehouse, *u, "--cell", f"镇级指标!{T01_CELL}", "--return", "--by", "李强",
                  "--note", RETURN_NOTE) == 0
    assert review(warehouse, *u, "--cell", B_CELL.lower(), "--return", "--by", "李强",  # the sheet found
                  "--note", "请核实") == 0
    out = capsys.readouterr().out
    assert "accepted: 2 warning(s)" in out and "returned: 1 warning(s)" in out
    decided = {
        (f"村级指标!{A_CELL}", "accepted"), (f"村级指标!{B_CELL}", "returned"),
        (f"村级指标!{C_CELL}", "accepted"), (f"镇级指标!{T01_CELL}", "returned")}
    assert set(query(warehouse, STATE, [TOWN.code])) == decided
    sha = query(warehouse, "select sha256 from ops.imports where file_name = ?", [f"{TOWN.name}_2019Q3.xlsx"])[0][0]
    assert query(warehouse, "select review_id, indicator_code, cell, decision, note, decided_by, sha256, value "
                            "from ops.reviews order by review_id") == [
        (1, "V03", A_CELL, "accepted", None, "王芳", sha, Decimal(SPIKE)),
        (2, "V02", C_CELL, "accepted", None, "王芳", sha, Decimal(0)),
        (3, "T01", T01_CELL, "returned", RETURN_NOTE, "李强", sha, Decimal(TOWN_SPIKE)),
        (4, "V03", B_CELL, "returned", "请核实", "李强", sha, Decimal(SPIKE))]

    # the town's 退回说明 lists both returned figures, and says they stay loaded
    stem = warehouse / "feedback" / TOWN.code / "2019Q3" / f"{sha[:8]}_{TOWN.name}_2019Q3_退回说明"
    text = Path(f"{stem}.txt").read_text(encoding="utf-8")
    assert f"{TOWN.name}（{TOWN.code}）2019Q3报表“{TOWN.name}_2019Q3.xlsx”中，有 2 个数字经县文明办审核退回" in text
    assert f"镇级指标!{T01_CELL} 核心价值观景观小品（个）：{TOWN_SPIKE}" in text
    assert f"村级指标!{B_CELL} {B.name} 道德讲堂（场次）：{SPIKE}" in text
    assert f"退回意见：{RETURN_NOTE}（李强，" in text and f"贵单位的说明：{EXPLAIN_T01}" in text
    assert "仍按报送的数值计入汇总" in text and "重新报送" in text
    listed = list(load_workbook(f"{stem}.xlsx")["退回说明"].iter_rows(min_row=4, max_row=5, values_only=True))
    assert [(r[1], r[2], r[5], r[8]) for r in listed] == [
        ("村级指标", B_CELL, SPIKE, "请核实"), ("镇级指标", T01_CELL, TOWN_SPIKE, RETURN_NOTE)]
    # the returned figures stay in the totals
    t01 = query(warehouse, "select value from marts.unit_quarter_values where unit_code = ? "
                           "and period = '2019Q3' and indicator_code = 'T01'", [TOWN.code])
    assert t01 == [(Decimal(TOWN_SPIKE),)]
    assert cli.main(["status", "--warehouse", str(warehouse), "--period", "2019Q3"]) == 0
    assert "2019Q3: 2 returned, 2 accepted" in capsys.readouterr().out

    # a rebuild from the kept files (every version read again) keeps every decision
    reviews = query(warehouse, "select * from ops.reviews order by review_id")
    rerun(warehouse=warehouse, inbox=inbox, unit=TOWN.code, force=True, settle_seconds=0, write_summary=False)
    assert query(warehouse, "select * from ops.reviews order by review_id") == reviews
    assert set(query(warehouse, STATE, [TOWN.code])) == decided

    # the corrected file: T01 corrected, B explained now, A's figure changed, C's the same
    q3_workbook(inbox / f"{TOWN.name}_2019Q3_更正.xlsx", a_value=SPIKE + 10,
                t01=true_value(TOWN.code, "2019Q3", "T01"), rows=[("村级指标", B_CELL, EXPLAIN_B)])
    run_pass(inbox, warehouse)
    assert set(query(warehouse, STATE, [TOWN.code])) == {
        (f"村级指标!{A_CELL}", "open"),  # accepted at 60: 70 is another figure
        (f"村级指标!{B_CELL}", "explained"),  # returned, answered by a newer version that explains it
        (f"村级指标!{C_CELL}", "accepted")}  # the figure accepted, unchanged in the new version
    assert query(warehouse, "select office_note, decision from marts.warning_reviews where cell = ?",
                 [B_CELL]) == [("请核实", "returned")]  # the last decision is still shown

    # accept what is explained, all at once
    assert review(warehouse, *u, "--all-explained", "--accept", "--by", "王芳", "--note", "已电话核实") == 0
    assert f"{TOWN.name} {TOWN.code} 2019Q3 村级指标!{B_CELL}" in capsys.readouterr().out
    assert query(warehouse, "select state, office_note from marts.warning_reviews where cell = ?",
                 [B_CELL]) == [("accepted", "已电话核实")]


def test_the_summary_notes_name_reviewed_figures(quarter, tmp_path):
    """On a copy of the quarter's warehouse as the pass left it, two decisions of its own."""
    _, warehouse, _ = quarter
    copy = tmp_path / "warehouse"
    copy.mkdir()
    shutil.copyfile(warehouse.parent / "undecided.duckdb", copy / "huizong.duckdb")
    u = ["--unit", TOWN.code, "--period", "2019Q3"]
    assert review(copy, *u, "--cell", f"村级指标!{A_CELL}", "--accept", "--by", "王芳") == 0
    assert review(copy, *u, "--cell", f"镇级指标!{T01_CELL}", "--return", "--by", "李强", "--note", RETURN_NOTE) == 0
    notes = data_notes(read_warehouse(copy, 2019))
    assert ("各单位报送的数字中有4个与本单位以往季度相比异常，已提醒核实（提醒不影响入库）："
            "经审核认可1个，已退回待更正1个，尚未说明2个。") in notes
    assert f"经审核认可的：{TOWN.name}2019Q3{A.name}“道德讲堂”{SPIKE}场次（说明：{EXPLAIN_A}）。" in notes
    assert (f"已退回待更正的（在更正前仍按报送数计入汇总）：{TOWN.name}2019Q3“核心价值观景观小品”"
            f"{TOWN_SPIKE}个（退回意见：{RETURN_NOTE}）。") in notes
    # the office thinks again: accepted, the town's 退回说明 goes, as nothing is returned now
    assert len(list((copy / "feedback").rglob("*退回说明.*"))) == 2
    assert review(copy, *u, "--cell", f"镇级指标!{T01_CELL}", "--accept", "--by", "李强") == 0
    assert list((copy / "feedback").rglob("*退回说明.*")) == []


def test_a_figure_accepted_without_the_towns_explanation_is_noted_with_the_offices(quarter, tmp_path):
    """Confirmed by telephone: no 情况说明, the office's note is the reason the summary gives."""
    _, warehouse, _ = quarter
    copy = tmp_path / "warehouse"
    copy.mkdir()
    shutil.copyfile(warehouse.parent / "undecided.duckdb", copy / "huizong.duckdb")
    assert review(copy, "--unit", TOWN.code, "--period", "2019Q3", "--cell", f"村级指标!{B_CELL}",
                  "--accept", "--by", "王芳", "--note", "已电话核实") == 0
    notes = " ".join(data_notes(read_warehouse(copy, 2019)))
    assert f"{TOWN.name}2019Q3{B.name}“道德讲堂”{SPIKE}场次（审核意见：已电话核实）" in notes


def test_one_explanation_in_a_sheet_without_the_header_is_a_warning_not_silence(tmp_path):
    path = write_unit_workbook(tmp_path / "x.xlsx", TOWN, "2019Q3")
    book = load_workbook(path)
    book.create_sheet(EXPLANATION_SHEET).append(("村级指标", A_CELL, EXPLAIN_A))  # a clerk's own sheet
    book.save(path)
    (outcome,), _ = validate_batch([read_submission(path, "x")])
    assert outcome.ok and outcome.explanations == []
    assert [(p.sheet, p.cell, p.check) for p in outcome.problems] == [
        (EXPLANATION_SHEET, "A1", "explanation_ignored")]


def test_the_same_figures_sent_again_with_an_explanation_explain_them(tmp_path, prefect_harness):
    """A town answers a warning by sending its file again with a 情况说明: the same figures, so
    the version is a duplicate of the one in force, and its explanation counts."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    for period in ("2019Q1", "2019Q2"):
        write_unit_workbook(inbox / f"{period}.xlsx", TOWN, period)
    q3_workbook(inbox / "q3.xlsx", rows=[])
    run_pass(inbox, warehouse)
    assert query(warehouse, "select state from marts.warning_reviews where cell = ?", [B_CELL]) == [("open",)]
    q3_workbook(inbox / "q3_说明.xlsx", rows=[("村级指标", B_CELL, EXPLAIN_B)])
    run_pass(inbox, warehouse)
    assert query(warehouse, "select file_name, status from ops.imports where file_name like 'q3%' "
                            "order by file_name") == [("q3.xlsx", "loaded"), ("q3_说明.xlsx", "duplicate")]
    assert query(warehouse, "select state, explanation, explanation_file_name, file_name "
                            "from marts.warning_reviews where cell = ?", [B_CELL]) == [
        ("explained", EXPLAIN_B, "q3_说明.xlsx", "q3.xlsx")]


# --- the workbook -------------------------------------------------------------------------------

def test_a_workbook_without_the_sheet_reads_as_before(tmp_path):
    sub = read_submission(write_unit_workbook(tmp_path / "x.xlsx", TOWN, "2019Q3"), "x")
    assert (sub.problems, sub.explanations) == ([], [])


def test_a_hidden_sheet_is_not_read_and_the_file_still_loads(tmp_path):
    path = explain(write_unit_workbook(tmp_path / "x.xlsx", TOWN, "2019Q3"),
                   [("村级指标", A_CELL, EXPLAIN_A)], hidden=True)
    (outcome,), _ = validate_batch([read_submission(path, "x")])
    assert outcome.ok and outcome.explanations == []
    assert [(p.sheet, p.check, p.severity) for p in outcome.problems] == [
        (EXPLANATION_SHEET, "explanation_ignored", "warning")]
    assert "被隐藏" in outcome.problems[0].message


def test_the_sheet_is_bounded_like_the_others(tmp_path):
    path = explain(write_unit_workbook(tmp_path / "x.xlsx", TOWN, "2019Q3"), [("村级指标", A_CELL, "x")])
    book = load_workbook(path)
    book[EXPLANATION_SHEET].cell(row=MAX_ROWS + 1, column=3, value="far away")
    book.save(path)
    sub = read_submission(path, "x")
    assert [(p.sheet, p.check) for p in sub.problems] == [(EXPLANATION_SHEET, "too_large")]


def test_rows_that_name_no_figure_are_warnings(tmp_path):
    path = explain(write_unit_workbook(tmp_path / "x.xlsx", TOWN, "2019Q3"), [
        (None, "D2", "两张表都有 D2"), ("村级指标", "E2", None), (None, None, "没写单元格"),
        ("县级指标", "D2", "不是本单位的表"), ("村级指标", "$e$3", "小写也认"),
    ])
    book = load_workbook(path)  # a sheet name merged over two rows reads on both
    ws = book[EXPLANATION_SHEET]
    ws["A7"], ws["B7"], ws["B8"], ws["C7"], ws["C8"] = "镇级指标", "D3", "D4", "甲", "乙"
    ws.merge_cells("A7:A8")
    book.save(path)
    (outcome,), _ = validate_batch([read_submission(path, "x")])
    assert outcome.ok
    assert [p.message for p in outcome.problems] == [
        "情况说明!A2: 没有写明是哪张工作表的 D2，这条说明未记录。请在 A 列填工作表（如 村级指标），或在 B 列写成 村级指标!E12",
        "情况说明!C3: 只写了单元格 村级指标!E2，没有写明情况，这条说明未记录",
        "情况说明!B4: 没有写明单元格，这条说明未记录。请在 B 列填提醒中的单元格（如 E12）",
        "情况说明!B5: “县级指标!D2”不是本单位报表中填报数值的单元格，这条说明未记录。请照提醒写明工作表和单元格（如 村级指标!E12）",
    ]
    # T02, T03: the 2nd and 3rd rows of 镇级指标 (its indicators in the catalog's order)
    town_codes = [i.code for i in cat.indicators_for(TOWN, cat.TOWN_SHEET, "2019Q1")]
    assert outcome.explanations == [
        ("村级指标", "E3", "V03", "小写也认", "C6"),
        ("镇级指标", "D3", town_codes[1], "甲", "C7"), ("镇级指标", "D4", town_codes[2], "乙", "C8")]


def test_the_template_has_the_sheet_and_round_trips(tmp_path):
    path = write_template(TOWN, "2019Q3", tmp_path / "t.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [cat.COVER_SHEET, cat.VILLAGE_SHEET, cat.TOWN_SHEET, EXPLANATION_SHEET,
                               INSTRUCTIONS_SHEET]
    ws = book[EXPLANATION_SHEET]
    assert [c.value for c in ws[1]] == ["工作表", "单元格", "情况说明"]
    assert ws.protection.sheet and ws["A1"].protection.locked and not ws["C2"].protection.locked
    (dv,) = ws.data_validations.dataValidation
    assert dv.formula1 == f'"{cat.VILLAGE_SHEET},{cat.TOWN_SHEET}"'
    instructions = [r[0] for r in book[INSTRUCTIONS_SHEET].iter_rows(values_only=True) if r[0]]
    assert any("“情况说明”表" in line and "B 列填单元格" in line for line in instructions)

    assert read_submission(path, "t").explanations == []  # as issued: nothing to read, no warning
    for r, v in enumerate(VILLAGES, start=2):
        for c, ind in enumerate(cat.indicators_for(TOWN, cat.VILLAGE_SHEET, "2019Q1"), start=3):
            book[cat.VILLAGE_SHEET].cell(row=r, column=c, value=true_value(v.code, "2019Q3", ind.code))
    town = book[cat.TOWN_SHEET]
    for r in range(2, town.max_row + 1):
        town.cell(row=r, column=4, value=true_value(TOWN.code, "2019Q3", town.cell(row=r, column=1).value))
    ws["A2"], ws["B2"], ws["C2"] = "村级指标", A_CELL, EXPLAIN_A
    book.save(path)
    (outcome,), _ = validate_batch([read_submission(path, "t")])
    assert outcome.ok and outcome.problems == []
    assert outcome.explanations == [("村级指标", A_CELL, "V03", EXPLAIN_A, "C2")]


def test_a_decision_on_no_warning_is_one_sentence(quarter):
    _, warehouse, _ = quarter
    out = subprocess.run([sys.executable, "-m", "huizong.cli", "review", "--warehouse", str(warehouse),
                          "--unit", TOWN.code, "--period", "2019Q3", "--cell", "村级指标!C2", "--accept",
                          "--by", "王芳"], capture_output=True, text=True, timeout=300)
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.returncode == 1 and lines == [
        f"no warning at 村级指标!C2 in the version in force of {TOWN.code} 2019Q3: "
        f"`huizong review --unit {TOWN.code} --period 2019Q3 --state all` lists them"]


def test_review_lists_nothing_from_an_empty_warehouse_politely(tmp_path, capsys):
    assert review(tmp_path / "nowhere") == 1
    assert "no warehouse yet" in capsys.readouterr().err
    assert review(tmp_path / "nowhere", "--unit", TOWN.code, "--period", "2019Q3", "--cell", "E2",
                  "--accept", "--by", "王芳") == 1
    assert "no warehouse yet" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "nowhere")  # nothing created
