"""A file the web page placed while another's pass held the warehouse (the nightly, a command) is
loaded by a pass the page starts when that one ends, not left for the night; a page killed
mid-upload leaves nothing half, and a restart loses nothing. Real processes: `huizong web`, one
that holds the pass lock, and the page's pass, a real `huizong run`."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import duckdb
import httpx
import pytest

from huizong.office import accounts
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat
from huizong.store.warehouse import published_path
from huizong.web import passes

PASSWORD = "correct horse 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def _serve(inbox, warehouse, port: int, **env: str) -> subprocess.Popen:
    """`huizong web` in a process of its own, once it answers."""
    from prefect.settings import PREFECT_API_URL

    web = subprocess.Popen([sys.executable, "-m", "huizong.cli", "web", "--inbox", str(inbox), "--warehouse",
                            str(warehouse), "--port", str(port)],
                           env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), **env},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return web
        except httpx.TransportError:
            time.sleep(0.2)
    web.kill()
    raise AssertionError("huizong web did not answer: " + web.communicate()[0][-2000:])


def _upload(port: int, data: bytes) -> httpx.Response:
    c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    assert c.post("/login", data={"name": "城关", "password": PASSWORD}).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/unit").text).group(1)
    return c.post("/unit/upload", data={"csrf": csrf}, files={"file": ("城关镇.xlsx", data)})


def test_a_page_killed_mid_upload_leaves_nothing_half_and_a_restart_loses_nothing(tmp_path, prefect_harness):
    """SIGKILL while the upload is being written into the inbox: no file a pass would read, no
    record of it; the restarted page clears its hidden leftover, takes the upload again, records it
    once, and the pass it starts loads it."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    inbox.mkdir()
    town = cat.towns()[0]
    accounts.add(warehouse, "城关", "unit", PASSWORD, town.code)
    data = write_unit_workbook(tmp_path / "town.xlsx", town, "2019Q1").read_bytes()
    port = free_port()
    web = _serve(inbox, warehouse, port, HUIZONG_FAILPOINT="mid_upload")
    try:
        with pytest.raises(httpx.TransportError):  # the page died under the request
            _upload(port, data)
        assert web.wait(timeout=60) == -signal.SIGKILL
    finally:
        web.kill()
    assert [p.name for p in inbox.iterdir() if not p.name.startswith(".")] == []
    assert [p.name for p in inbox.iterdir() if p.name.endswith(".tmp")]  # killed mid-write indeed
    assert not [a for a in accounts.actions(warehouse, town.code) if a.action == "upload"]

    web = _serve(inbox, warehouse, port)
    try:
        assert list(inbox.iterdir()) == []  # the leftover cleared at start
        assert "检查通过，已收到" in _upload(port, data).text
        (placed,) = inbox.iterdir()
        assert placed.read_bytes() == data
        assert [a.what for a in accounts.actions(warehouse, town.code) if a.action == "upload"] == [
            f"城关镇.xlsx -> inbox/{placed.name}"]
        deadline, loaded = time.monotonic() + 240, []
        while time.monotonic() < deadline and not loaded:
            time.sleep(1)
            try:
                con = duckdb.connect(str(published_path(warehouse)), read_only=True)
            except duckdb.IOException:  # not yet published, or being published
                continue
            try:
                loaded = con.execute("select file_name from ops.imports where status = 'loaded'").fetchall()
            except duckdb.CatalogException:
                pass
            finally:
                con.close()
        assert loaded == [(placed.name,)]
    finally:
        web.terminate()
        web.wait(timeout=60)
