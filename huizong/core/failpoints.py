"""Named points where the crash-safety tests kill a pass (or the web page, at `mid_upload`) with
SIGKILL, pause it or hold it.

`HUIZONG_FAILPOINT=<name>` in the environment makes the process kill itself, uncatchably, when it
reaches that point; unset (always, outside those tests) it does nothing.
`HUIZONG_FAILPOINT=pause:<name>` makes it wait there instead, so that a test can change the
inbox between two stages of a pass: it creates the file `<HUIZONG_PAUSE_DIR>/<name>` and goes on
once the test has removed it. `HUIZONG_FAILPOINT=hold:<name>` makes it say `held at <name>` on
stdout and wait there for a signal (the tests of Ctrl-C); `wait:<name>` says `waiting at <name>`
and blocks there in one call, as a main thread waiting for a task does.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

POINTS = ("after_discover", "mid_archive", "after_feedback", "mid_load", "after_models",
          "before_replace", "after_replace")
# where a pass can be held, in the order a pass meets them: the server's start, recording,
# the models half built, the checks (reports drafted meanwhile), publishing, writing the reports
HOLD_POINTS = ("server_start", "mid_load", "mid_models", "mid_checks", "before_replace", "mid_reports")
HOLD_SECONDS = 3600


# Faults of a reading worker, on a file whose name contains the fault's word: an abort (as
# python-calamine's on a huge sheet), a hang, memory without end. Set HUIZONG_FAILPOINT=reader.
READER_FAULTS = ("abort", "hang", "hog")


def failpoint(name: str) -> None:
    point = os.environ.get("HUIZONG_FAILPOINT")
    if point == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif point == f"pause:{name}":
        _pause(name)
    elif point == f"hold:{name}":
        print(f"held at {name}", flush=True)
        _hold()
    elif point == f"wait:{name}":
        print(f"waiting at {name}", flush=True)
        _wait_on_a_lock()


def _hold() -> None:
    """Wait for a signal, in short sleeps: a signal that the kernel hands to another thread of
    the process (a reading-ahead thread, say) runs its Python handler only when the main thread
    next runs Python, and one long sleep would not end for it (a held pass ignored Ctrl-C)."""
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)


def _wait_on_a_lock() -> None:
    """Block as a main thread waiting for a task's result does: on a lock, in one call that only
    a signal handled in this thread interrupts."""
    never = threading.Lock()
    never.acquire()
    never.acquire(timeout=HOLD_SECONDS)


def _pause(name: str) -> None:
    flag = Path(os.environ["HUIZONG_PAUSE_DIR"]) / name
    flag.touch()
    while flag.exists():
        time.sleep(0.05)


def reader_failpoint(file_name: str) -> None:
    """In a reading worker, before it reads `file_name`: the fault its name asks for."""
    if os.environ.get("HUIZONG_FAILPOINT") != "reader":
        return
    if "abort" in file_name:
        os.abort()
    if "hang" in file_name:
        time.sleep(3600)
    if "hog" in file_name:  # more than a worker may have: refused at once, nothing touched
        bytearray(1 << 40)
