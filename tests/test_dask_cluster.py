"""`huizong run --dask tcp://...` on a real Dask scheduler and two `dask worker` processes (each
with its nanny, one thread) started here on 127.0.0.1, against the test harness's Prefect server
as a worker machine would reach a real one (docs/dask.md): passes in a row each record every task
run, a poison file is rejected and the workers keep serving, a worker killed mid-pass loses no
file, readers are one per thread and end when idle; and without a Prefect server such a pass is
refused in one sentence."""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from conftest import query, run_pass
from test_dask import marts

from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

ROOT = Path(__file__).resolve().parents[1]
TOWNS = cat.towns()
IDLE_SECONDS = 2  # the workers' readers end after this long without a batch (HUIZONG_READER_IDLE_SECONDS)
READER = "huizong.bulkheads.worker"  # a reading process's command line


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def harness_api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def cluster_env(**huizong: str) -> dict[str, str]:
    """What the scheduler, the workers and the passes run with: the harness's Prefect API, as
    every machine of a real cluster exports PREFECT_API_URL; readers stopped after each pass,
    as outside the tests (conftest keeps this process's); two batches a pass, one per worker,
    however many cores this machine has (HUIZONG_READERS: the pass's own process splits the
    files by it; a Dask worker's readers follow its threads)."""
    env = {k: v for k, v in os.environ.items() if k != "HUIZONG_KEEP_READERS"}
    return {**env, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": harness_api_url(),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "HUIZONG_READERS": "2", **huizong}


class Cluster:
    """A `dask scheduler` and two `dask worker --nthreads 1` (nanny and worker process each), and
    a client of the test's to look at them; every process of theirs ended by `stop`."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        from distributed import Client

        self.processes: list[subprocess.Popen] = []
        self.client = None
        self.address = f"tcp://127.0.0.1:{free_port()}"
        dask = [sys.executable, "-m", "dask"]
        try:
            self._start(dask + ["scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                                "--no-dashboard"], root, env, "scheduler")
            for i in range(2):
                self._start(dask + ["worker", self.address, "--nthreads", "1", "--nworkers", "1", "--nanny",
                                    "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}",
                                    "--local-directory", str(root / f"w{i}")], root, env, f"worker{i}")
            self.client = Client(self.address, timeout=120)
            self.client.wait_for_workers(2, timeout=300)
        except BaseException:
            self.stop()
            raise

    def _start(self, args: list[str], root: Path, env: dict[str, str], name: str) -> None:
        log = (root / f"{name}.log").open("ab")
        # a session of its own: the test ends its whole tree (nanny, worker) by its group
        self.processes.append(subprocess.Popen(args, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))
        log.close()

    def worker_pids(self) -> dict[str, int]:
        """The worker process (not its nanny) behind each worker address."""
        return self.client.run(os.getpid)

    def readers(self) -> dict[str, int]:
        """How many reading processes each worker has now."""
        return {address: sum(READER in " ".join(child.cmdline()) for child in psutil.Process(pid).children())
                for address, pid in self.worker_pids().items()}

    def stop(self) -> None:
        """Every process started here, and whatever they started (reading processes live in
        process groups of their own), ended."""
        if self.client is not None:
            try:
                self.client.close(timeout=10)
            except Exception:
                pass
        tree = []
        for process in self.processes:
            try:
                tree += psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for child in tree:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


@contextmanager
def cluster(root: Path, env: dict[str, str]) -> Iterator[Cluster]:
    started = Cluster(root, env)
    try:
        yield started
    finally:
        started.stop()


def huizong_run(inbox: Path, warehouse: Path, address: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "huizong.cli", "run", "--inbox", str(inbox),
                           "--warehouse", str(warehouse), "--dask", address],
                          env=env, capture_output=True, check=False, text=True, timeout=600)


def settled(path: Path) -> Path:
    """A file written a moment ago, dated an hour ago: settled for the pass (SETTLE_SECONDS)."""
    then = time.time() - 3600
    os.utime(path, (then, then))
    return path


def workbook(inbox: Path, town: int, period: str, name: str | None = None) -> Path:
    unit = TOWNS[town]
    return settled(write_unit_workbook(inbox / (name or f"{unit.name}_{period}.xlsx"), unit, period))


# --- reading the harness's Prefect API -------------------------------------------------------------

def nightly_runs(warehouse: Path, since: dt.datetime) -> set:
    """The ids of the nightly flow's runs on `warehouse` (its parameter) started since `since`.
    Not all of them: the harness's server holds every pass of this test process, and a read
    returns at most its default limit (200), in no useful order, so a new run could be missed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterStartTime

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["huizong-nightly"])),
                                     flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)))
    return {run.id for run in runs if run.parameters.get("warehouse") == str(warehouse)}


def task_runs(flow_run_id) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


