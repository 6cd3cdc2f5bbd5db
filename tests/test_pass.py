"""A whole consolidation pass on real workbooks into a real DuckDB file, under Prefect's harness.

Expected figures are added up here by hand from the generator's `true_value`, by FORM.md's rules,
never read back from the code under test.
"""
from __future__ import annotations

import hashlib
import os

import pytest
from conftest import LATE_TOWN, expected_total, query, reporters_of, run_pass

from huizong.flows.result import PassResult
from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.schemas import catalog as cat

NUMERIC = [i.code for i in cat.indicators() if i.kind != "level"]


def test_every_file_loads(county):
    _, warehouse, summary = county
    assert len(summary.files) == 13 * 8 - 1
    assert {f["status"] for f in summary.files} == {"loaded"}
    assert query(warehouse, "select count(*) from ops.imports where status = 'loaded'") == [(103,)]


@pytest.mark.parametrize("year", [2018, 2019])
def test_county_totals_follow_the_year_rules(county, year):
    _, warehouse, _ = county
    got = dict(query(warehouse, "select indicator_code, value from marts.county_totals where year = ?", [year]))
    assert sorted(got) == sorted(NUMERIC)
    for code in NUMERIC:
        assert float(got[code]) == pytest.approx(expected_total(year, code, reporters_of(code))), code


def test_town_totals_follow_the_year_rules(county):
    _, warehouse, _ = county
    got = {(u, c): v for u, c, v in query(
        warehouse, "select unit_code, indicator_code, value from marts.town_totals where year = 2019")}
    town_codes = [i.code for i in cat.indicators() if i.reported_by == "town" and i.kind != "level"]
    assert len(got) == 10 * len(town_codes)
    for town in cat.towns():
        for code in town_codes:
            assert float(got[(town.code, code)]) == pytest.approx(expected_total(2019, code, [town]))


def test_completeness_behind_the_totals(county):
    _, warehouse, _ = county
    rows = dict(((c, (v, e)) for c, v, e in query(
        warehouse, "select indicator_code, quarters_valid, quarters_expected from marts.county_totals "
                   "where year = 2019 and indicator_code in ('V03', 'C01')")))
    assert rows == {"V03": (39, 40), "C01": (4, 4)}


def test_levels_are_counted_from_each_units_latest_quarter(county):
    _, warehouse, _ = county
    got = dict(query(warehouse, "select level, units from marts.level_counts "
                                "where year = 2019 and indicator_code = 'V07'"))
    expected: dict[str, int] = {}
    for town in cat.towns():
        latest = "2019Q3" if town == LATE_TOWN else "2019Q4"
        for v in cat.villages_of(town.code):
            level = true_value(v.code, latest, "V07")
            expected[level] = expected.get(level, 0) + 1
    assert got == expected


def test_a_second_pass_changes_nothing(county):
    inbox, warehouse, _ = county
    db = warehouse / "huizong.duckdb"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    summary = run_pass(inbox, warehouse)
    assert summary == PassResult(skipped=103)  # nothing else: no file, report, reminder, copy or refusal
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_received_files_are_kept_by_hash(county):
    inbox, warehouse, _ = county
    for path, archived in query(warehouse, "select file_name, archive_path from ops.imports"):
        kept = warehouse / archived
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == hashlib.sha256(
            (inbox / path).read_bytes()).hexdigest()


