"""Named points where the crash-safety tests kill a pass with SIGKILL.

`HUIZONG_FAILPOINT=<name>` in the environment makes the process kill itself, uncatchably, when it
reaches that point; unset (always, outside those tests) it does nothing.
"""
from __future__ import annotations

import os
import signal

POINTS = ("after_discover", "mid_archive", "after_feedback", "mid_load", "after_models",
          "before_replace", "after_replace")


def failpoint(name: str) -> None:
    if os.environ.get("HUIZONG_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
