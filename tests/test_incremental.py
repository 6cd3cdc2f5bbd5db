"""Marts built by year (`incremental_by: year` in their YAML): a pass makes them again only for
the years whose inputs changed, and they hold exactly what building them whole gives."""
from __future__ import annotations

import shutil

import duckdb
import pytest
from conftest import query, run_pass

from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat
from huizong.store import models

TOWN = cat.towns()[0]
VILLAGE = cat.villages_of(TOWN.code)[0]


def by_year() -> list[models.Model]:
    declarations = models.read_declarations()
    return [m for m in models.discover_models() if declarations[m.relation].incremental_by]


def differences(warehouse, m: models.Model) -> int:
    """Rows of the mart not in its SQL run afresh, and the other way round, with multiplicity."""
    body = m.sql.strip().rstrip(";")
    return query(warehouse, f"select count(*) from ((select * from {m.relation} except all select * from ({body})) "
                            f"union all (select * from ({body}) except all select * from {m.relation}))")[0][0]


def mark_a_row_of_each_year(warehouse) -> None:
    """One village's V03 row of 2018Q3 and of 2019Q3 given a cell no build would write: a
    year built again loses its mark, a year left as it was keeps it."""
    con = duckdb.connect(str(warehouse / "huizong.duckdb"))
    con.execute("update marts.unit_quarter_values set cell = 'MARK' where unit_code = ? and indicator_code = 'V03' "
                "and period in ('2018Q3', '2019Q3')", [VILLAGE.code])
    con.close()


def marked_and_open(warehouse) -> duckdb.DuckDBPyConnection:
    """The warehouse with a marked row in each year (`mark_a_row_of_each_year`), opened to write."""
    mark_a_row_of_each_year(warehouse)
    return duckdb.connect(str(warehouse / "huizong.duckdb"))


def marked_periods(warehouse) -> list[str]:
    return [p for (p,) in query(warehouse, "select period from marts.unit_quarter_values where cell = 'MARK' "
                                           "order by period")]


@pytest.fixture
def copy_of_county(county, tmp_path):
    inbox, warehouse, _ = county
    shutil.copytree(inbox, tmp_path / "inbox")
    shutil.copytree(warehouse, tmp_path / "warehouse")
    return tmp_path / "inbox", tmp_path / "warehouse"


def test_the_marts_built_by_year_are_the_big_ones():
    assert {m.relation for m in by_year()} == {
        "marts.unit_quarter_values", "marts.village_year_values", "marts.figure_lineage"}


def test_a_correction_builds_again_only_its_year(copy_of_county):
    inbox, warehouse = copy_of_county
    assert [y for (y,) in query(warehouse, "select year from ops.year_inputs order by year")] == [2018, 2019]
    mark_a_row_of_each_year(warehouse)
    assert marked_periods(warehouse) == ["2018Q3", "2019Q3"]
    write_unit_workbook(inbox / "correction.xlsx", TOWN, "2019Q3", {(VILLAGE.code, "V03"): 97})
    summary = run_pass(inbox, warehouse)
    assert [f["status"] for f in summary.files] == ["loaded"]
    assert marked_periods(warehouse) == ["2018Q3"]  # 2019 built again, 2018 left as it was
    assert query(warehouse, "select value, file_name from marts.unit_quarter_values where unit_code = ? "
                            "and indicator_code = 'V03' and period = '2019Q3'", [VILLAGE.code]) == [
        (97, "correction.xlsx")]


def test_the_marts_built_by_year_agree_with_a_whole_build_after_passes(copy_of_county):
    inbox, warehouse = copy_of_county
    # a correction of 2019Q3, a quarter of a year not seen before, and a file that is rejected
    write_unit_workbook(inbox / "correction.xlsx", TOWN, "2019Q3", {(VILLAGE.code, "V03"): 97})
    run_pass(inbox, warehouse)  # 2019 built again, 2018 kept
    for m in by_year():
        assert differences(warehouse, m) == 0, m.relation
    write_unit_workbook(inbox / "next_year.xlsx", TOWN, "2020Q1")
    write_unit_workbook(inbox / "bad.xlsx", TOWN, "2019Q2", {(VILLAGE.code, "V03"): "many"})
    statuses = sorted(f["status"] for f in run_pass(inbox, warehouse).files)
    assert statuses == ["loaded", "rejected"]
    assert [y for (y,) in query(warehouse, "select year from ops.year_inputs order by year")] == [2018, 2019, 2020]
    for m in by_year():
        assert differences(warehouse, m) == 0, m.relation
    assert query(warehouse, "select count(*) from marts.village_year_values where year = 2020 and town_code = ?",
                 [TOWN.code])[0][0] > 0


def test_other_models_build_them_whole(copy_of_county):
    """Built under other models (another models_version), every year is made again."""
    inbox, warehouse = copy_of_county
    mark_a_row_of_each_year(warehouse)
    con = duckdb.connect(str(warehouse / "huizong.duckdb"))
    con.execute("update ops.builds set models_version = 'an older one'")
    con.close()
    write_unit_workbook(inbox / "correction.xlsx", TOWN, "2019Q3", {(VILLAGE.code, "V03"): 97})
    run_pass(inbox, warehouse)
    assert marked_periods(warehouse) == []


def test_a_year_without_a_version_in_force_or_gone_is_emptied(copy_of_county):
    _, warehouse = copy_of_county
    con = marked_and_open(warehouse)
    con.execute("update ops.imports set status = 'rejected' where period like '2019%'")
    models.create_models(con)
    for m in by_year():
        assert con.execute(f"select distinct year from {m.relation}").fetchall() == [(2018,)], m.relation
    assert con.execute("select year from ops.year_inputs order by year").fetchall() == [(2018,), (2019,)]
    assert con.execute("select count(*) from marts.unit_quarter_values where cell = 'MARK'").fetchall() == [(1,)]
    con.execute("update ops.imports set status = 'loaded' where period like '2019%' and superseded_by is null")
    models.create_models(con)
    assert con.execute("select count(*) from marts.unit_quarter_values where year = 2019").fetchall()[0][0] > 0
    con.execute("delete from ops.imports where period like '2018%'")  # a year gone from the ledger
    models.create_models(con)
    for m in by_year():
        assert con.execute(f"select distinct year from {m.relation}").fetchall() == [(2019,)], m.relation
    assert con.execute("select year from ops.year_inputs").fetchall() == [(2019,)]
    con.close()


def test_a_change_to_most_years_builds_them_whole(copy_of_county):
    """Deleting and inserting most of a table is slower than making it anew."""
    _, warehouse = copy_of_county
    con = marked_and_open(warehouse)
    con.execute("update ops.imports set first_reason = 'read again' where period in ('2018Q1', '2019Q1')")
    models.create_models(con)
    assert con.execute("select count(*) from marts.unit_quarter_values where cell = 'MARK'").fetchall() == [(0,)]
    con.close()
