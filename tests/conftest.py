"""Shared fixtures: Prefect's test harness, and real workbooks written by the demo generator."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield


def run_pass(inbox, warehouse, **kwargs) -> dict:
    """The nightly flow as tests call it: files written a moment ago count as settled."""
    from flows.nightly import nightly

    return nightly(inbox=inbox, warehouse=warehouse, settle_seconds=0, **kwargs)


def query(warehouse, sql: str, params=None) -> list[tuple]:
    """A read-only query on a test warehouse, as an analyst would run it."""
    import duckdb

    con = duckdb.connect(str(warehouse / "huizong.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
