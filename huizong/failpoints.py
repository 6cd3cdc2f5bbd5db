"""Named points where the crash-safety tests kill a pass with SIGKILL, or hold it to stop it.

`HUIZONG_FAILPOINT=<name>` in the environment makes the process kill itself, uncatchably, when it
reaches that point; `HUIZONG_FAILPOINT=hold:<name>` makes it say `held at <name>` on stdout and
wait there for a signal (the tests of Ctrl-C); unset (always, outside those tests) it does nothing.
"""
from __future__ import annotations

import os
import signal
import time

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
    wanted = os.environ.get("HUIZONG_FAILPOINT")
    if wanted == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif wanted == f"hold:{name}":
        print(f"held at {name}", flush=True)
        time.sleep(HOLD_SECONDS)


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
