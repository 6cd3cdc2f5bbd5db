"""`huizong export`: the consolidated table read back with openpyxl holds the generator's figures
(computed here from the generator's values by the form's rules, not read from the marts) for every
unit and indicator, holds no formula, and is written whole (no temporary file left)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import MISSING, expected_total, reporters_of
from openpyxl import load_workbook

from huizong.cli import main
from huizong.outputs.demo import DEMO_PERIODS, true_value
from huizong.schemas import catalog as cat


def _n(v):
    return None if v is None else Decimal(str(v))


def _no_formulas(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


def expected(code: str, reporters: list, period: str | None) -> Decimal | None:
    """A figure of the export computed from the generator's values: the year by FORM.md's year
    rule (conftest.expected_total), a quarter as the sum of its holders' values; None where no
    reporter has a valid file."""
    if period is None:
        return _n(expected_total(2019, code, reporters))
    ind = cat.indicator_by_code()[code]
    present = [r for r in reporters if (r.code, period) not in MISSING]
    if not present:
        return None
    holders = [h for r in present for h in (cat.villages_of(r.code) if ind.sheet == cat.VILLAGE_SHEET else [r])]
    return _n(round(sum(true_value(h.code, period, code) for h in holders), 2))


SUMMED = [i for i in cat.indicators() if i.kind != "level"]  # a level's figures are counts by level


@pytest.mark.parametrize("period", [None, "2019Q4"])
def test_export_holds_the_generators_figures_for_every_unit(county, tmp_path, period):
    _, warehouse, _ = county
    out = tmp_path / "汇总表.xlsx"
    argv = ["export", "--warehouse", str(warehouse), "--year", "2019", "--out", str(out)]
    assert main(argv + (["--period", period] if period else [])) == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    wb = load_workbook(out)
    _no_formulas(wb)
    assert wb.sheetnames == ["全县汇总", "各镇", "各村", "县直部门", "报送完整度"]

    county_rows = {r[0]: r for r in wb["全县汇总"].iter_rows(min_row=4, values_only=True)}
    assert {c: _n(county_rows[c][3]) for c in county_rows if c in {i.code for i in SUMMED}} == {
        i.code: expected(i.code, reporters_of(i.code), period) for i in SUMMED}
    # completeness: every reporter-quarter of the fixture is in but LATE_TOWN's 2019Q4
    for i in SUMMED:
        reporters = reporters_of(i.code)
        quarters = [p for p in DEMO_PERIODS if p.startswith("2019") and (period is None or p == period)]
        due = len(reporters) * len(quarters)
        valid = due - sum((r.code, p) in MISSING for r in reporters for p in quarters)
        assert county_rows[i.code][6] == (f"{valid}/{due}" if valid == due else f"※ {valid}/{due}"), i.code

    towns = wb["各镇"]
    header = next(towns.iter_rows(min_row=3, max_row=3, values_only=True))
    column = {h.split(" ")[0]: n for n, h in enumerate(header) if h and h[:1] in "VT" and " " in h}
    by_town = {r[0]: r for r in towns.iter_rows(min_row=4, values_only=True)}
    assert set(by_town) == {t.code for t in cat.towns()}  # every town, with or without a figure
    for i in SUMMED:
        if i.reported_by != "town":
            continue
        got = {t.code: _n(by_town[t.code][column[i.code]]) for t in cat.towns()}
        assert got == {t.code: expected(i.code, [t], period) for t in cat.towns()}, i.code

    departments = {(r[0], r[1]): _n(r[4]) for r in wb["县直部门"].iter_rows(min_row=4, values_only=True)}
    for i in SUMMED:
        if i.reported_by == "town":
            continue
        unit = cat.unit_by_code()[i.reported_by]
        assert departments[(unit.name, i.code)] == expected(i.code, [unit], period), i.code


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