def test_versions_newest_valid_wins_and_invalid_never_replaces(tmp_path, prefect_harness):
    town = cat.towns()[0]
    village = cat.villages_of(town.code)[0]
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    def submit(name, value, when, **kwargs):
        path = write_unit_workbook(inbox / name, town, "2019Q1", {(village.code, "V03"): value}, **kwargs)
        os.utime(path, (when, when))
    v03 = "select value from marts.town_totals where unit_code = ? and year = 2019 and indicator_code = 'V03'"
    others = sum(true_value(v.code, "2019Q1", "V03") for v in cat.villages_of(town.code)[1:])

    submit("first.xlsx", 5, 1_000)
    run_pass(inbox, warehouse)
    assert float(query(warehouse, v03, [town.code])[0][0]) == others + 5

    submit("second.xlsx", 9, 2_000)       # a valid resubmission replaces
    submit("broken.xlsx", "-1", 3_000)    # an invalid one, newer still, never does
    summary = run_pass(inbox, warehouse)
    assert {f["file_name"]: f["status"] for f in summary.files} == {
        "second.xlsx": "loaded", "broken.xlsx": "rejected"}
    assert float(query(warehouse, v03, [town.code])[0][0]) == others + 9

    submit("again.xlsx", 9, 4_000, cover_extra={"填报人": "李四"})  # same figures, other bytes
    run_pass(inbox, warehouse)
    assert dict(query(warehouse, "select file_name, status from ops.imports")) == {
        "first.xlsx": "superseded", "second.xlsx": "loaded", "broken.xlsx": "rejected",
        "again.xlsx": "duplicate"}
    assert query(warehouse, "select cell, indicator_code, message from ops.import_errors") == [
        ("E2", "V03", "村级指标!E2 道德讲堂（场次）: “-1”不能为负数")]


def test_warnings_never_block_a_load(tmp_path, prefect_harness):
    town = cat.towns()[5]
    village = cat.villages_of(town.code)[0]
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    for period, v03, flag in (("2019Q1", 4, 1), ("2019Q2", 4, 1), ("2019Q3", 21, 0)):
        write_unit_workbook(inbox / f"{period}.xlsx", town, period,
                            {(village.code, "V03"): v03, (village.code, "V02"): flag})
    summary = run_pass(inbox, warehouse)
    assert [f["status"] for f in summary.files] == ["loaded"] * 3
    got = query(warehouse, "select i.period, e.cell, e.indicator_code, e.check_name, e.severity "
                "from ops.import_errors e join ops.imports i using (sha256) "
                "where e.cell in ('D2', 'E2') order by e.cell")
    # V02 is column D, V03 column E; 21 > 5 x median(4, 4); the flag fell from 1 to 0
    assert got == [("2019Q3", "D2", "V02", "flag_dropped", "warning"),
                   ("2019Q3", "E2", "V03", "flow_spike", "warning")]


def test_a_rejected_file_changes_nothing_loaded_and_others_load(tmp_path, prefect_harness):
    town, other = cat.towns()[6], cat.towns()[7]
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "a.xlsx", town, "2019Q1")
    run_pass(inbox, warehouse)
    before = query(warehouse, "select * from marts.town_totals where unit_code = ? order by all", [town.code])
    village = cat.villages_of(town.code)[0]
    write_unit_workbook(inbox / "a_fixed.xlsx", town, "2019Q1", {(village.code, "V03"): "#REF!"})
    write_unit_workbook(inbox / "b.xlsx", other, "2019Q1")
    summary = run_pass(inbox, warehouse)
    assert {f["file_name"]: f["status"] for f in summary.files} == {"a_fixed.xlsx": "rejected", "b.xlsx": "loaded"}
    assert query(warehouse, "select * from marts.town_totals where unit_code = ? order by all", [town.code]) == before
    feedback = query(warehouse, "select feedback_path from ops.imports where file_name = 'a_fixed.xlsx'")[0][0]
    assert (warehouse / f"{feedback}.xlsx").exists() and (warehouse / f"{feedback}.txt").exists()


