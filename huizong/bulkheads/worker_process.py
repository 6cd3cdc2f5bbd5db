"""The pass's side of one reading worker process (`huizong.bulkheads.worker` is the worker's own
side): starting it, handing it a job, and telling from how it died what a crash was. The pool of
them is `huizong.bulkheads.isolation`."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from huizong.bulkheads.worker import receive, send
from huizong.core.settings import FILE_SECONDS, VALIDATE_SECONDS
from huizong.core.settings import WORKER_MEMORY_BYTES as MEMORY_LIMIT_BYTES
from huizong.core.settings import WORKER_START_SECONDS as START_SECONDS
from huizong.intake.problems import Problem

UNREADABLE = "unreadable"  # the check name of a file whose reading killed its worker


class WorkerFailed(RuntimeError):
    """A worker could not start at all: a fault of the installation, not of a file."""


@dataclass
class Crash:
    """A worker died: on which file of the job (None: after reading, while validating) and why."""
    index: int | None
    cause: str  # for the office, in English: signal, exit status, last words on stderr
    words: str  # for the town clerk, in Chinese


class WorkerProcess:
    """One reading worker process, from the pass's side."""

    def __init__(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        env = {**os.environ, "HUIZONG_WORKER_MEMORY_BYTES": str(MEMORY_LIMIT_BYTES),
               "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"}
        # unbuffered: `select` on the pipe must see every message the worker wrote, none of them
        # held in a read-ahead buffer on this side. A process group of its own: a terminal's
        # Ctrl-C (which signals the whole foreground group) must not kill it mid-file, which
        # would reject that file as unreadable; the pass stops its workers itself (`stop_now`).
        self.proc = subprocess.Popen([sys.executable, "-m", "huizong.bulkheads.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env, bufsize=0,
                                     process_group=0)
        self.ready = False

    def _next(self, seconds: float) -> object:
        """The worker's next message; TimeoutError if none within `seconds`, EOFError if it died."""
        readable, _, _ = select.select([self.proc.stdout], [], [], seconds)
        if not readable:
            raise TimeoutError
        return receive(self.proc.stdout)

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            message = self._next(START_SECONDS)
        except (EOFError, TimeoutError):
            self.stop()
            raise WorkerFailed(f"a reading worker did not start: {self.last_words() or 'no message'}") from None
        assert message == ("ready",), message
        self.ready = True

    def run(self, job: dict, file_seconds: float | None = None) -> tuple | Crash:
        """("done", outcomes, values), or the Crash that ended the worker."""
        self.wait_ready()
        limit = file_seconds or float(os.environ.get("HUIZONG_FILE_SECONDS") or FILE_SECONDS)
        index: int | None = None
        try:
            send(self.proc.stdin, job)
            while True:
                message = self._next(limit)
                if message[0] == "start":
                    index = message[1]
                elif message[0] == "validating":
                    index = None
                    message = self._next(VALIDATE_SECONDS)
                    if message[0] == "done":
                        return message
                elif message[0] == "done":
                    return message
        except TimeoutError:
            self.stop()
            return Crash(index, f"no answer within {limit:g} s", f"超过 {limit:g} 秒仍未读完")
        except (EOFError, BrokenPipeError, OSError):
            self.proc.wait()
            return Crash(index, self.cause(), self.words())

    def cause(self) -> str:
        code = self.proc.returncode
        how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exited with status {code}")
        last = self.last_words()
        return f"reading worker {how}" + (f": {last}" if last else "")

    def words(self) -> str:
        last = self.last_words()
        if "memory allocation" in last or "MemoryError" in last:
            return "占用内存过大"
        return "读取程序异常终止"

    def last_words(self) -> str:
        """The telling line of what the worker wrote to stderr before it died."""
        try:
            self.stderr.seek(0)
            lines = [ln.strip() for ln in self.stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        telling = [ln for ln in lines if any(w in ln for w in ("memory allocation", "panicked", "Error"))]
        return (telling or lines or [""])[-1][:300]

    def ask_to_stop(self) -> None:
        """Tell the worker to end; it exits on its own (`wait_stopped` reaps it)."""
        if self.proc.poll() is None:
            try:
                send(self.proc.stdin, None)
                self.proc.stdin.close()
            except (OSError, ValueError):
                self.proc.kill()

    def wait_stopped(self) -> None:
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def stop(self) -> None:
        self.ask_to_stop()
        self.wait_stopped()


def crash_outcome(f: dict, crash: Crash):
    """The rejection of a file whose reading killed its worker."""
    from huizong.intake.problems import Outcome
    from huizong.schemas.rules import word

    return Outcome(f["file_name"], f["sha256"], None, None,
                   [Problem(f["sha256"], "", "", "", UNREADABLE,
                            word(UNREADABLE, words=crash.words, cause=crash.cause))])
