"""`huizong export`: the consolidated table read back with openpyxl equals the marts exactly,
holds no formula, and is written whole (no temporary file left)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import query
from openpyxl import load_workbook

from huizong.cli import main
from huizong.outputs.demo import true_value
from huizong.schemas import catalog as cat


def _n(v):
    return None if v is None else Decimal(str(v))


def _no_formulas(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


@pytest.mark.parametrize("period", [None, "2019Q4"])
def test_export_equals_the_marts(county, tmp_path, period):
    _, warehouse, _ = county
    out = tmp_path / "汇总表.xlsx"
    argv = ["export", "--warehouse", str(warehouse), "--year", "2019", "--out", str(out)]
    assert main(argv + (["--period", period] if period else [])) == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    wb = load_workbook(out)
    _no_formulas(wb)
    assert wb.sheetnames == ["全县汇总", "各镇", "各村", "县直部门", "报送完整度"]
    ws = wb["全县汇总"]
    got = {r[0]: (_n(r[3]), r[6] or "") for r in ws.iter_rows(min_row=4, values_only=True)}
    if period is None:
        marts = query(warehouse, "select indicator_code, value, quarters_valid, quarters_expected "
                                 "from marts.county_totals where year = 2019")
    else:
        marts = query(warehouse, "select indicator_code, value, units_valid, units_expected "
                                 "from marts.county_quarter_totals where period = ?", [period])
    assert got == {c: (v, f"{a}/{b}" if a == b else f"※ {a}/{b}") for c, v, a, b in marts}
    assert ws.page_setup.orientation == "landscape" and ws.freeze_panes
    towns = wb["各镇"]
    header = [h for h in next(towns.iter_rows(min_row=3, max_row=3, values_only=True))]
    v03 = header.index(next(h for h in header if h and h.startswith("V03")))
    by_town = {r[0]: _n(r[v03]) for r in towns.iter_rows(min_row=4, values_only=True)}
    if period is None:
        rows = query(warehouse, "select unit_code, value from marts.town_totals "
                                "where year = 2019 and indicator_code = 'V03'")
        assert by_town == {c: v for c, v in rows}
    else:  # the generator's own figures, not the marts
        for town in cat.towns():
            expected = sum(true_value(v.code, period, "V03") for v in cat.villages_of(town.code))
            if by_town.get(town.code) is not None:  # a town without a valid file shows no figure
                assert by_town[town.code] == Decimal(str(expected))


def test_formula_like_text_is_written_as_text(county, tmp_path, monkeypatch):
    _, warehouse, _ = county
    import duckdb

    from huizong.outputs.export import write_export

    db = tmp_path / "w.duckdb"
    src = duckdb.connect(str(warehouse / "huizong.duckdb"), read_only=True)
    src.close()
    import shutil

    shutil.copy(warehouse / "huizong.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute("update raw.units set unit_name = '=HYPERLINK(\"x\")' where unit_code = ?", [cat.towns()[0].code])
    con.execute("create or replace view staging.stg_units as select unit_code, unit_name, unit_type, "
                "nullif(parent_code, '') as parent_code, nullif(village_type, '') as village_type from raw.units")
    out = write_export(con, 2019, tmp_path / "t.xlsx")
    wb = load_workbook(out)
    _no_formulas(wb)
    assert any(c.value == '=HYPERLINK("x")' for row in wb["各镇"].iter_rows() for c in row)


def test_a_year_without_figures_is_one_sentence(county, tmp_path, capsys):
    _, warehouse, _ = county
    out = tmp_path / "x.xlsx"
    assert main(["export", "--warehouse", str(warehouse), "--year", "2090", "--out", str(out)]) == 1
    assert not out.exists()
    assert main(["explain", "--warehouse", str(warehouse), "--year", "2090", "--indicator", "V03"]) == 1
    assert main(["explain", "--warehouse", str(warehouse), "--year", "2019", "--indicator", "V03"]) == 0
    assert "V03" in capsys.readouterr().out


def test_files_written_whole_are_readable_as_the_umask_says(tmp_path):
    """Written through a private temporary file, the result still gets the usual mode (the
    office's other accounts read the reports), and a replaced file keeps its own."""
    import os
    import stat

    from huizong.core.files import written_whole

    old = os.umask(0o022)
    try:
        with written_whole(tmp_path / "new.xlsx") as tmp:
            tmp.write_bytes(b"x")
        kept = tmp_path / "kept.md"
        kept.write_text("old")
        kept.chmod(0o640)
        with written_whole(kept) as tmp:
            tmp.write_text("new")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.xlsx").stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.md", "new.xlsx"]  # no temporary left
