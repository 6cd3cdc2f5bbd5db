"""Issue 28, item 1: a copy only ever points at a version the ledger holds. A workbook and its
byte-identical twins arrive together; the original goes, changes or is swapped for a link
between discovery and reading (the pass is paused there: HUIZONG_FAILPOINT=pause:after_discover):
a twin is read as itself. A warehouse left with a copy of nothing is repaired by the next pass.
Real workbooks, real passes in Prefect's test harness, real DuckDB."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time

import duckdb
import pytest
from conftest import query, run_pass

from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.schemas import catalog as cat

TOWN, OTHER = cat.towns()[2], cat.towns()[4]
VILLAGE = cat.villages_of(TOWN.code)[0]
ORPHANS = ("select inbox_path from ops.arrivals where status = 'copy' "
           "and sha256 not in (select sha256 from ops.imports)")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def arrive(inbox, twins: list[str]) -> str:
    """TOWN's 2019Q1 as `original.xlsx` and byte-identical `twins`, the original the oldest (the
    version, by discovery's rule); returns its sha256."""
    write_unit_workbook(inbox / "original.xlsx", TOWN, "2019Q1")
    now = time.time()
    for i, name in enumerate(twins, 1):
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(inbox / "original.xlsx", inbox / name)
        os.utime(inbox / name, (now - 60 + i, now - 60 + i))
    os.utime(inbox / "original.xlsx", (now - 60, now - 60))
    return sha256(inbox / "original.xlsx")


def paused_after_discover(monkeypatch, tmp_path, inbox, warehouse, change) -> dict:
    """A pass paused between discovery and reading while `change(inbox)` is done to the inbox."""
    monkeypatch.setenv("HUIZONG_FAILPOINT", "pause:after_discover")
    monkeypatch.setenv("HUIZONG_PAUSE_DIR", str(tmp_path))
    flag = tmp_path / "after_discover"

    def meanwhile() -> None:
        while not flag.exists():
            time.sleep(0.05)
        try:
            change(inbox)
        finally:
            flag.unlink()

    helper = threading.Thread(target=meanwhile, daemon=True)
    helper.start()
    summary = run_pass(inbox, warehouse)
    helper.join()
    monkeypatch.delenv("HUIZONG_FAILPOINT")
    return summary


def went(inbox):
    (inbox / "original.xlsx").unlink()


def changed(inbox):
    # another figure than the original's: a rewrite with the same figures within the same second
    # (openpyxl stamps the time in seconds) would be the same bytes, not a change
    other = true_value(VILLAGE.code, "2019Q1", "V03") + 1
    write_unit_workbook(inbox / "original.xlsx", TOWN, "2019Q1", {(VILLAGE.code, "V03"): other})


def swapped_for_a_link(inbox):
    (inbox / "original.xlsx").unlink()
    (inbox / "original.xlsx").symlink_to(inbox / "sub" / "copy.xlsx")


def it_and_a_twin_went(inbox):
    (inbox / "original.xlsx").unlink()
    (inbox / "sub" / "copy.xlsx").unlink()


@pytest.mark.parametrize("change, read_as", [
    (went, "sub/copy.xlsx"), (changed, "sub/copy.xlsx"), (swapped_for_a_link, "sub/copy.xlsx"),
    (it_and_a_twin_went, "sub/later.xlsx")], ids=lambda x: getattr(x, "__name__", x))
def test_a_twin_is_read_when_the_original_goes(prefect_harness, tmp_path, monkeypatch, change, read_as):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    sha = arrive(inbox, ["sub/copy.xlsx", "sub/later.xlsx"])
    paused_after_discover(monkeypatch, tmp_path, inbox, warehouse, change)

    assert query(warehouse, "select file_name, status from ops.imports where sha256 = ?", [sha]) == [
        (read_as, "loaded")]
    assert query(warehouse, "select inbox_path, status from ops.arrivals where sha256 = ? order by 1", [sha]) == \
        sorted([(read_as, "received")] + ([("sub/later.xlsx", "copy")] if read_as != "sub/later.xlsx" else []))
    assert query(warehouse, ORPHANS) == []
    value = query(warehouse, "select value from marts.unit_quarter_values where unit_code = ? and "
                             "period = '2019Q1' and indicator_code = 'V03'", [VILLAGE.code])[0][0]
    assert float(value) == true_value(VILLAGE.code, "2019Q1", "V03")


def test_what_was_read_ahead_is_the_version(prefect_harness, tmp_path, monkeypatch):
    """The read-ahead kept the original before it went: the original's reading is the version."""
    from huizong.flows.ahead import read_ahead

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    sha = arrive(inbox, ["sub/copy.xlsx"])
    assert read_ahead(inbox, warehouse) == 2
    paused_after_discover(monkeypatch, tmp_path, inbox, warehouse, went)
    assert query(warehouse, "select status from ops.imports where sha256 = ?", [sha]) == [("loaded",)]
    assert query(warehouse, ORPHANS) == []


def test_a_copy_of_an_original_that_killed_its_worker_points_at_its_rejection(
        prefect_harness, tmp_path, monkeypatch):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "abort.xlsx", TOWN, "2019Q1")
    shutil.copyfile(inbox / "abort.xlsx", inbox / "copy.xlsx")
    os.utime(inbox / "abort.xlsx", (time.time() - 60, time.time() - 60))
    monkeypatch.setenv("HUIZONG_FAILPOINT", "reader")
    run_pass(inbox, warehouse)
    assert query(warehouse, "select file_name, status from ops.imports") == [("abort.xlsx", "rejected")]
    assert query(warehouse, ORPHANS) == []


def test_a_later_pass_reads_a_copy_of_nothing(prefect_harness, tmp_path):
    """A warehouse as the passes before this fix left it: `sub/copy.xlsx` recorded as a copy of
    a version that ops.imports does not hold. The next pass reads it."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "other.xlsx", OTHER, "2019Q1")
    run_pass(inbox, warehouse)
    write_unit_workbook(inbox / "sub" / "copy.xlsx", TOWN, "2019Q1")
    copy = inbox / "sub" / "copy.xlsx"
    con = duckdb.connect(str(warehouse / "huizong.duckdb"))
    try:
        con.execute("insert into ops.arrivals values ('sub/copy.xlsx', ?, 'copy', ?, to_timestamp(?), now(), "
                    "'与已收到的“original.xlsx”内容完全相同，不再重复读取')",
                    [sha256(copy), copy.stat().st_size, copy.stat().st_mtime_ns / 1e9])
    finally:
        con.close()

    run_pass(inbox, warehouse)
    assert query(warehouse, "select file_name, status from ops.imports where sha256 = ?", [sha256(copy)]) == [
        ("sub/copy.xlsx", "loaded")]
    assert query(warehouse, "select inbox_path, status from ops.arrivals where sha256 = ?", [sha256(copy)]) == [
        ("sub/copy.xlsx", "received")]
    assert query(warehouse, ORPHANS) == []
