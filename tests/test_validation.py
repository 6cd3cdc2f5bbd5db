"""Validation of real workbooks: every problem at once, each mapped to its sheet and cell."""
from pathlib import Path

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]  # 城关镇
V1, V2 = cat.villages_of(TOWN.code)[:2]
EDU = cat.unit_by_code()["990101902"]


def check(tmp_path: Path, unit, overrides=None, **kwargs):
    path = write_unit_workbook(tmp_path / "f.xlsx", unit, "2019Q2", overrides, **kwargs)
    (outcome,), values = validate_batch([read_submission(path, "f")])
    return outcome, values


def problems(outcome):
    return sorted((p.sheet, p.cell, p.indicator_code, p.check) for p in outcome.problems)


def test_clean_demo_workbook_is_valid(tmp_path: Path):
    outcome, values = check(tmp_path, TOWN, header="full")
    assert outcome.ok and outcome.problems == []
    n = len(cat.villages_of(TOWN.code)) * 15 + 19
    assert len(values) == n


def test_every_value_problem_of_a_file_at_once(tmp_path: Path):
    # columns of 村级指标: A code, B name, C V01 ... Q V15; rows: villages from row 2
    outcome, values = check(tmp_path, TOWN, {
        (V1.code, "V03"): "-2",          # E2 negative
        (V1.code, "V10"): "约100",        # L2 approximate
        (V2.code, "V02"): 2,             # D3 flag out of 0/1
        (V2.code, "V12"): 3.5,           # N3 decimals in a count
        (V2.code, "V07"): "国家级",        # I3 unknown level
        (V2.code, "V11"): 51,            # M3 above max 50
        (TOWN.code, "T02"): "十二",        # 镇级指标 D3 (T02 is the 2nd indicator row)
    }, header="full")
    assert not outcome.ok and values.empty
    assert problems(outcome) == sorted([
        ("村级指标", "E2", "V03", "not_negative"), ("村级指标", "L2", "V10", "readable"),
        ("村级指标", "D3", "V02", "range"), ("村级指标", "N3", "V12", "decimals"),
        ("村级指标", "I3", "V07", "level"), ("村级指标", "M3", "V11", "range"),
        ("镇级指标", "D3", "T02", "readable"),
    ])
    messages = {p.cell: p.message for p in outcome.problems if p.sheet == "村级指标"}
    assert messages["E2"] == "村级指标!E2 道德讲堂（场次）: “-2”不能为负数"
    assert "0–50" in messages["M3"]


def test_c03_takes_two_decimals_but_not_three(tmp_path: Path):
    dept = cat.unit_by_code()["990101901"]
    ok, _ = check(tmp_path, dept, {(dept.code, "C03"): 12.34})
    assert ok.ok
    bad, _ = check(tmp_path, dept, {(dept.code, "C03"): 12.345})
    assert problems(bad) == [("县级指标", "D4", "C03", "decimals")]


def test_cross_cell_checks(tmp_path: Path):
    outcome, _ = check(tmp_path, TOWN, {
        (V1.code, "V01"): 100, (V1.code, "V08"): 101, (V1.code, "V09"): 50,          # J2: more families than households
        (V2.code, "V13"): 0, (V2.code, "V14"): 3,              # P3: honour roll without a review
    }, header="full")
    assert problems(outcome) == [("村级指标", "J2", "V08", "cross:V08:le:V01"),
                                 ("村级指标", "P3", "V14", "cross:V14:needs:V13")]
    edu, _ = check(tmp_path, EDU, {(EDU.code, "E02"): 3, (EDU.code, "E03"): 0})
    assert problems(edu) == [("县级指标", "D3", "E02", "cross:E02:iff:E03")]


def test_villages_exactly_once_and_no_stranger(tmp_path: Path):
    stranger = cat.villages_of("990101101")[0]
    rows = [(v.code, v.name) for v in cat.villages_of(TOWN.code)[1:]]
    rows += [(rows[0][0], rows[0][1]), (stranger.code, stranger.name)]
    outcome, _ = check(tmp_path, TOWN, villages=rows)
    found = problems(outcome)
    last = len(rows) + 1
    assert ("村级指标", "", "", "village_missing") in found
    assert ("村级指标", f"A{last - 1}", "", "village_repeated") in found
    assert ("村级指标", f"A{last}", "", "village_stranger") in found
    assert any("西关镇" in p.message for p in outcome.problems)


def test_one_bad_file_does_not_reject_the_batch(tmp_path: Path):
    good = write_unit_workbook(tmp_path / "good.xlsx", TOWN, "2019Q1")
    bad = write_unit_workbook(tmp_path / "bad.xlsx", TOWN, "2019Q2", {(V1.code, "V03"): "x"})
    outcomes, values = validate_batch([read_submission(good, "g"), read_submission(bad, "b")])
    assert [o.ok for o in outcomes] == [True, False]
    assert set(values["sha256"]) == {"g"}
