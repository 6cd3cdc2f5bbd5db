"""Operations: a pass killed with SIGKILL at any point leaves the published warehouse as it was
and the next pass completes with the totals of a pass never interrupted; analysts reading the
warehouse through a pass never make it fail and never see half of it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import run_pass

from huizong.core.failpoints import POINTS
from huizong.outputs.demo import generate
from huizong.schemas import catalog as cat

TOTALS = ("select 'county', year, indicator_code, value from marts.county_totals union all "
          "select unit_code, year, indicator_code, value from marts.town_totals order by all")
LEDGER = "select file_name, status from ops.imports order by all"


def snapshot(warehouse: Path) -> tuple[list, list]:
    con = duckdb.connect(str(warehouse / "huizong.duckdb"), read_only=True)
    try:
        return con.execute(TOTALS).fetchall(), con.execute(LEDGER).fetchall()
    finally:
        con.close()


# Two towns and every department: each kind of sheet and every county indicator, in a third of
# the county's files (the killed passes run side by side, a process each, on two cores).
UNITS = cat.towns()[:2] + cat.departments()


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    """2019Q1-Q2 arrive first, 2019Q3-Q4 in the pass that is killed."""
    root = tmp_path_factory.mktemp("workbooks")
    return (generate(root / "first", ("2019Q1", "2019Q2"), UNITS),
            generate(root / "second", ("2019Q3", "2019Q4"), UNITS))


@pytest.fixture(scope="module")
def reference(workbooks, tmp_path_factory, prefect_harness):
    """The totals of passes never interrupted."""
    root = tmp_path_factory.mktemp("reference")
    first, second = workbooks
    inbox = root / "inbox"
    inbox.mkdir()
    for path in first:
        shutil.copy2(path, inbox)
    run_pass(inbox, root / "warehouse")
    for path in second:
        shutil.copy2(path, inbox)
    run_pass(inbox, root / "warehouse")
    return snapshot(root / "warehouse")


def first_half_loaded_second_half_arrived(workbooks, tmp_path: Path) -> tuple[Path, Path, tuple]:
    """A warehouse that holds 2019Q1-Q2, an inbox where 2019Q3-Q4 just arrived, and the
    warehouse's figures before the next pass."""
    first, second = workbooks
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    inbox.mkdir(parents=True)
    for path in first:
        shutil.copy2(path, inbox)
    run_pass(inbox, warehouse)
    before = snapshot(warehouse)
    for path in second:
        shutil.copy2(path, inbox)
    return inbox, warehouse, before


def api_env(**extra: str) -> dict:
    """The child process talks to the test harness's Prefect server instead of starting one."""
    from prefect.settings import PREFECT_API_URL
    return {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), **extra}