def test_timeliness_against_the_deadline_in_shanghai(tmp_path, prefect_harness):
    import datetime as dt
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    shanghai = dt.timezone(dt.timedelta(hours=8))
    arrivals = {  # 2019Q1 is due 2019-04-10, by the end of that day in Asia/Shanghai
        (cat.towns()[0], "ok.xlsx"): dt.datetime(2019, 4, 10, 23, 59, tzinfo=shanghai),
        (cat.towns()[1], "late.xlsx"): dt.datetime(2019, 4, 11, 0, 1, tzinfo=shanghai),
    }
    for (town, name), when in arrivals.items():
        path = write_unit_workbook(inbox / name, town, "2019Q1")
        os.utime(path, (when.timestamp(), when.timestamp()))
    bad = write_unit_workbook(inbox / "bad.xlsx", cat.towns()[2], "2019Q1", {(cat.villages_of(cat.towns()[2].code)[0].code, "V03"): "x"})
    os.utime(bad, (0, 0))
    run_pass(inbox, warehouse)
    got = dict(query(warehouse, "select unit_code, status from marts.submission_status where period = '2019Q1'"))
    assert got[cat.towns()[0].code] == "on_time"
    assert got[cat.towns()[1].code] == "late"
    assert got[cat.towns()[2].code] == "rejected"
    assert got[cat.towns()[3].code] == "missing"
    assert len(got) == 13


def test_each_pass_leaves_a_table_and_a_summary_artifact(tmp_path, prefect_harness):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    write_unit_workbook(tmp_path / "inbox" / "a.xlsx", cat.towns()[0], "2019Q1")
    run_pass(tmp_path / "inbox", tmp_path / "warehouse")

    async def latest(key):
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=50)
            return max(found, key=lambda a: a.created)

    table = asyncio.run(latest("huizong-imports"))
    assert table.type == "table" and "a.xlsx" in str(table.data)
    summary = asyncio.run(latest("huizong-summary"))
    assert summary.type == "markdown" and "| loaded | 1 |" in summary.data


def test_a_file_still_being_copied_waits_for_the_next_pass(tmp_path, prefect_harness):
    import threading
    import time

    from huizong.flows.nightly import nightly

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    done = write_unit_workbook(inbox / "done.xlsx", cat.towns()[0], "2019Q1")
    os.utime(done, (time.time() - 60, time.time() - 60))
    source = write_unit_workbook(tmp_path / "source.xlsx", cat.towns()[1], "2019Q1").read_bytes()
    stop = threading.Event()

    def copy_slowly():  # a copy over a slow share: a few bytes at a time
        with (inbox / "copying.xlsx").open("wb") as out:
            for i in range(0, len(source), 256):
                if stop.is_set():
                    return
                out.write(source[i:i + 256])
                out.flush()
                time.sleep(0.05)

    copier = threading.Thread(target=copy_slowly)
    copier.start()
    try:
        time.sleep(0.2)
        summary = nightly(inbox=inbox, warehouse=warehouse, settle_seconds=1.0)
    finally:
        stop.set()
        copier.join()
    assert summary.arriving == ["copying.xlsx"]
    assert [f["file_name"] for f in summary.files] == ["done.xlsx"]
    assert query(warehouse, "select count(*) from ops.imports where file_name = 'copying.xlsx'") == [(0,)]


def test_every_mart_and_column_is_documented(county):
    _, warehouse, _ = county
    undocumented = query(warehouse, "select table_name, column_name from duckdb_columns() "
                                    "where schema_name = 'marts' and coalesce(comment, '') = ''")
    assert undocumented == []
    assert query(warehouse, "select comment from duckdb_tables() where table_name = 'county_totals'") == [
        ("全县各指标年度汇总数 / The county's yearly figure for every numeric indicator",)]


def test_a_changed_catalog_or_model_rebuilds_the_marts_with_no_new_file(tmp_path, prefect_harness):
    import duckdb

    from huizong.store.versions import models_version

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "q1.xlsx", LATE_TOWN, "2019Q1")
    run_pass(inbox, warehouse)
    # As a warehouse built by an older huizong: a mart it did not have, another models version.
    con = duckdb.connect(str(warehouse / "huizong.duckdb"))
    con.execute("drop table marts.summary_figures; update ops.builds set models_version = 'older'")
    con.close()
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert summary.files == [] and summary.rebuilt is True
    assert query(warehouse, "select count(*) > 0 from marts.summary_figures") == [(True,)]
    assert query(warehouse, "select models_version from ops.builds order by built_at desc limit 1") == [
        (models_version(),)]
    assert summary.reports
    assert run_pass(inbox, warehouse).rebuilt is False  # built under the current version now
