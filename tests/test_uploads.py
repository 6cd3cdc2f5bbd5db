"""A file the web page placed while another's pass held the warehouse (the nightly, a command) is
loaded by a pass the page starts when that one ends, not left for the night. Real processes: one
holds the pass lock, the page's pass is a real `huizong run`."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import duckdb

from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat
from huizong.store.warehouse import published_path
from huizong.web import passes

HOLD = ("import sys, time; from pathlib import Path; from huizong.store.warehouse import pass_lock\n"
        "with pass_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(float(sys.argv[2]))")


def test_an_upload_during_anothers_pass_is_loaded_when_it_ends(tmp_path, monkeypatch):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    town = cat.towns()[0]
    placed = write_unit_workbook(inbox / f"{town.code}_2019Q1_网页上传.xlsx", town, "2019Q1")
    os.utime(placed, (time.time() - 3600,) * 2)
    monkeypatch.setattr(passes, "WAIT_SECONDS", 0.5)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), "3"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"

    assert passes.start_a_pass(inbox, warehouse) is False  # the other's pass holds it
    holder.wait(timeout=30)
    deadline = time.monotonic() + 240
    loaded = []
    while time.monotonic() < deadline and not loaded:
        time.sleep(1)
        if published_path(warehouse).exists():
            try:
                con = duckdb.connect(str(published_path(warehouse)), read_only=True)
            except duckdb.IOException:  # being published
                continue
            try:
                loaded = con.execute("select file_name from ops.imports where status = 'loaded'").fetchall()
            finally:
                con.close()
    assert loaded == [(placed.name,)], (warehouse / "logs" / "web_passes.log").read_text(errors="replace")[-2000:]
