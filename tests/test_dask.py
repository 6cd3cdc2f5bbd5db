"""The per-batch work on a Dask LocalCluster of two workers gives the marts of the default runner; a
Dask worker's readers end when idle (the real scheduler: test_dask_cluster.py)."""
from __future__ import annotations

from pathlib import Path

import duckdb

from huizong.flows.nightly import nightly
from huizong.flows.runners import LOCAL, with_runner
from huizong.outputs.demo import generate

TABLES = {
    "county_totals": "select * from marts.county_totals order by all",
    "town_totals": "select * from marts.town_totals order by all",
    "level_counts": "select * from marts.level_counts order by all",
    "ledger": "select file_name, unit_code, period, status, n_values, n_errors, first_reason "
              "from ops.imports order by all",
    "errors": "select sheet, cell, indicator_code, check_name, message from ops.import_errors order by all",
}


def marts(warehouse: Path) -> dict:
    con = duckdb.connect(str(warehouse / "huizong.duckdb"), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        con.close()


def test_dask_runner_gives_identical_marts(tmp_path: Path, prefect_harness):
    inbox = tmp_path / "inbox"
    generate(inbox, ("2019Q1", "2019Q2", "2019Q3"))
    (inbox / "broken.xlsx").write_text("not a workbook")
    default = nightly(inbox=inbox, warehouse=tmp_path / "default", batch_size=8, settle_seconds=0)
    on_dask = with_runner(nightly, LOCAL)(inbox=inbox, warehouse=tmp_path / "dask", batch_size=8,
                                          settle_seconds=0)
    assert len(on_dask.files) == len(default.files) == 40
    assert marts(tmp_path / "dask") == marts(tmp_path / "default")
    assert marts(tmp_path / "dask")["county_totals"]


def test_idle_readers_end_and_start_again(tmp_path: Path):
    """A pool with `idle_seconds` (a Dask worker's, isolation.shared_pool) ends its readers once
    no job came for that long, and starts as many again for the next job."""
    from huizong.bulkheads.isolation import ReaderPool
    from huizong.outputs.demo import write_unit_workbook
    from huizong.schemas import catalog as cat

    town = cat.towns()[0]
    path = write_unit_workbook(tmp_path / "城关镇_2019Q1.xlsx", town, "2019Q1")
    pool = ReaderPool(size=1, idle_seconds=1)
    try:
        assert pool.covers([path]) == [(town.code, "2019Q1")]
        first = pool._workers[0].proc
        first.wait(timeout=30)  # ended once idle, by the pool
        assert pool._retired and not pool._workers
        assert pool.covers([path]) == [(town.code, "2019Q1")]  # a reader again, a new one
        assert len(pool._workers) == 1 and pool._workers[0].proc.pid != first.pid
    finally:
        pool.close()
