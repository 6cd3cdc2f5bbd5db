"""The office's year, end to end (issue 16's "done when"): files arrive, a warning is explained in
the workbook and accepted, another is returned and corrected, the diff shows the corrected cell,
reminders list the missing unit, the year is signed off, a late file for it is held as `locked`,
the signed summary and figures are unchanged after the next pass, and an unlock lets it in.

Expected values come from the demo generator (`true_value`) and the dates by hand."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import statistics
from pathlib import Path

import pytest
from conftest import query, run_pass
from openpyxl import load_workbook

from huizong import cli
from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.schemas import catalog as cat

TOWN, LATE = cat.towns()[1], cat.towns()[2]  # LATE leaves out 2019Q4 until the year is signed
PERIODS = ("2019Q1", "2019Q2", "2019Q3", "2019Q4")
SPIKE = 60  # moral lectures (V03) in a quarter: far above any demo village's usual, so it warns
TODAY = "2020-01-20"  # 2019Q4 was due on 2020-01-10 (FORM.md): ten days overdue
ON_TIME = dt.datetime(2020, 1, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()


def steady_villages() -> list[tuple[int, cat.Unit]]:
    """(row index, village) of the town's villages whose V03 was above 0 in Q1 and Q2: a spike
    there is over five times their median, a warning."""
    return [(i, v) for i, v in enumerate(cat.villages_of(TOWN.code))
            if statistics.median(true_value(v.code, p, "V03") for p in ("2019Q1", "2019Q2")) > 0]


(A_ROW, A), (B_ROW, B) = steady_villages()[:2]
# the form: village rows from row 2 in the registry's order, V03 in column E
A_CELL, B_CELL = f"村级指标!E{A_ROW + 2}", f"村级指标!E{B_ROW + 2}"


def q3_file(path: Path, b_value: int) -> Path:
    """The town's 2019Q3 with A's lectures at SPIKE, explained in its 情况说明 sheet, and B's at
    `b_value` (unexplained)."""
    write_unit_workbook(path, TOWN, "2019Q3", {(A.code, "V03"): SPIKE, (B.code, "V03"): b_value})
    book = load_workbook(path)
    sheet = book.create_sheet("情况说明")
    for row in (("工作表", "单元格", "情况说明"), ("村级指标", A_CELL.split("!")[1], "全村开展道德讲堂进农家活动")):
        sheet.append(row)
    book.save(path)
    return path


def states(warehouse: Path) -> dict[str, str]:
    return dict(query(warehouse, "select sheet || '!' || cell, state from marts.warning_reviews "
                                 "where unit_code = ? and period = '2019Q3'", [TOWN.code]))


def county_2019(warehouse: Path) -> dict:
    return dict(query(warehouse, "select indicator_code, value from marts.county_totals where year = 2019"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def office(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.setenv("HUIZONG_TODAY", TODAY)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "inbox", tmp_path / "warehouse"


def huizong(warehouse: Path, *args: str) -> int:
    return cli.main([args[0], "--warehouse", str(warehouse), *args[1:]])


def test_a_year_goes_through_the_office_cycle(office, capsys):
    inbox, warehouse = office
    for period in PERIODS:
        if period != "2019Q3":
            write_unit_workbook(inbox / f"{TOWN.code}_{period}.xlsx", TOWN, period)
        if period != "2019Q4":
            write_unit_workbook(inbox / f"{LATE.code}_{period}.xlsx", LATE, period)
    q3_file(inbox / f"{TOWN.code}_2019Q3.xlsx", b_value=SPIKE)
    for path in inbox.iterdir():  # all sent in time: on 2020-01-05
        os.utime(path, (ON_TIME, ON_TIME))
    run_pass(inbox, warehouse, write_summary=True)

    # The pass left the list of whom to chase for the latest quarter due, 2019Q4: every unit
    # but TOWN (the others of the county sent nothing at all).
    nightly_list = list(load_workbook(warehouse / "reminders" / "2019Q4_催报.xlsx").active.iter_rows(values_only=True))
    assert {str(r[0]) for r in nightly_list[1:]} == {u.code for u in cat.submitters()} - {TOWN.code}

    # Both spikes warn; the workbook explains A's.
    assert states(warehouse) == {A_CELL: "explained", B_CELL: "open"}

    # The office accepts A's figure and returns B's with a note: the figure stays loaded.
    assert huizong(warehouse, "review", "--unit", TOWN.code, "--period", "2019Q3", "--cell", A_CELL,
                   "--accept", "--by", "王芳") == 0
    assert huizong(warehouse, "review", "--unit", TOWN.code, "--period", "2019Q3", "--cell", B_CELL,
                   "--return", "--by", "王芳", "--note", "请核实道德讲堂场次") == 0
    assert states(warehouse) == {A_CELL: "accepted", B_CELL: "returned"}
    b_value = "select value from marts.unit_quarter_values where unit_code = ? and period = '2019Q3' " \
              "and indicator_code = 'V03'"
    assert query(warehouse, b_value, [B.code]) == [(SPIKE,)]

    # The reminders of the quarter ask the town for the returned figure (its file came late, too).
    listed = warehouse / "q3.xlsx"
    assert huizong(warehouse, "remind", "--period", "2019Q3", "--out", str(listed)) == 0
    town_row = {str(r[0]): r for r in load_workbook(listed).active.iter_rows(values_only=True)}[TOWN.code]
    assert town_row[7].endswith("1处数字退回待更正")
    assert f"（如{B_CELL}：请核实道德讲堂场次）" in town_row[-1]

    # The town sends a corrected file: B's lectures as usual, A's as accepted.
    corrected = true_value(B.code, "2019Q3", "V03")
    q3_file(inbox / f"{TOWN.code}_2019Q3_更正.xlsx", b_value=corrected)
    run_pass(inbox, warehouse, write_summary=True)
    assert states(warehouse) == {A_CELL: "accepted"}  # B no longer warns; A's decision holds
    assert query(warehouse, "select cell, old_value, new_value from marts.corrections where unit_code = ? "
                            "and period = '2019Q3'", [TOWN.code]) == [(B_CELL.split("!")[1], SPIKE, corrected)]
    capsys.readouterr()
    assert huizong(warehouse, "diff", "--unit", TOWN.code, "--period", "2019Q3") == 0
    assert f"│ {SPIKE} 场次 │ {corrected:g} 场次 │" in capsys.readouterr().out  # old, new

    # Reminders: LATE's 2019Q4 is missing, ten days after its deadline; TOWN owes nothing.
    out = warehouse / "reminders.xlsx"
    assert huizong(warehouse, "remind", "--period", "2019Q4", "--out", str(out)) == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    by_code = {str(r[0]): r for r in rows[1:]}
    assert TOWN.code not in by_code
    assert by_code[LATE.code][4] == 10 and LATE.name in by_code[LATE.code][-1]

    # Sign-off: the three summary files are signed as they are and the year is locked.
    reports = sorted((warehouse / "reports").glob("summary_2019.*"))
    assert [p.suffix for p in reports] == [".docx", ".html", ".md"]
    signed = {p.name: sha(p) for p in reports}
    before = county_2019(warehouse)
    assert huizong(warehouse, "signoff", "--year", "2019", "--by", "李明", "--force") == 0
    assert dict(query(warehouse, "select file_name, sha256 from ops.signed_files")) == signed

    # The signed year's warnings are decided as signed, and a rerun holds its quarters.
    assert huizong(warehouse, "review", "--unit", TOWN.code, "--period", "2019Q3", "--cell", A_CELL,
                   "--return", "--by", "王芳", "--note", "再核实") == 1
    assert "signed off" in capsys.readouterr().err
    from huizong.flows.rerun import rerun

    held = rerun(warehouse=warehouse, inbox=inbox, period="2019Q3", force=True, settle_seconds=0,
                 write_summary=False)
    assert (held.files, held.held) == ([], 3)  # TOWN's two versions and LATE's one
    assert states(warehouse) == {A_CELL: "accepted"}

    # LATE's 2019Q4 arrives after the sign-off: held as locked, no figure and no summary changes.
    late = write_unit_workbook(inbox / f"{LATE.code}_2019Q4.xlsx", LATE, "2019Q4")
    capsys.readouterr()
    assert huizong(warehouse, "check", str(late)) == 0  # a dry run says so before the pass
    assert "would be held as locked" in capsys.readouterr().out
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert [(f["file_name"], f["status"]) for f in summary.files] == [(late.name, "locked")]
    assert county_2019(warehouse) == before
    assert {p.name: sha(p) for p in reports} == signed
    capsys.readouterr()
    assert huizong(warehouse, "remind", "--period", "2019Q4", "--out", str(out)) == 0
    held = {str(r[0]): r for r in list(load_workbook(out).active.iter_rows(values_only=True))[1:]}
    assert held[LATE.code][2] == "迟报"  # its held file was sent, late: no longer missing
    run_pass(inbox, warehouse, write_summary=True)  # and the pass after that changes nothing either
    assert county_2019(warehouse) == before and {p.name: sha(p) for p in reports} == signed

    # Unlocked with a reason, the next pass lets the held file in.
    assert huizong(warehouse, "unlock", "--year", "2019", "--by", "李明", "--reason", "补录迟报的四季度报表") == 0
    run_pass(inbox, warehouse, write_summary=True)
    assert query(warehouse, "select status from ops.imports where file_name = ?", [late.name]) == [("loaded",)]
    v03 = query(warehouse, "select value from marts.unit_quarter_values where unit_code = ? "
                           "and period = '2019Q4' and indicator_code = 'V03'", [cat.villages_of(LATE.code)[0].code])
    assert v03 == [(true_value(cat.villages_of(LATE.code)[0].code, "2019Q4", "V03"),)]
    (signed_row, unlocked_row) = query(warehouse, "select action, done_by, reason from ops.signoffs order by signoff_id")
    assert signed_row[:2] == ("signed", "李明") and signed_row[2].startswith("signed with --force")  # marks were left
    assert unlocked_row == ("unlocked", "李明", "补录迟报的四季度报表")


@pytest.mark.parametrize("today, period", [("2020-01-10", "2019Q3"), ("2020-01-11", "2019Q4"),
                                           ("2020-04-10", "2019Q4"), ("2020-04-11", "2020Q1")])
def test_the_nightly_reminders_are_of_the_latest_quarter_past_its_deadline(monkeypatch, today, period):
    from huizong.flows.reporting import latest_due_period

    monkeypatch.setenv("HUIZONG_TODAY", today)  # 2019Q4 is due by the end of 2020-01-10
    assert latest_due_period() == period