@pytest.fixture(scope="module")
def killed_passes(workbooks, tmp_path_factory, prefect_harness) -> dict:
    """For every failpoint, a warehouse holding 2019Q1-Q2 whose next pass (2019Q3-Q4 arrived) was
    killed there with SIGKILL. The killed passes run side by side: each is its own process."""
    root = tmp_path_factory.mktemp("killed")
    inbox, warehouse, before = first_half_loaded_second_half_arrived(workbooks, root / "template")
    runs = {}
    for point in POINTS:
        shutil.copytree(root / "template", root / point, symlinks=True)
        where = ["--inbox", str(root / point / "inbox"), "--warehouse", str(root / point / "warehouse")]
        runs[point] = subprocess.Popen([sys.executable, "-m", "huizong.cli", "run", *where],
                                       env=api_env(HUIZONG_FAILPOINT=point), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
    results = {point: (proc.wait(timeout=600), proc.stderr.read()) for point, proc in runs.items()}
    return {point: (root / point / "inbox", root / point / "warehouse", before, *results[point])
            for point in POINTS}


@pytest.mark.parametrize("point", POINTS)
def test_a_pass_killed_at_any_point_loses_nothing(point, killed_passes, reference):
    inbox, warehouse, before, returncode, stderr = killed_passes[point]
    assert returncode == -9, stderr[-2000:]
    published = snapshot(warehouse)
    if point == "after_replace":  # killed after the swap: the new warehouse is whole and in place
        assert published == reference
    else:
        assert published == before

    summary = run_pass(inbox, warehouse, write_summary=True)  # the next pass is not blocked and completes
    assert snapshot(warehouse) == reference
    # its reports are written, also after a kill between publishing and reporting
    assert summary.reports and (warehouse / "reports" / ".build").exists()
    assert not (warehouse / ".build" / "huizong.duckdb").exists()
    assert not (warehouse / "reports" / ".drafts").exists()  # a killed pass's drafts: never put in place


ANALYST = textwrap.dedent("""
    import json, sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    import os
    held = duckdb.connect(path, read_only=True)  # held open through the whole pass
    first = held.execute("select count(*) from ops.imports").fetchall()[0][0]
    seen = set()
    while not os.path.exists(stop):
        assert held.execute("select count(*) from ops.imports").fetchall()[0][0] == first
        fresh = duckdb.connect(path, read_only=True)
        n, loaded = fresh.execute(
            "select count(*), count(*) filter (where status = 'loaded') from ops.imports").fetchall()[0]
        totals = fresh.execute("select count(*) from marts.county_totals").fetchall()[0][0]
        fresh.close()
        seen.add((n, loaded, totals))
        time.sleep(0.01)
    print(json.dumps(sorted(seen)))
""")


def test_an_analyst_reading_through_a_pass(workbooks, tmp_path, prefect_harness):
    inbox, warehouse, _ = first_half_loaded_second_half_arrived(workbooks, tmp_path)
    stop = tmp_path / "stop"
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(warehouse / "huizong.duckdb"), str(stop)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        summary = run_pass(inbox, warehouse)
    finally:
        stop.touch()
        out, err = analyst.communicate(timeout=60)
    assert analyst.returncode == 0, err
    assert {f["status"] for f in summary.files} == {"loaded"}
    # every state the analyst saw was a whole pass: before it (10 files) or after it (20 files);
    # one year of 57 numeric indicators in the county totals either way
    assert len(workbooks[0]) == len(workbooks[1]) == 10  # 5 units, 2 quarters
    seen = {tuple(s) for s in json.loads(out)}
    assert seen and seen <= {(10, 10, 57), (20, 20, 57)}


def test_publish_without_a_build_never_replaces_the_warehouse(tmp_path):
    from huizong.store import warehouse as wh
    published = tmp_path / "huizong.duckdb"
    duckdb.connect(str(published)).execute("create table t as select 42 as x").close()
    before = published.read_bytes()
    with pytest.raises(FileNotFoundError):  # say, a retry after the swap already happened
        wh.publish(wh.build_path(tmp_path), tmp_path)
    assert published.read_bytes() == before


def test_a_failing_data_check_fails_the_pass_and_publishes_nothing(workbooks, tmp_path, prefect_harness):
    inbox, warehouse, before = first_half_loaded_second_half_arrived(workbooks, tmp_path)
    published = warehouse / "huizong.duckdb"
    # Someone wrote into the warehouse by hand: a value for an indicator the catalog lacks.
    con = duckdb.connect(str(published))
    con.execute("insert into raw.submitted_values select sha256, unit_code, 'X99', 1, null, sheet, cell "
                "from raw.submitted_values limit 1")
    con.close()
    tampered = published.read_bytes()

    failed = subprocess.run([sys.executable, "-m", "huizong.cli", "run", "--inbox", str(inbox),
                             "--warehouse", str(warehouse)], env=api_env(),
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "assert_codes_in_registry" in failed.stdout + failed.stderr
    assert published.read_bytes() == tampered, "nothing published"
    assert snapshot(warehouse)[1] == before[1], "the new files are not in the ledger"
    assert not (warehouse / ".build" / "huizong.duckdb").exists()


FILE_SIZE_LIMIT = textwrap.dedent("""
    import resource, runpy, signal, sys
    limit = int(sys.argv.pop(1))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    sys.argv[0] = "huizong"
    runpy.run_module("huizong.cli", run_name="__main__")
""")


def test_a_pass_that_runs_out_of_space_leaves_the_warehouse_as_it_was(workbooks, reference, tmp_path,
                                                                      prefect_harness):
    """A full disk, approximated by a limit on the size of any file the pass writes: the build
    copy of the warehouse cannot grow. DuckDB reports it as a fatal error, which is not retried:
    the pass fails with exit 1."""
    inbox, warehouse, before = first_half_loaded_second_half_arrived(workbooks, tmp_path)
    published = warehouse / "huizong.duckdb"
    limit = published.stat().st_size + 64 * 1024
    full = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT, str(limit), "run", "--inbox", str(inbox),
                           "--warehouse", str(warehouse)], env=api_env(),
                          capture_output=True, text=True, timeout=300)
    assert full.returncode == 1, full.stdout[-2000:] + full.stderr[-2000:]
    assert "File too large" in full.stdout + full.stderr  # EFBIG: the limit, not another fault
    assert snapshot(warehouse) == before
    run_pass(inbox, warehouse)  # with room again, the next pass completes
    assert snapshot(warehouse) == reference


def test_only_faults_that_can_pass_are_retried():
    from prefect.states import Failed

    from huizong.flows.tasks import is_transient

    def retried(exc: BaseException) -> bool:
        return is_transient(None, None, Failed(data=exc))

    assert retried(OSError(28, "No space left on device"))
    assert retried(duckdb.IOException("could not write"))
    assert not retried(FileNotFoundError(2, "gone"))
    assert not retried(ValueError("a bug"))
