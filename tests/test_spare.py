"""An upload is loaded seconds sooner: the page keeps a pass's process ready (`huizong.cli.spare`,
its imports and reading workers started), used only in the environment it was started in; and a
pass does not wait for a file the page placed whole to settle (`core.files.placed_whole`). Real
processes: the spare and the pass it runs, on the session's Prefect server."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import time

import pytest
from conftest import query

from huizong.core.files import placed_whole, scan_inbox, still_settling, upload_name
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat
from huizong.web import passes

TOWN = cat.towns()[0]
WAIT = 300  # a bound against a hang, not a speed


def place_upload(tmp_path, inbox, period: str) -> str:
    """A workbook placed as the page places one: whole, under the page's name for its bytes."""
    data = write_unit_workbook(tmp_path / f"upload_{period}.xlsx", TOWN, period).read_bytes()
    name = upload_name(TOWN.code, period, hashlib.sha256(data).hexdigest(), ".xlsx", dt.datetime.now())
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_bytes(data)
    return name


@pytest.fixture
def spares():
    yield passes
    passes.let_spares_go()


def spare_of(warehouse):
    return passes._spares[warehouse.resolve()][0]


def test_the_pass_an_upload_starts_runs_in_the_spare(tmp_path, prefect_harness, spares):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    passes.keep_spares(warehouse)
    spare = spare_of(warehouse)
    name = place_upload(tmp_path, inbox, "2019Q1")
    assert passes.start_a_pass(inbox, warehouse)
    assert passes._running[warehouse.resolve()] is spare
    assert spare.wait(timeout=WAIT) == 0, (warehouse / "logs" / "web_passes.log").read_text(errors="replace")
    assert query(warehouse, "select file_name, status from ops.imports") == [(name, "loaded")]
    deadline = time.monotonic() + WAIT  # the next spare is started once the pass has ended
    while warehouse.resolve() not in passes._spares and time.monotonic() < deadline:
        time.sleep(0.1)
    assert spare_of(warehouse) is not spare and spare_of(warehouse).poll() is None


def test_a_spare_started_in_another_environment_is_not_used(tmp_path, prefect_harness, spares, monkeypatch):
    """What the spare imported read the environment it started in: a pass asked for in another
    (the clock set since, say) runs in a process of its own, and the spare exits unused."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    passes.keep_spares(warehouse)
    spare = spare_of(warehouse)
    monkeypatch.setenv("HUIZONG_TODAY", "2020-01-20")
    place_upload(tmp_path, inbox, "2019Q4")
    assert passes.start_a_pass(inbox, warehouse)
    ran = passes._running[warehouse.resolve()]
    assert ran is not spare
    assert spare.wait(timeout=WAIT) == 0
    assert ran.wait(timeout=WAIT) == 0
    log = (warehouse / "logs" / "web_passes.log").read_text(errors="replace")
    assert log.count("huizong run: inbox") == 1, log  # the spare ran nothing
    assert query(warehouse, "select status from ops.imports") == [("loaded",)]


def test_a_spare_let_go_exits_with_its_reading_workers(tmp_path, spares):
    import psutil

    warehouse = tmp_path / "warehouse"
    passes.keep_spares(warehouse)
    spare = spare_of(warehouse)
    proc = psutil.Process(spare.pid)
    deadline = time.monotonic() + WAIT  # its imports, then its workers
    while len(proc.children()) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = proc.children()
    assert workers
    passes.let_spares_go()
    assert spare.wait(timeout=WAIT) == 0
    gone, alive = psutil.wait_procs(workers, timeout=WAIT)
    assert alive == []


# --- the settling wait -----------------------------------------------------------------------------

def test_a_name_says_placed_whole_only_for_the_bytes_it_was_made_for():
    sha = hashlib.sha256(b"the workbook").hexdigest()
    name = upload_name(TOWN.code, "2019Q1", sha, ".xlsx", dt.datetime(2020, 1, 5, 9, 30))
    assert name == f"{TOWN.code}_2019Q1_网页上传_20200105093000_{sha[:8]}.xlsx"
    assert placed_whole(name, sha) and placed_whole(f"sub/{name}", sha)
    assert not placed_whole(name, hashlib.sha256(b"half the workbook").hexdigest())
    assert not placed_whole(f"{TOWN.code}_2019Q1_{sha[:8]}.xlsx", sha)  # not the page's name


@pytest.mark.parametrize("arrivals, waits", [
    (["upload"], False),
    (["upload", "copied by hand"], True),
    (["being copied under the page's name"], True),
    (["copied by hand an hour ago"], False),
])
def test_a_pass_waits_for_fresh_files_to_settle_unless_the_page_placed_them(tmp_path, arrivals, waits):
    inbox = tmp_path / "inbox"
    for what in arrivals:
        if what == "upload":
            place_upload(tmp_path, inbox, "2019Q1")
        elif what.startswith("copied by hand"):
            path = write_unit_workbook(inbox / "城关镇_2019Q2.xlsx", TOWN, "2019Q2")
            if what.endswith("an hour ago"):
                os.utime(path, (time.time() - 3600,) * 2)
        else:  # the first bytes of a workbook whose name was made for all of them
            name = place_upload(tmp_path, inbox, "2019Q3")
            data = (inbox / name).read_bytes()
            (inbox / name).write_bytes(data[: len(data) // 2])
    assert still_settling(scan_inbox(inbox), 60, time.time()) is waits
