"""Reruns import again exactly what is named, and give the same result however often."""
from __future__ import annotations

import duckdb
from conftest import query, run_pass

from huizong.flows.rerun import rerun
from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.schemas import catalog as cat

TOWN, OTHER = cat.towns()[2], cat.towns()[3]
VILLAGE = cat.villages_of(TOWN.code)[0]



LEDGER = "select file_name, unit_code, period, status, superseded_by is not null from ops.imports order by file_name"
TOTALS = "select * from marts.town_totals order by all"


def do_rerun(warehouse, inbox, **kwargs) -> dict:
    return rerun(warehouse=warehouse, inbox=inbox, settle_seconds=0, write_summary=False, **kwargs)


def test_rerun_of_a_unit_picks_up_its_corrected_file(tmp_path, prefect_harness):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "a_q1.xlsx", TOWN, "2019Q1", {(VILLAGE.code, "V03"): "约5"})
    write_unit_workbook(inbox / "b_q1.xlsx", OTHER, "2019Q1")
    run_pass(inbox, warehouse)
    assert query(warehouse, "select status from ops.imports where file_name = 'a_q1.xlsx'") == [("rejected",)]

    write_unit_workbook(inbox / "a_q1_fixed.xlsx", TOWN, "2019Q1", {(VILLAGE.code, "V03"): 5})
    write_unit_workbook(inbox / "b_q2.xlsx", OTHER, "2019Q2")  # not named: left for the nightly pass
    summary = do_rerun(warehouse, inbox, unit=TOWN.code)
    assert {f["file_name"]: f["status"] for f in summary.files} == {
        "a_q1.xlsx": "rejected", "a_q1_fixed.xlsx": "loaded"}
    assert query(warehouse, "select count(*) from ops.imports where file_name = 'b_q2.xlsx'") == [(0,)]
    expected = 5 + sum(true_value(v.code, "2019Q1", "V03") for v in cat.villages_of(TOWN.code)[1:])
    got = query(warehouse, "select value from marts.town_totals where unit_code = ? and indicator_code = 'V03'",
                [TOWN.code])
    assert float(got[0][0]) == expected


def test_reruns_are_idempotent(tmp_path, prefect_harness):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "q1.xlsx", TOWN, "2019Q1", {(VILLAGE.code, "V03"): 3})
    write_unit_workbook(inbox / "q1_again.xlsx", TOWN, "2019Q1", {(VILLAGE.code, "V03"): 4},
                        cover_extra={"填报人": "张三"})
    write_unit_workbook(inbox / "q2_bad.xlsx", TOWN, "2019Q2", {(VILLAGE.code, "V03"): -1})
    write_unit_workbook(inbox / "other.xlsx", OTHER, "2019Q1")
    run_pass(inbox, warehouse)
    ledger, totals = query(warehouse, LEDGER), query(warehouse, TOTALS)
    errors = query(warehouse, "select * from ops.import_errors order by all")
    for kwargs in ({"failed": True}, {"unit": TOWN.code}, {"period": "2019Q1", "force": True},
                   {"paths": [inbox / "q1.xlsx"], "force": True}, {"unit": TOWN.code, "force": True},
                   {"failed": True}):
        summary = do_rerun(warehouse, inbox, **kwargs)
        assert summary.files, kwargs
        assert query(warehouse, LEDGER) == ledger, kwargs
        assert query(warehouse, TOTALS) == totals, kwargs
        assert query(warehouse, "select * from ops.import_errors order by all") == errors, kwargs


def test_rerun_touches_only_what_is_named(tmp_path, prefect_harness):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "t.xlsx", TOWN, "2019Q1")
    write_unit_workbook(inbox / "o.xlsx", OTHER, "2019Q1")
    run_pass(inbox, warehouse)
    imported_at = dict(query(warehouse, "select file_name, imported_at from ops.imports"))
    summary = do_rerun(warehouse, inbox, unit=OTHER.code, force=True)
    assert [f["file_name"] for f in summary.files] == ["o.xlsx"]
    after = dict(query(warehouse, "select file_name, imported_at from ops.imports"))
    assert after["t.xlsx"] == imported_at["t.xlsx"] and after["o.xlsx"] > imported_at["o.xlsx"]


def test_rerun_reads_again_only_what_the_current_rules_have_not_checked(tmp_path, prefect_harness):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "good.xlsx", TOWN, "2019Q1")
    write_unit_workbook(inbox / "bad.xlsx", TOWN, "2019Q2", {(VILLAGE.code, "V03"): -1})
    run_pass(inbox, warehouse)
    published = warehouse / "huizong.duckdb"

    summary = do_rerun(warehouse, inbox, unit=TOWN.code)  # the rejected one is read again
    assert [f["file_name"] for f in summary.files] == ["bad.xlsx"] and summary.unchanged == 1

    before = published.read_bytes()
    summary = do_rerun(warehouse, inbox, period="2019Q1")  # only a valid version: nothing to do
    assert summary.files == [] and summary.unchanged == 1
    assert published.read_bytes() == before, "nothing read, so nothing published"

    # A warehouse whose versions were checked by an older huizong or catalog: all are due again.
    con = duckdb.connect(str(published))
    con.execute("update ops.imports set rules_version = 'older'")
    con.close()
    summary = do_rerun(warehouse, inbox, period="2019Q1")
    assert [f["file_name"] for f in summary.files] == ["good.xlsx"]
    assert query(warehouse, "select count(distinct rules_version) from ops.imports "
                            "where file_name = 'good.xlsx' and rules_version <> 'older'") == [(1,)]


def test_a_duplicate_version_is_valid_and_not_read_again(tmp_path, prefect_harness):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "q1.xlsx", TOWN, "2019Q1")
    run_pass(inbox, warehouse)
    # the same figures again, in a file of other bytes (another clerk's name on the cover)
    write_unit_workbook(inbox / "q1_again.xlsx", TOWN, "2019Q1", cover_extra={"填报人": "李四"})
    run_pass(inbox, warehouse)
    assert query(warehouse, "select file_name, status from ops.imports order by file_name") == [
        ("q1.xlsx", "loaded"), ("q1_again.xlsx", "duplicate")]
    summary = do_rerun(warehouse, inbox, unit=TOWN.code)
    assert summary.files == [] and summary.unchanged == 2
