"""The per-batch work on a Dask LocalCluster of two workers gives the marts of the default runner."""
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
