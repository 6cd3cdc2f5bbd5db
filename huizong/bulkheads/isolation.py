"""Bulkheads for reading: untrusted workbooks are read in worker processes (`huizong.bulkheads.worker`).

A file that makes a reader abort (python-calamine aborts the whole process on some sheets, a
Rust allocation failure no `try` can catch), run out of memory (each worker has an address-space
limit) or hang (each file has a time limit) costs its worker, not the pass: the file is rejected
as unreadable with the cause, a new worker takes its place, and the other files of the batch are
read again. Workers read, check and validate whole batches and hand back outcomes and values, so
the pass's own process only records; with two cores, two workers read at once.

`ReaderPool.read` is thread-safe: the flow's batch tasks share one pool per process
(`shared_pool`), a Dask worker process has its own: as many readers as the worker has threads
(each thread runs one batch task at a time), ended once idle for DASK_IDLE_SECONDS, so that a
worker waiting for the next night holds no reader's memory (about 200 MiB each).
"""
from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from huizong.bulkheads.worker_process import Crash, WorkerFailed, WorkerProcess, crash_outcome
from huizong.core.settings import MAX_WORKERS, READ_AHEAD_CHUNK, READ_AHEAD_FILE_SECONDS


class PoolStopped(RuntimeError):
    """The pool was stopped (the pass was: Ctrl-C, SIGTERM) while a job waited for its worker:
    no file is rejected for it."""


def default_size() -> int:
    """Workers per pass: one per core (at most 4), or HUIZONG_READERS."""
    wanted = os.environ.get("HUIZONG_READERS")
    return max(1, int(wanted)) if wanted else max(1, min(MAX_WORKERS, os.cpu_count() or 1))


# On a Dask worker, readers that have read nothing for this long are ended (HUIZONG_READER_IDLE_SECONDS
# sets it): a pass's batches follow each other within seconds, the next pass comes the next night.
DASK_IDLE_SECONDS = 30.0


def dask_worker_threads() -> int | None:
    """The number of task threads of the Dask worker running the calling task; None outside a
    Dask worker's task (a pass's own process, a LocalCluster's client)."""
    if "distributed" not in sys.modules:  # never imported here: no Dask worker (and no import now)
        return None
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:  # not in a task of a worker
        return None
    return max(1, int(worker.state.nthreads))


