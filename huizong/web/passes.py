"""The passes the web page starts: after an upload that was placed in the inbox, and for the
office's rerun. A pass runs as `huizong run` (or `rerun`) in a process of its own, as the command
line runs it, never in the page's process; while one holds the warehouse the page starts none, and
makes sure that a pass still comes after it, so that an upload does not wait for the night."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from huizong.store.warehouse import LockHeld, pass_lock

_passes_lock = threading.Lock()
_running: dict[Path, subprocess.Popen] = {}  # the pass this process started, per warehouse
_again: set[Path] = set()  # warehouses whose inbox got a file while our pass ran: one more pass
_waiting: set[Path] = set()  # warehouses held by another's pass, with a thread waiting to pass after it
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
    logs = warehouse / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = ["rerun", *args] if args else ["run"]
    with (logs / "web_passes.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "huizong.cli", *command, "--inbox", str(inbox),
                                 "--warehouse", str(warehouse)], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ})


def _then_again(proc: subprocess.Popen, inbox: Path, warehouse: Path) -> None:
    proc.wait()
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
