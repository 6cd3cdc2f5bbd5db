"""Reading real workbooks written to disk: cells keep their Excel reference; shape errors."""
from pathlib import Path

import pytest

from huizong.intake.workbook import read_submission
from huizong.intake.writer import write_workbook
from huizong.schemas import catalog as cat

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
    n_village = len([i for i in cat.indicators_for(TOWN, "村级指标", "2019Q1")])
    n_town = len(cat.indicators_for(TOWN, "镇级指标", "2019Q1"))
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


def _rezip(src: Path, out: Path, member: str, edit, stored: bool = False) -> Path:
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(
            out, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, edit(data) if info.filename == member else data)
    return out


def test_huge_sheets_are_refused_from_their_bytes_before_calamine_runs(tmp_path: Path, monkeypatch):
    import resource

    import huizong.intake.workbook as wb

    class NoCalamine:  # calamine would abort the process on these sheets: it must not be called
        class CalamineWorkbook:
            @staticmethod
            def from_filelike(*_):
                raise AssertionError("calamine was called")
    monkeypatch.setattr(wb, "python_calamine", NoCalamine)
    src = write_workbook(tmp_path / "src.xlsx", TOWN, "2019Q1", {})
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    implicit = b"<row/>" * 1_048_576 + b"<row>" + b"<c/>" * 16_383 + b"<c><v>1</v></c></row></sheetData>"
    quoted = b"<row r='9'><x:c r='xfd9'><v>1</v></x:c></row></sheetData>"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i, tail in enumerate((far, implicit, quoted)):
        path = _rezip(src, tmp_path / f"{i}.xlsx", "xl/worksheets/sheet2.xml",
                      lambda x: x.replace(b"</sheetData>", tail), stored=tail is implicit)
        sub = read_submission(path, "h")
        assert [(p.sheet, p.check) for p in sub.problems] == [("村级指标", "too_large")], sub.problems
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024


def test_sheet_extent_follows_rows_and_cells_without_references():
    from huizong.intake.package import sheet_extent
    assert sheet_extent(b'<dimension ref="A1:C3"/><sheetData><row r="1"><c r="B1"/></row></sheetData>') == (3, 3)
    assert sheet_extent(b"<sheetData><row/><row r='7'><c/><c/></row><row><c r='e2'/><c/></row></sheetData>") == (8, 6)
    for bad in (b'<c r=""/>', b'<c r="5"/>', b'<c r="A0"/>', b'<row r="x"><c/></row>', b'<c r="&#88;FD1"/>'):
        with pytest.raises(ValueError):
            sheet_extent(bad)


def test_formula_saved_with_an_empty_text_result_is_a_value(tmp_path: Path):
    import re
    src = write_workbook(tmp_path / "src.xlsx", TOWN, "2019Q1", {})
    for v in (b"<v></v>", b"<v/>"):
        def edit(x: bytes) -> bytes:
            return re.sub(rb'<c r="E2"[^>]*?(?:/>|>.*?</c>)',
                          b'<c r="E2" t="str"><f>IF(C2&gt;0,"","")</f>' + v + b"</c>", x, count=1)
        path = _rezip(src, tmp_path / "f.xlsx", "xl/worksheets/sheet2.xml", edit)
        path = _rezip(path, tmp_path / "g.xlsx", "xl/workbook.xml",
                      lambda x: x.replace(b' fullCalcOnLoad="1"', b""))  # saved by Excel
        sub = read_submission(path, "h")
        assert sub.problems == []
        assert [raw for sheet, cell, *_, raw in sub.values if (sheet, cell) == ("村级指标", "E2")] == [""]