def reading_runs_recorded(flow_run_id, batches: int, seconds: float = 60) -> list:
    """The flow run's read_and_validate task runs once Prefect recorded `batches` of them, all
    Completed (the server records task runs from their events, a moment later); what it has
    after `seconds` otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        reading = [r for r in task_runs(flow_run_id) if r.name.startswith("read_and_validate")]
        done = [r for r in reading if r.state_type is not None and r.state_type.value == "COMPLETED"]
        if len(done) >= batches or time.monotonic() > deadline:
            return reading
        time.sleep(0.5)


def batches_in(output: str) -> int:
    """How many read_and_validate tasks the pass submitted, as its log says."""
    return sum(int(n) for n in re.findall(r"reading \d+ file\(s\) in (\d+) batch", output))


# --- (a), (b), readers: three passes in a row on one cluster -------------------------------------

@pytest.fixture(scope="module")
def three_passes(tmp_path_factory, prefect_harness):
    """Three `huizong run --dask` on one cluster whose readers abort on a file named "abort"
    (HUIZONG_FAILPOINT=reader): four files, then three new ones and a poison file, then one
    more; each pass's output, flow run id and batches, and the workers' pids and readers."""
    root = tmp_path_factory.mktemp("dask_cluster")
    inbox, warehouse = root / "inbox", root / "warehouse"
    env = cluster_env(HUIZONG_FAILPOINT="reader", HUIZONG_READER_IDLE_SECONDS=str(IDLE_SECONDS))
    rounds = [[(0, "2019Q1"), (1, "2019Q1"), (2, "2019Q1"), (3, "2019Q1")],
              [(0, "2019Q2"), (1, "2019Q2"), (2, "2019Q2"), (4, "2019Q2", "abort_东坪镇_2019Q2.xlsx")],
              [(3, "2019Q2")]]
    passes = []
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    with cluster(root, env) as dask:
        pids = dask.worker_pids()
        from huizong.bulkheads.isolation import dask_worker_threads

        sizes = {address: dask.client.submit(dask_worker_threads, workers=[address], pure=False).result()
                 for address in pids}  # in a task of each worker, as the batches call it
        for files in rounds:
            for f in files:
                workbook(inbox, *f)
            before = nightly_runs(warehouse, since)
            out = huizong_run(inbox, warehouse, dask.address, env)
            run_ids = nightly_runs(warehouse, since) - before
            assert len(run_ids) == 1, (run_ids, out.stdout, out.stderr)
            passes.append((out, run_ids.pop(), batches_in(out.stdout + out.stderr)))
        deadline = time.monotonic() + IDLE_SECONDS + 30
        while any(dask.readers().values()) and time.monotonic() < deadline:
            time.sleep(0.5)
        idle_readers = dask.readers()

        def pool_state() -> list | None:  # on each worker (sent by value: the test module is not there)
            from huizong.bulkheads import isolation

            pool = isolation._shared
            return None if pool is None else [pool.size, pool._retired]

        pools = dask.client.run(pool_state)
        pids_after = dask.worker_pids()
    return {"warehouse": warehouse, "passes": passes, "pids": pids, "pids_after": pids_after,
            "pools": pools, "idle_readers": idle_readers, "sizes": sizes}


def test_passes_in_a_row_record_every_task_run(three_passes):
    for out, flow_run_id, batches in three_passes["passes"]:
        assert batches >= 1, out.stdout + out.stderr
        reading = reading_runs_recorded(flow_run_id, batches)
        states = sorted(r.state_type.value if r.state_type else None for r in reading)
        assert states == ["COMPLETED"] * batches, (states, out.stdout[-3000:], out.stderr[-3000:])


def test_a_poison_file_is_rejected_and_the_workers_keep_serving(three_passes):
    warehouse = three_passes["warehouse"]
    (first, _, _), (second, _, _), (third, _, _) = three_passes["passes"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 2, second.stdout + second.stderr  # a file was rejected
    assert third.returncode == 0, third.stdout + third.stderr
    (status, reason), = query(warehouse, "select status, first_reason from ops.imports "
                                         "where file_name = 'abort_东坪镇_2019Q2.xlsx'")
    assert status == "rejected" and "读取程序异常终止" in reason and "SIGABRT" in reason
    assert query(warehouse, "select status, count(*) from ops.imports group by all order by all") == [
        ("loaded", 8), ("rejected", 1)]
    # the poison killed a reading process, not a Dask worker: the same worker processes served
    # every pass (a worker that died would have been restarted by its nanny, under a new pid)
    assert sorted(three_passes["pids_after"].values()) == sorted(three_passes["pids"].values())


def test_readers_are_one_per_worker_thread_and_end_when_idle(three_passes):
    assert list(three_passes["sizes"].values()) == [1, 1]
    # each worker's pool: one reader, which read the passes' batches and was ended once idle
    assert list(three_passes["pools"].values()) == [[1, True], [1, True]]
    assert list(three_passes["idle_readers"].values()) == [0, 0]


# --- (c) a worker killed mid-pass ---------------------------------------------------------------

def test_a_worker_killed_mid_pass_loses_nothing(tmp_path: Path, prefect_harness):
    """Each batch task pauses halfway through keeping its files (the failpoint pause:mid_archive);
    the worker of one of them is killed by SIGKILL there, its nanny starts it again, Dask runs
    the batch again, and the pass records every file, with the marts of a pass without Dask."""
    inbox = tmp_path / "inbox"
    for town in range(6):
        workbook(inbox, town, "2019Q3")
    pause = tmp_path / "pause"
    pause.mkdir()
    flag = pause / "mid_archive"
    env = cluster_env(HUIZONG_FAILPOINT="pause:mid_archive", HUIZONG_PAUSE_DIR=str(pause))
    with cluster(tmp_path, env) as dask:
        pids = dask.worker_pids()
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
        before = nightly_runs(tmp_path / "dask", since)
        running = subprocess.Popen([sys.executable, "-m", "huizong.cli", "run", "--inbox", str(inbox),
                                    "--warehouse", str(tmp_path / "dask"), "--dask", dask.address],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        unpausing = threading.Event()
        try:
            deadline = time.monotonic() + 300
            while not flag.exists():
                assert running.poll() is None and time.monotonic() < deadline, running.communicate()[0]
                time.sleep(0.1)
            busy = [address for address, keys in dask.client.processing().items() if keys]
            assert busy
            os.kill(pids[busy[0]], signal.SIGKILL)  # mid-task: paused in read_and_validate

            def unpause() -> None:  # this batch, and the batch run again after the kill, go on
                while not unpausing.is_set():
                    flag.unlink(missing_ok=True)
                    time.sleep(0.1)

            threading.Thread(target=unpause, daemon=True).start()
            output, _ = running.communicate(timeout=600)
        finally:
            unpausing.set()
            if running.poll() is None:
                running.kill()
                running.wait()
        assert running.returncode == 0, output
        dask.client.wait_for_workers(2, timeout=120)  # the nanny started the killed one again
        assert pids[busy[0]] not in dask.worker_pids().values()
    (flow_run_id,) = nightly_runs(tmp_path / "dask", since) - before
    batches = batches_in(output)
    reading = reading_runs_recorded(flow_run_id, batches)
    # the batch run again on another worker is recorded as its one task run, completed
    assert batches >= 2 and [r.state_type.value for r in reading] == ["COMPLETED"] * batches, output
    assert query(tmp_path / "dask", "select count(*) from ops.imports where status = 'loaded'") == [(6,)]
    run_pass(inbox, tmp_path / "default")
    assert marts(tmp_path / "dask") == marts(tmp_path / "default")
    assert marts(tmp_path / "dask")["county_totals"]


# --- the refusal ------------------------------------------------------------------------------------

def test_a_scheduler_address_without_a_prefect_server_is_refused(tmp_path: Path):
    """No PREFECT_API_URL: the pass would run on a temporary server that the workers cannot
    reach once it is gone. One sentence, exit 1, nothing read; `--dask local` is not refused."""
    inbox = tmp_path / "inbox"
    workbook(inbox, 0, "2019Q1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PYTHONPATH=str(ROOT), PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               HUIZONG_DASK="tcp://127.0.0.1:1")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "huizong.cli", "run", "--inbox", str(inbox),
                          "--warehouse", str(tmp_path / "warehouse")], env=env, capture_output=True, check=False,
                         text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    sentence, = [line for line in out.stderr.splitlines() if line.strip()]
    for words in ("tcp://127.0.0.1:1", "prefect server start", "PREFECT_API_URL", "dask worker"):
        assert words in sentence, sentence
    assert not (tmp_path / "warehouse" / "huizong.duckdb").exists()
    assert "huizong run" not in out.stdout  # said before anything starts: no header, no server
    assert time.monotonic() - started < 60


def test_the_refusal_is_the_runners_own(prefect_harness, monkeypatch):
    """In Python too: an external scheduler wants PREFECT_API_URL; with one configured (here the
    harness's), or with a LocalCluster, the flow is wrapped."""
    from huizong.flows import runners
    from huizong.flows.nightly import nightly

    assert runners.with_runner(nightly, "tcp://127.0.0.1:1") is not nightly
    assert runners.with_runner(nightly, runners.LOCAL) is not nightly
    monkeypatch.setattr("huizong.flows.server.configured_api_url", lambda: None)
    with pytest.raises(runners.DaskNeedsAServer, match="prefect server start"):
        runners.with_runner(nightly, "tcp://127.0.0.1:1")
    assert runners.with_runner(nightly, runners.LOCAL) is not nightly