class ReaderPool:
    """Worker processes that read batches of files; see the module's docstring."""

    def __init__(self, size: int | None = None, idle_seconds: float | None = None) -> None:
        self.size = size or default_size()
        # with `idle_seconds` (on a Dask worker), the workers end once no job has run for that
        # long (`_retire_if_idle`) and start again with the next job
        self.idle_seconds = idle_seconds
        self._busy = 0  # jobs running or waiting for a worker (`_run`)
        self._retired = False  # the idle workers were ended: the next job starts them again
        self._idle_timer: threading.Timer | None = None
        self.environment = _environment()  # what its workers were started with
        self._idle: queue.Queue[WorkerProcess] = queue.Queue()
        self._workers: list[WorkerProcess] = []
        self._lock = threading.Lock()
        # readings of files read ahead (`read_ahead`), by (sha256, file name): outcome, values
        self._ahead: dict[tuple[str, str], tuple] = {}  # (outcome, index of its chunk's values)
        self._ahead_values: list = []  # values of each chunk read ahead
        self._ahead_stop = threading.Event()
        self._ahead_threads: list[threading.Thread] = []
        self.reports_after = False  # the pass writes reports: workers import what they need when idle
        self.stopped = False  # by `stop_now`
        for _ in range(self.size):
            self._add()
        if idle_seconds:  # ended even if no job ever comes
            self._retire_later()

    def _add(self) -> None:
        if self.stopped:
            raise PoolStopped("the reading workers were stopped")
        worker = WorkerProcess()
        with self._lock:
            self._workers.append(worker)
        self._idle.put(worker)

    def _run(self, job: dict, file_seconds: float | None = None) -> tuple | Crash:
        """A job run by the next free worker (`_run_on_worker`), counted as busy meanwhile; with
        `idle_seconds`, the workers ended when it is the last one for that long."""
        with self._lock:
            self._busy += 1
            restart, self._retired = self._retired, False
        try:
            if restart:  # ended while idle: as many as before, started again
                for _ in range(self.size):
                    self._add()
            return self._run_on_worker(job, file_seconds)
        finally:
            with self._lock:
                self._busy -= 1
                last = self._busy == 0
            if last and self.idle_seconds:
                self._retire_later()

    def _retire_later(self) -> None:
        """`_retire_if_idle` in `idle_seconds`, instead of any earlier such call."""
        timer = threading.Timer(self.idle_seconds, self._retire_if_idle)
        timer.daemon = True
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            self._idle_timer = timer
        timer.start()

    def _retire_if_idle(self) -> None:
        """End the workers if no job runs or waits and every worker is in the idle queue (none
        lent out, `prepare_reports`): the next job starts them again (`_run`). Checked under the
        lock that `_run` counts its jobs under, so no job ever gets a worker ended meanwhile."""
        with self._lock:
            if self._busy or self._retired or self.stopped or self._idle.qsize() != len(self._workers):
                return
            workers, self._workers = self._workers, []
            while True:
                try:
                    self._idle.get_nowait()
                except queue.Empty:
                    break
            self._retired = True
        for worker in workers:
            worker.ask_to_stop()
        for worker in workers:
            worker.wait_stopped()

    def _run_on_worker(self, job: dict, file_seconds: float | None = None) -> tuple | Crash:
        job = {**job, "reports_after": self.reports_after}
        worker = self._idle.get()
        if self.stopped:
            self._idle.put(worker)  # wakes the next job waiting for a worker, which stops too
            raise PoolStopped("the reading workers were stopped")
        try:
            result = worker.run(job, file_seconds)
        except WorkerFailed:
            if self.stopped:  # killed by `stop_now` while it started
                raise PoolStopped("the reading workers were stopped") from None
            with self._lock:
                self._workers.remove(worker)
            self._add()
            raise
        if isinstance(result, Crash) and self.stopped:  # killed by `stop_now`, not by its file
            raise PoolStopped("the reading workers were stopped")
        if isinstance(result, Crash):
            with self._lock:
                self._workers.remove(worker)
            worker.stop()
            self._add()
        else:
            self._idle.put(worker)
        return result

    def read_ahead(self, files: list[dict], warehouse: Path) -> None:
        """Start reading `files` (dicts with path, file_name), in chunks on every worker, before
        a pass asks for them: `huizong run` does while Prefect starts its server, which keeps
        the pass waiting for seconds. The pass's first `read` waits for the files being read
        ahead, then takes the valid files' readings whose content it asks for; anything else (a
        rejected file, whose feedback is written from the kept copy, a file that took its worker
        down or more than READ_AHEAD_FILE_SECONDS) is read by the pass as if never read ahead.
        The copies the pass keeps under `warehouse` are written by the workers too
        (`files.keep_copy`)."""
        chunks: queue.SimpleQueue[list[dict]] = queue.SimpleQueue()
        for i in range(0, len(files), READ_AHEAD_CHUNK):
            chunks.put([{"path": str(f["path"]), "file_name": f["file_name"]} for f in files[i:i + READ_AHEAD_CHUNK]])
        self._ahead_stop.clear()
        for _ in range(self.size):
            thread = threading.Thread(target=self._read_ahead, args=(chunks, str(warehouse)), name="huizong-read-ahead",
                                      daemon=True)
            thread.start()
            self._ahead_threads.append(thread)

    def _read_ahead(self, chunks: queue.SimpleQueue, warehouse: str) -> None:
        while not self._ahead_stop.is_set():
            try:
                chunk = chunks.get_nowait()
            except queue.Empty:
                return
            try:
                result = self._run({"ahead": chunk, "warehouse": warehouse}, READ_AHEAD_FILE_SECONDS)
            except (WorkerFailed, PoolStopped):  # the pass will meet it, and say so
                return
            if isinstance(result, Crash):  # that file is left to the pass; the others go on
                if result.index is not None:
                    chunks.put(chunk[:result.index] + chunk[result.index + 1:])
                continue
            _, outcomes, values = result
            with self._lock:
                self._ahead_values.append(values)
                for o in outcomes:
                    if o.ok:
                        self._ahead[(o.sha256, o.file_name)] = (o, len(self._ahead_values) - 1)

    def forget_read_ahead(self) -> None:
        """Read no more ahead (the chunks being read are finished) and drop what was read ahead
        and not asked for (at the end of a pass)."""
        self._ahead_stop.set()
        for thread in self._ahead_threads:
            thread.join()
        with self._lock:
            self._ahead.clear()
            self._ahead_values.clear()
            self._ahead_threads = []

    def read(self, files: list[dict], warehouse: Path | None = None):
        """Read and validate `files` (dicts with read_path, sha256, file_name); returns
        (outcomes, values) as `validate_batch` does, feedback written under `warehouse` for
        every rejected file. A file that kills its worker is rejected as unreadable. A file
        of the same name and content read ahead (`read_ahead`) is not read again."""
        import pandas as pd

        # The pass reads now: no chunk more is read ahead (the pass's own batches read the rest,
        # and its memory stays that of a batch), the chunks being read are finished.
        self._ahead_stop.set()
        for thread in list(self._ahead_threads):
            thread.join()
        with self._lock:
            ahead = [self._ahead.pop((f["sha256"], f["file_name"]), None) for f in files]
            outcomes = [a[0] for a in ahead if a]
            frames = []
            for chunk in sorted({a[1] for a in ahead if a}):
                values = self._ahead_values[chunk]
                frames.append(values[values["sha256"].isin({o.sha256 for o in outcomes})])
                if not any(c == chunk for _, c in self._ahead.values()):
                    self._ahead_values[chunk] = None  # every valid file of it taken: let its values go
        pending = [[f for f, a in zip(files, ahead) if a is None]]
        while pending:
            batch = pending.pop()
            if not batch:
                continue
            job = {"files": [{k: str(f[k]) for k in ("read_path", "sha256", "file_name")} for f in batch],
                   "warehouse": str(warehouse) if warehouse else None}
            result = self._run(job)
            if not isinstance(result, Crash):
                outcomes += result[1]
                frames.append(result[2])
            elif result.index is not None:  # that file killed it: reject it, read the others again
                outcomes.append(self._reject(batch[result.index], result, warehouse))
                pending.append(batch[:result.index] + batch[result.index + 1:])
            elif len(batch) == 1:  # died validating a single file: that file
                outcomes.append(self._reject(batch[0], result, warehouse))
            else:  # died after reading: find the file by reading each alone
                pending += [[f] for f in batch]
        if not frames:  # every file killed its worker: no values, in the shape of the others
            from huizong.intake.validation import LOADED_COLUMNS

            return outcomes, pd.DataFrame(columns=LOADED_COLUMNS)
        return outcomes, pd.concat(frames, ignore_index=True)

    def prepare_reports(self) -> None:
        """Tell every worker, as soon as it is free, that reports are to come: each imports what
        they need once idle (`huizong.bulkheads.worker`), so that whichever writes a Word file is ready."""
        self.reports_after = True

        def tell_each() -> None:
            taken = [self._idle.get() for _ in range(self.size)]  # every worker, each once
            try:
                for worker in taken:
                    worker.run({"noop": True, "reports_after": True})
            except Exception:  # a worker that failed is met, and said, by the next real job
                pass
            finally:
                for worker in taken:
                    self._idle.put(worker)

        threading.Thread(target=tell_each, name="huizong-prepare-readers", daemon=True).start()

    def write_report(self, data, out: Path, fall_back: bool = True) -> Path:
        """One file of the annual summary (`report.write_file`), written by a worker; written
        here instead if the worker cannot (its error, if any, is then this process's), or, with
        `fall_back` False, a RuntimeError saying why."""
        result = self._run({"report": (data, str(out))})
        if isinstance(result, Crash) or result[1] is None:
            if not fall_back:
                why = result.cause if isinstance(result, Crash) else result[2]
                raise RuntimeError(f"a reading worker did not write {Path(out).name}: {why}")
            from huizong.outputs.report import write_file

            return write_file(data, Path(out))
        return Path(result[1])

    def covers(self, paths: list[Path]) -> list[tuple[str | None, str | None]]:
        """(unit code, period) each file's cover states, read in a worker; (None, None) for a
        file whose cover cannot be read, or whose reading kills its worker."""
        found: dict[int, tuple] = {}
        pending = list(range(len(paths)))
        while pending:
            result = self._run({"covers": [str(paths[i]) for i in pending]})
            if not isinstance(result, Crash):
                found.update(zip(pending, result[1]))
                break
            bad = pending[result.index or 0]
            found[bad] = (None, None)
            pending = [i for i in pending if i != bad]
        return [found.get(i, (None, None)) for i in range(len(paths))]

    @staticmethod
    def _reject(f: dict, crash: Crash, warehouse: Path | None):
        outcome = crash_outcome(f, crash)
        if warehouse:  # the list of problems only: the town's file is not opened again
            from huizong.intake import feedback

            outcome.feedback_path = str(feedback.write_feedback(
                Path(f["read_path"]), outcome.file_name, None, None, outcome.problems, Path(warehouse)))
        return outcome

    def close(self) -> None:
        self.forget_read_ahead()
        with self._lock:
            workers, self._workers = self._workers, []
            if self._idle_timer is not None:
                self._idle_timer.cancel()
        for worker in workers:  # all told first: their interpreters wind down side by side
            worker.ask_to_stop()
        # ... while the pass goes on (a quarter of a second): told to stop, each exits by itself
        threading.Thread(target=lambda: [w.wait_stopped() for w in workers], name="huizong-reap-readers",
                         daemon=True).start()


    def stop_now(self) -> None:
        """End every worker at once, whatever it is reading (the pass was stopped: Ctrl-C,
        SIGTERM); a job waiting for one raises PoolStopped."""
        self.stopped = True
        self._ahead_stop.set()
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
        for worker in workers:
            worker.proc.wait()
        self._idle.put(None)  # a job waiting for a worker wakes and stops (`_run`)


