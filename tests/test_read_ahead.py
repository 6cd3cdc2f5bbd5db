"""Reading ahead: `huizong run` has its reading workers read the inbox while Prefect starts. The
pass takes a reading only for the very content it keeps; a file rejected, changed, or fatal to
its worker ahead of time is read by the pass as if it had never been read ahead."""
from __future__ import annotations

import hashlib
import os
import time
import zipfile
from pathlib import Path

import pytest
from test_cli import huizong

from huizong.bulkheads import isolation
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat
from huizong.store import warehouse as wh

TOWNS = cat.towns()


def settled(path: Path) -> Path:
    """A file that landed an hour ago: read ahead (a file modified a moment ago may still be
    being copied in, and is left to the pass)."""
    os.utime(path, (time.time() - 3600,) * 2)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kept(path: Path, warehouse: Path) -> dict:
    """What the pass hands the pool for a file: its kept copy, its content's hash, its name."""
    digest = sha256(path)
    return {"read_path": warehouse / wh.archive_file(path, warehouse, digest), "sha256": digest,
            "file_name": path.name}


def value_of(values, sha: str, unit_code: str, indicator: str) -> float:
    rows = values[(values["sha256"] == sha) & (values["unit_code"] == unit_code)
                  & (values["indicator_code"] == indicator)]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


def test_a_reading_is_taken_only_for_the_content_the_pass_keeps(tmp_path: Path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    village = cat.villages_of(TOWNS[0].code)[0]
    other = cat.villages_of(TOWNS[1].code)[0]
    a = settled(write_unit_workbook(inbox / "a.xlsx", TOWNS[0], "2019Q1", {(village.code, "V03"): 7}))
    b = settled(write_unit_workbook(inbox / "b.xlsx", TOWNS[1], "2019Q1", {(other.code, "V03"): 5}))
    bad = settled(write_unit_workbook(inbox / "bad.xlsx", TOWNS[2], "2019Q1",
                                      {(cat.villages_of(TOWNS[2].code)[0].code, "V03"): "十二"}))
    pool = isolation.ReaderPool(1)
    try:
        pool.read_ahead([{"path": p, "file_name": p.name} for p in (a, b, bad)], warehouse)
        pool.read([])  # asks for nothing: waits for what is being read ahead
        # the copy the pass keeps of `a` was written ahead, byte for byte
        assert (warehouse / wh.archive_path(sha256(a), ".xlsx")).read_bytes() == a.read_bytes()
        # `b` is corrected after it was read ahead: the pass keeps and reads the new content
        write_unit_workbook(b, TOWNS[1], "2019Q1", {(other.code, "V03"): 8})
        jobs = [kept(p, warehouse) for p in (a, b, bad)]
        jobs[0]["read_path"].unlink()  # `a` is not read again: its reading ahead is taken
        outcomes, values = pool.read(jobs, warehouse)
    finally:
        pool.close()
    by_name = {o.file_name: o for o in outcomes}
    assert by_name["a.xlsx"].ok and by_name["b.xlsx"].ok
    assert value_of(values, jobs[0]["sha256"], village.code, "V03") == 7
    assert value_of(values, jobs[1]["sha256"], other.code, "V03") == 8
    assert set(values["sha256"]) == {jobs[0]["sha256"], jobs[1]["sha256"]}
    # a rejected file is read by the pass, which writes the town's feedback from its kept copy
    assert not by_name["bad.xlsx"].ok
    assert by_name["bad.xlsx"].feedback_path and (warehouse / f"{by_name['bad.xlsx'].feedback_path}.xlsx").exists()


def test_a_file_fatal_to_its_worker_ahead_is_rejected_by_the_pass(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HUIZONG_FAILPOINT", "reader")  # a file named abort or hang: the fault
    monkeypatch.setenv("HUIZONG_FILE_SECONDS", "3")
    monkeypatch.setattr(isolation, "READ_AHEAD_FILE_SECONDS", 1)
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    files = [settled(write_unit_workbook(inbox / f"{name}.xlsx", town, "2019Q1"))
             for name, town in (("good", TOWNS[0]), ("abort", TOWNS[1]), ("hang", TOWNS[2]), ("last", TOWNS[3]))]
    pool = isolation.ReaderPool(1)
    try:
        pool.read_ahead([{"path": p, "file_name": p.name} for p in files], warehouse)
        pool.read([])
        outcomes, values = pool.read([kept(p, warehouse) for p in files], warehouse)
    finally:
        pool.close()
    by_name = {o.file_name: o for o in outcomes}
    assert by_name["good.xlsx"].ok and by_name["last.xlsx"].ok
    assert set(values["unit_code"]) >= {TOWNS[0].code, TOWNS[3].code}
    assert "SIGABRT" in by_name["abort.xlsx"].problems[0].message
    assert "超过 3 秒仍未读完" in by_name["hang.xlsx"].problems[0].message


@pytest.fixture(scope="module")
def run_with_read_ahead(tmp_path_factory):
    """`huizong run` as the office runs it, on files that landed an hour ago."""
    root = tmp_path_factory.mktemp("ahead")
    village = cat.villages_of(TOWNS[0].code)[0]
    files = [settled(write_unit_workbook(root / "inbox" / "城关镇_2019Q1.xlsx", TOWNS[0], "2019Q1",
                                         {(village.code, "V03"): 41})),
             settled(write_unit_workbook(root / "inbox" / "sub" / "b.xlsx", TOWNS[1], "2019Q1")),
             settled(write_unit_workbook(root / "inbox" / "bad.xlsx", TOWNS[2], "2019Q1",
                                         {(cat.villages_of(TOWNS[2].code)[0].code, "V03"): "-1"}))]
    first = huizong("run", "--inbox", "inbox", "--warehouse", "warehouse", cwd=root, HUIZONG_TODAY="2019-05-01")
    second = huizong("run", "--inbox", "inbox", "--warehouse", "warehouse", cwd=root, HUIZONG_TODAY="2019-05-01")
    return root, files, village, first, second


def test_a_run_read_ahead_loads_what_the_files_say(run_with_read_ahead):
    from conftest import query

    root, files, village, first, _ = run_with_read_ahead
    assert first.returncode == 2, first.stdout + first.stderr
    warehouse = root / "warehouse"
    assert query(warehouse, "select value from raw.submitted_values where unit_code = ? and indicator_code = 'V03'",
                 [village.code]) == [(41.0,)]
    statuses = dict(query(warehouse, "select file_name, status from ops.imports"))
    assert statuses == {"城关镇_2019Q1.xlsx": "loaded", "sub/b.xlsx": "loaded", "bad.xlsx": "rejected"}
    (feedback,), = query(warehouse, "select feedback_path from ops.imports where status = 'rejected'")
    assert (warehouse / f"{feedback}.xlsx").exists()
    for path, sha, archived in query(warehouse, "select i.file_name, i.sha256, i.archive_path from ops.imports i"):
        assert sha256(root / "inbox" / path) == sha == sha256(warehouse / archived)


def test_a_run_read_ahead_writes_the_summary_and_the_next_finds_nothing_new(run_with_read_ahead):
    root, _, _, _, second = run_with_read_ahead
    docx = root / "warehouse" / "reports" / "summary_2019_1-3月.docx"
    with zipfile.ZipFile(docx) as book:  # written by a reading worker: a whole Word file
        assert "2019" in book.read("word/document.xml").decode("utf-8")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "skipped (already received) │ 3" in second.stdout
