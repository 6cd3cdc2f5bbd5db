"""Reminders (issue 16, part 3): `huizong remind` on a real pass over real workbooks, on
2019-04-20. For 2019Q1 (FORM.md: due by the end of 2019-04-10, Asia/Shanghai) two towns are on
time (one at 23:30 on the 10th), two are late (one by half an hour past midnight: one day late by
the office's calendar, the same day in UTC), one sent two files that were both rejected, and five
towns and the three departments sent nothing. The days are counted here by hand from the form's
deadline; the workbook is read back with openpyxl."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from conftest import clock_at, run_pass
from openpyxl import load_workbook
from test_cli import huizong, one_sentence

from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TODAY = "2019-04-20"
OFFICE = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai
TOWNS = cat.towns()
ON_TIME, LATE, REJECTED, JUST_IN, JUST_LATE = TOWNS[:5]
MISSING = TOWNS[5:] + cat.departments()
# FORM.md: 2019Q1 is due on 2019-04-10. Today is 2019-04-20: ten days overdue.
DAYS_OVERDUE = 10
LATE_DAYS = {LATE.code: 3, JUST_LATE.code: 1}  # received 2019-04-13 09:00 and 2019-04-11 00:30
HEADER = ["单位代码", "单位名称", "状态", "截止日期", "逾期天数", "最近文件", "收到日期", "原因", "反馈文件",
          "提醒内容"]


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(2019, month, day, hour, minute, tzinfo=OFFICE).timestamp()


@pytest.fixture(scope="module")
def april(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("remind")
    inbox, warehouse = root / "inbox", root / "warehouse"
    village = cat.villages_of(REJECTED.code)[0]

    def send(name: str, unit: cat.Unit, when: float, overrides=None, period: str = "2019Q1") -> Path:
        path = write_unit_workbook(inbox / name, unit, period, overrides)
        os.utime(path, (when,) * 2)
        return path

    send("on_time.xlsx", ON_TIME, at(4, 8, 10))
    send("late.xlsx", LATE, at(4, 13, 9))
    first_bad = send("bad_1.xlsx", REJECTED, at(4, 5, 9), {(village.code, "V10"): "约100"})
    bad = send("bad_2.xlsx", REJECTED, at(4, 9, 16), {(village.code, "V03"): "十二"})
    send("just_in.xlsx", JUST_IN, at(4, 10, 23, 30))
    send("just_late.xlsx", JUST_LATE, at(4, 11, 0, 30))
    send("early_q2.xlsx", ON_TIME, at(4, 18, 9), period="2019Q2")  # handed in before its deadline
    with clock_at(TODAY):
        run_pass(inbox, warehouse)
    return root, warehouse, {"bad": bad, "first_bad": first_bad}


def remind(root: Path, warehouse: Path, *args: str):
    return huizong("remind", *args, "--warehouse", str(warehouse), cwd=root, HUIZONG_TODAY=TODAY,
                   COLUMNS="200")


def read_back(path: Path) -> dict[str, dict[str, object]]:
    ws = load_workbook(path)["催报名单"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    return {row[0]: dict(zip(HEADER, row)) for row in rows[1:]}


def test_the_quarter_after_its_deadline(april):
    root, warehouse, files = april
    out = remind(root, warehouse, "--period", "2019Q1")
    assert out.returncode == 0, out.stderr
    assert "13 units: 2 on time, 2 late, 1 rejected, 8 missing" in out.stdout
    rows = read_back(warehouse / "reminders" / "2019Q1_催报.xlsx")
    expected = {u.code: "未报" for u in MISSING} | {REJECTED.code: "退回", LATE.code: "迟报", JUST_LATE.code: "迟报"}
    assert {code: row["状态"] for code, row in rows.items()} == expected
    assert {code: row["逾期天数"] for code, row in rows.items()} == \
        {code: LATE_DAYS.get(code, DAYS_OVERDUE) for code in expected}
    assert all(row["截止日期"] == "2019年4月10日" for row in rows.values())
    assert all(row["单位名称"] == cat.unit_by_code()[code].name for code, row in rows.items())
    # missing first, then rejected, then late, by code within each
    assert list(rows) == [u.code for u in MISSING] + [REJECTED.code, LATE.code, JUST_LATE.code]


def test_a_missing_units_message(april):
    root, warehouse, _ = april
    remind(root, warehouse, "--period", "2019Q1")
    unit = MISSING[0]
    text = read_back(warehouse / "reminders" / "2019Q1_催报.xlsx")[unit.code]["提醒内容"]
    assert text.startswith(f"{unit.name}：")
    for words in ("2019年第一季度", "应于2019年4月10日前报送", "截至2019年4月20日尚未收到", "已逾期10天",
                  "请于2019年4月25日前", "特此提醒", "云岭县文明办"):  # reply-by: five days from today
        assert words in text, words


def test_a_rejected_units_message_names_the_latest_file_its_reason_and_feedback(april):
    root, warehouse, files = april
    remind(root, warehouse, "--period", "2019Q1")
    row = read_back(warehouse / "reminders" / "2019Q1_催报.xlsx")[REJECTED.code]
    sha = hashlib.sha256(files["bad"].read_bytes()).hexdigest()
    feedback = f"{sha[:8]}_bad_2_反馈.xlsx"  # huizong/intake/feedback.py names it by sha256 and file name
    assert row["最近文件"] == "bad_2.xlsx" and row["收到日期"] == "2019年4月9日"
    assert "“十二”请用阿拉伯数字填写" in row["原因"]
    assert Path(row["反馈文件"]).name == feedback and Path(row["反馈文件"]).is_file()
    text = row["提醒内容"]
    for words in ("先后报送2份，均未通过审核", "最近一份（文件“bad_2.xlsx”，2019年4月9日收到）", "“十二”请用阿拉伯数字填写", f"反馈文件“{feedback}”",
                  "已逾期10天", "更正后，于2019年4月25日前通过原报送渠道重新报送"):
        assert words in text, words
    assert "约100" not in text  # the earlier file's reason is not the one to fix now


def test_a_late_units_message(april):
    root, warehouse, _ = april
    remind(root, warehouse, "--period", "2019Q1")
    row = read_back(warehouse / "reminders" / "2019Q1_催报.xlsx")[JUST_LATE.code]
    assert row["最近文件"] == "just_late.xlsx" and row["收到日期"] == "2019年4月11日"
    assert "迟报1天" in row["提醒内容"] and "已于2019年4月11日收到并通过审核" in row["提醒内容"]


def test_the_terminal_shows_the_table_and_every_message(april):
    root, warehouse, _ = april
    out = remind(root, warehouse, "--period", "2019Q1", "--reply-by", "2019-04-30")
    assert out.returncode == 0, out.stderr
    assert "due by 2019-04-10" in out.stdout and "today 2019-04-20" in out.stdout
    assert out.stdout.count("特此提醒") == 11
    assert out.stdout.count("于2019年4月30日前") == 9  # the missing and the rejected are asked for a file
    assert f"── {REJECTED.name} {REJECTED.code} (rejected)" in out.stdout


def test_a_quarter_before_the_ledger_lists_every_unit_missing(april):
    """2018Q4 (due 2019-01-10), before any file of the ledger: 21 + 28 + 31 + 20 = 100 days on 2019-04-20."""
    root, warehouse, _ = april
    out_file = root / "q4.xlsx"
    out = remind(root, warehouse, "--period", "2018Q4", "--out", str(out_file))
    assert out.returncode == 0, out.stderr
    rows = read_back(out_file)
    assert set(rows) == {u.code for u in cat.submitters()}
    assert {(r["状态"], r["逾期天数"], r["截止日期"]) for r in rows.values()} == {("未报", 100, "2019年1月10日")}


def test_a_quarter_not_yet_due(april):
    """2019Q2 is due on 2019-07-10: nothing is due on 2019-04-20, one town is in early."""
    root, warehouse, _ = april
    out = remind(root, warehouse, "--period", "2019Q2")
    assert out.returncode == 0, out.stderr
    assert "nothing is due yet: 1 of 13 units have sent a valid file, 12 not due until the deadline" in out.stdout
    assert "特此提醒" not in out.stdout
    assert read_back(warehouse / "reminders" / "2019Q2_催报.xlsx") == {}
    about = load_workbook(warehouse / "reminders" / "2019Q2_催报.xlsx")["说明"]
    assert "无需催报" in "".join(str(c.value) for c in about["A"])


@pytest.mark.parametrize("args, word", [
    (("--period", "2019Q5"), "2019Q5"),
    (("--period", "2019Q1", "--out", "reminders.csv"), "reminders.csv"),
    (("--period", "2019Q1", "--reply-by", "next week"), "next week"),
])
def test_mistakes_are_one_sentence(april, args, word):
    root, warehouse, _ = april
    one_sentence(remind(root, warehouse, *args), word)


def test_a_reply_date_already_past_is_one_sentence(tmp_path, monkeypatch, capsys):
    from huizong import cli

    monkeypatch.setenv("HUIZONG_TODAY", "2020-01-11")
    assert cli.main(["remind", "--period", "2019Q4", "--reply-by", "2019-12-01",
                     "--warehouse", str(tmp_path / "warehouse")]) == 1
    err = capsys.readouterr().err
    assert "2019-12-01" in err and "Traceback" not in err


def test_a_unit_on_time_with_a_returned_figure_is_asked_for_a_corrected_file():
    """Pure: the standing as remind.sql gives it; the words checked by hand."""
    from huizong.office.remind import Reminders, Standing, message, rows

    def standing(code, status, returned=0):
        return Standing(code, f"单位{code}", "town", status, None, "a.xlsx", dt.datetime(2019, 10, 8, 2, tzinfo=dt.timezone.utc),
                        None, None, None, None, None, 0, returned, "村级指标!E12" if returned else None,
                        "请核实场次" if returned else None)

    r = Reminders("2019Q3", dt.date(2019, 10, 20), dt.date(2019, 10, 10), dt.date(2019, 10, 25),
                  (standing("1", "on_time"), standing("2", "on_time", returned=2)), 0)
    assert [s.unit_code for s in r.reminded] == ["2"]  # on time and nothing returned: nothing owed
    text = message(r.reminded[0], r)
    assert ("贵单位2019年第三季度报表已收到并通过审核。经审核，报表中有2处数字需核实更正（如村级指标!E12：请核实场次），"
            "详见退回说明。更正前仍按原数计入汇总。请核实更正后，于2019年10月25日前重新报送。") in text
    (row,) = rows(r, Path("/w"))
    assert (row[2], row[4], row[5], row[7]) == ("按时", None, "a.xlsx", "2处数字退回待更正")
