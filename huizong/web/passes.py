"""The passes the web page starts: after an upload that was placed in the inbox, and for the
office's rerun. A pass runs as `huizong run` (or `rerun`) in a process of its own, as the command
line runs it, never in the page's process; while one holds the warehouse the page starts none, and
makes sure that a pass still comes after it, so that an upload does not wait for the night.

A pass's process spends its first seconds importing Prefect, pandas and DuckDB: the page keeps one
such process ready per warehouse (`huizong.cli.spare`, started with the page and again after each
pass), and a pass is handed to it while the page's environment is still the one it started with."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from huizong.store.warehouse import LockHeld, pass_lock

_passes_lock = threading.Lock()
_spares_lock = threading.Lock()
_running: dict[Path, subprocess.Popen] = {}  # the pass this process started, per warehouse
_again: set[Path] = set()  # warehouses whose inbox got a file while our pass ran: one more pass
_waiting: set[Path] = set()  # warehouses held by another's pass, with a thread waiting to pass after it
_spares: dict[Path, tuple[subprocess.Popen, dict]] = {}  # a ready pass process per warehouse, and its environment
_spared: set[Path] = set()  # warehouses whose page keeps spares (`keep_spares`; `huizong web` does)
WAIT_SECONDS = 10


def start_a_pass(inbox: Path, warehouse: Path, *args: str) -> bool:
    """Start `huizong run` (or `huizong rerun ARGS`) in a process of its own unless a pass holds
    the warehouse; False if one does. If the pass running is one this process started (uploads
    that come while it reads), another pass follows it, so that their files do not wait for the
    night."""
    warehouse = Path(warehouse).resolve()
    with _passes_lock:
        ours = _running.get(warehouse)
        if ours is not None and ours.poll() is None:
            if not args:
                _again.add(warehouse)
            return False
        try:
            with pass_lock(warehouse):
                pass
        except LockHeld:  # another's pass (the nightly, a command): ours follows when it ends
            if not args and warehouse not in _waiting:
                _waiting.add(warehouse)
                threading.Thread(target=_when_free, args=(inbox, warehouse), daemon=True).start()
            return False
        _running[warehouse] = proc = _spawn(inbox, warehouse, args)
    threading.Thread(target=_then_again, args=(proc, inbox, warehouse), daemon=True).start()
    return True


def _spawn(inbox: Path, warehouse: Path, args: tuple[str, ...]) -> subprocess.Popen:
    command = [*(["rerun", *args] if args else ["run"]), "--inbox", str(inbox), "--warehouse", str(warehouse)]
    spare = _take_spare(warehouse)
    if spare is not None:
        try:
            spare.stdin.write(json.dumps(command).encode() + b"\n")
            spare.stdin.close()
            return spare
        except OSError:  # it died meanwhile: a process of its own, as without a spare
            spare.kill()
    with _log(warehouse) as log:
        return subprocess.Popen([sys.executable, "-m", "huizong.cli", *command], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ})


def _log(warehouse: Path):
    logs = warehouse / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return (logs / "web_passes.log").open("ab")


def keep_spares(warehouse: Path) -> None:
    """From now on, keep a spare for `warehouse`: one now, and another after each pass."""
    warehouse = Path(warehouse).resolve()
    with _spares_lock:
        _spared.add(warehouse)
    _keep_a_spare(warehouse)


def _keep_a_spare(warehouse: Path) -> None:
    """Start a pass's process for `warehouse` that waits, its imports done, for the next pass
    (`huizong.cli.spare`), unless one is ready or the page keeps none."""
    with _spares_lock:
        if warehouse not in _spared:
            return
        held = _spares.get(warehouse)
        if held is not None and held[0].poll() is None and held[1] == dict(os.environ):
            return
        env = dict(os.environ)
        with _log(warehouse) as log:
            proc = subprocess.Popen([sys.executable, "-m", "huizong.cli.spare"], stdin=subprocess.PIPE, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, env=env)
        _spares[warehouse] = (proc, env)
    if held is not None:
        _let_go(held[0])


def _take_spare(warehouse: Path) -> subprocess.Popen | None:
    """The spare of `warehouse` if it is alive and was started in the environment the page has
    now (HUIZONG_TODAY, the Prefect API: what its imports read); one that is not is let go."""
    with _spares_lock:
        held = _spares.pop(warehouse, None)
    if held is None:
        return None
    proc, env = held
    now = dict(os.environ)
    if proc.poll() is None and env == now:
        return proc
    if proc.poll() is None:  # said in the passes' log: a page whose spares are never used is slower
        changed = sorted(k for k in env.keys() | now.keys() if env.get(k) != now.get(k))
        with _log(warehouse) as log:
            log.write(f"huizong web: a spare pass process not used, the environment changed ({', '.join(changed)})\n"
                      .encode())
    _let_go(proc)
    return None


def _let_go(proc: subprocess.Popen) -> None:
    """A spare not used: the end of its input, and it exits without running anything."""
    try:
        proc.stdin.close()
    except OSError:
        pass
    threading.Thread(target=proc.wait, daemon=True).start()


def let_spares_go() -> None:
    """At the page's end: every spare exits (each also does by itself when the page's process
    ends, with the end of its input)."""
    with _spares_lock:
        held = list(_spares.values())
        _spares.clear()
        _spared.clear()
    for proc, _ in held:
        _let_go(proc)


def _then_again(proc: subprocess.Popen, inbox: Path, warehouse: Path) -> None:
    proc.wait()
    _keep_a_spare(warehouse)  # after the pass, not beside it: its imports would slow the pass
    with _passes_lock:
        again = warehouse in _again
        _again.discard(warehouse)
    if again:
        start_a_pass(inbox, warehouse)


def _when_free(inbox: Path, warehouse: Path) -> None:
    """Wait for another's pass to let go of the warehouse, then start ours (the files uploaded
    meanwhile are not left for the night)."""
    while True:
        time.sleep(WAIT_SECONDS)
        with _passes_lock:
            try:
                with pass_lock(warehouse):
                    pass
            except LockHeld:
                continue
            _waiting.discard(warehouse)
        start_a_pass(inbox, warehouse)
        return
