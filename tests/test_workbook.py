"""Reading real workbooks written to disk: cells keep their Excel reference; shape errors."""
from pathlib import Path

from huizong.workbook import read_submission
from huizong.writer import write_workbook
from schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]  # 城关镇
VILLAGES = cat.villages_of(TOWN.code)
EDU = cat.unit_by_code()["990101902"]  # 县教育局


def test_town_workbook_rows_keep_their_cells(tmp_path: Path):
    path = write_workbook(tmp_path / "x.xlsx", TOWN, "2019年第三季度",
                          {(VILLAGES[0].code, "V03"): 7, (TOWN.code, "T01"): "１２"})
    sub = read_submission(path, "abc")
    assert (sub.unit_code, sub.period, sub.problems) == ("990101100", "2019Q3", [])
    by_key = {(v[2], v[3]): v for v in sub.values}
    # V03 is the 3rd indicator column: A code, B name, C V01, D V02, E V03; first village on row 2.
    assert by_key[(VILLAGES[0].code, "V03")][:2] == ("村级指标", "E2")
    assert by_key[(VILLAGES[0].code, "V03")][4] == 7
    # T01 is the first indicator row of 镇级指标, value in column D.
    assert by_key[(TOWN.code, "T01")][:2] == ("镇级指标", "D2")
    n_village = len([i for i in cat.indicators_for(TOWN, "村级指标")])
    n_town = len(cat.indicators_for(TOWN, "镇级指标"))
    assert len(sub.values) == len(VILLAGES) * n_village + n_town


def test_headers_with_half_width_or_no_unit(tmp_path: Path):
    for style in ("half", "bare"):
        sub = read_submission(write_workbook(tmp_path / f"{style}.xlsx", TOWN, "2019Q1", {},
                                             header=style), "abc")
        assert sub.problems == []


def test_department_reads_only_its_indicators(tmp_path: Path):
    sub = read_submission(write_workbook(tmp_path / "e.xlsx", EDU, "2019Q2", {}), "abc")
    assert sorted(v[3] for v in sub.values) == [f"E0{i}" for i in range(1, 9)]
    assert {v[0] for v in sub.values} == {"县级指标"}


def test_cover_unknown_code_and_wrong_name(tmp_path: Path):
    sub = read_submission(write_workbook(tmp_path / "a.xlsx", TOWN, "2019Q1", {}, unit_code="123"), "a")
    assert [(p.sheet, p.cell, p.check) for p in sub.problems] == [("封面", "B2", "unknown_unit")]
    sub = read_submission(write_workbook(tmp_path / "b.xlsx", TOWN, "2019Q1", {}, unit_name="西关镇"), "b")
    assert [(p.cell, p.check) for p in sub.problems] == [("B1", "unit_name_mismatch")]
    assert "城关镇" in sub.problems[0].message


def test_not_a_workbook(tmp_path: Path):
    path = tmp_path / "fake.xlsx"
    path.write_text("填报单位,城关镇", encoding="utf-8")
    sub = read_submission(path, "x")
    assert [p.check for p in sub.problems] == ["not_a_workbook"]