_shared: ReaderPool | None = None
_shared_lock = threading.Lock()


def _environment() -> tuple:
    """What a worker reads from its environment when it starts (the clock, limits, failpoints)."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("HUIZONG_")))


def shared_pool() -> ReaderPool:
    """This process's pool, started on first use and stopped at exit (or by `release_shared_pool`);
    started anew if huizong's environment changed since (HUIZONG_TODAY, say). In a task of a Dask
    worker: one reader per thread of the worker, ended when idle (the module's docstring)."""
    global _shared
    with _shared_lock:
        stale = _shared is not None and _shared.environment != _environment()
        pool, _shared = (_shared, None) if stale else (None, _shared)
        if _shared is None:
            threads = dask_worker_threads()
            if threads is None:
                _shared = ReaderPool()
            else:
                idle = float(os.environ.get("HUIZONG_READER_IDLE_SECONDS") or DASK_IDLE_SECONDS)
                _shared = ReaderPool(size=threads, idle_seconds=idle)
    if pool is not None:
        pool.close()
    return _shared


def running_pool() -> ReaderPool | None:
    """This process's pool if it is running (a pass that read files) and its workers have the
    environment this process has now (the clock, say), without starting one."""
    pool = _shared
    return pool if pool is not None and pool.environment == _environment() else None


def _take_shared_pool() -> ReaderPool | None:
    """This process's pool, no longer this process's (the next `shared_pool` starts another)."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    return pool


def close_shared_pool() -> None:
    if (pool := _take_shared_pool()) is not None:
        pool.close()


def release_shared_pool() -> None:
    """At the end of a pass: stop the workers, unless HUIZONG_KEEP_READERS=1 keeps them for the
    next pass of this process (a session running many passes in a row, such as the tests; a
    nightly service frees their memory between nights)."""
    if os.environ.get("HUIZONG_KEEP_READERS") != "1":
        close_shared_pool()
    elif _shared is not None:
        _shared.forget_read_ahead()


def stop_shared_pool_now() -> None:
    """This process's pool, if any, ended at once (`ReaderPool.stop_now`): the pass was stopped."""
    if (pool := _take_shared_pool()) is not None:
        pool.stop_now()


@contextmanager
def released_at_end() -> Iterator[None]:
    """A pass's block: this process's pool, if the block used one, is released at its end, or
    stopped at once if the pass was (Ctrl-C, SIGTERM)."""
    try:
        yield
    except KeyboardInterrupt:
        stop_shared_pool_now()
        raise
    finally:
        release_shared_pool()


atexit.register(close_shared_pool)
