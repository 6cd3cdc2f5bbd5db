"""Prefect's temporary server ends with the pass that started it, however the pass ends.

Real processes: `python -m huizong.cli run` on a small inbox, a fresh PREFECT_HOME and no
PREFECT_API_URL, so that the command starts its own server (flows/server.py). No timing margins:
every wait polls, with limits of minutes, so that a busy machine is only slower.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

ROOT = Path(__file__).resolve().parents[1]


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st:
                children.setdefault(st[0], []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] != "Z"  # a zombie has ended; only its parent has not reaped it


def servers_of(root: int) -> list[int]:
    return [p for p in descendants(root) if "uvicorn" in _cmdline(p) and "prefect" in _cmdline(p)]


def poll(condition, limit: float, what: str):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {limit:.0f} s for {what}")


def start_pass(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """A pass that starts its own temporary server; returns it and the server's pid once the
    server process exists."""
    town = cat.towns()[0]
    for period in ("2019Q1", "2019Q2"):
        write_unit_workbook(tmp_path / "inbox" / f"{town.name}_{period}.xlsx", town, period)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "huizong.cli", "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        servers = poll(lambda: servers_of(proc.pid) or proc.poll() is not None, 600, "the server process")
    except BaseException:
        proc.kill()
        raise
    assert servers is not True, f"the pass ended before its server started: {proc.communicate()}"
    assert (tmp_path / "warehouse" / "logs" / "prefect-server.log").exists()
    return proc, servers[0]


def test_sigterm_stops_the_pass_and_its_server(tmp_path: Path):
    proc, server = start_pass(tmp_path)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err
    assert "stopped by SIGTERM" in err
    poll(lambda: not alive(server), 120, "the server to end")
    assert not [p for p in servers_of(proc.pid) if alive(p)]


def test_a_killed_pass_takes_its_server_with_it(tmp_path: Path):
    proc, server = start_pass(tmp_path)
    proc.kill()  # SIGKILL: no handler runs; the parent-death signal ends the server
    proc.communicate(timeout=600)
    poll(lambda: not alive(server), 120, "the server to end after its parent was killed")


def test_a_server_that_cannot_start_is_one_sentence_with_the_way_out(tmp_path: Path):
    """Two attempts, each given one second (no server starts that fast): the answer names the
    way out, and no server is left behind."""
    (tmp_path / "inbox").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PYTHONPATH=str(ROOT),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")
    out = subprocess.run([sys.executable, "-m", "huizong.cli", "run"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "prefect server start" in lines[0] and "PREFECT_API_URL=" in lines[0]


def test_a_configured_server_that_does_not_answer(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "huizong.cli", "run"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not answer" in lines[0] and "prefect server start" in lines[0]
