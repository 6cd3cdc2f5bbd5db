"""Shared fixtures: Prefect's test harness, and real workbooks written by the demo generator."""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from huizong.outputs.demo import DEMO_PERIODS, generate, true_value
from huizong.schemas import catalog as cat

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The suite runs a hundred passes in one process: their reading workers are started once (and
# again whenever a test changes HUIZONG_TODAY or another setting they read), not per pass.
os.environ.setdefault("HUIZONG_KEEP_READERS", "1")


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # Prefect's default of 30 s to start is exceeded on a busy machine (RELIABILITY.md): minutes.
    # No flow heartbeats, as a pass from the command line has none (huizong/cli/passes.py): their
    # thread sleeps in whole seconds, and a flow's end waits for it (up to a second a pass).
    with prefect_test_harness(server_startup_timeout=600), \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        # the passes this session runs as commands (the command line's tests, the web page's
        # passes) reach this server too: each would otherwise start a temporary one of its own, a
        # few seconds of CPU. Tests of the temporary server take PREFECT_API_URL out of their env.
        os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
        try:
            yield
        finally:
            os.environ.pop("PREFECT_API_URL", None)


@contextmanager
def clock_at(day: str):
    """HUIZONG_TODAY set to `day` for the block (a module's fixture, where monkeypatch is not at
    hand), and back as it was after."""
    before = os.environ.get("HUIZONG_TODAY")
    os.environ["HUIZONG_TODAY"] = day
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HUIZONG_TODAY", None)
        else:
            os.environ["HUIZONG_TODAY"] = before


def run_pass(inbox, warehouse, **kwargs) -> dict:
    """The nightly flow as tests call it: files written a moment ago count as settled, and the
    annual summary is written only by the tests that test it (`write_summary=True`)."""
    from huizong.flows.nightly import nightly

    kwargs.setdefault("write_summary", False)
    return nightly(inbox=inbox, warehouse=warehouse, settle_seconds=0, **kwargs)


def fresh_warehouse():
    """A new in-memory warehouse: the ledger's tables, the catalog's seeds and the macros, no
    model built (`models.build_models(con)` builds them). For tests of the ledger, the models and
    the checks, which need no file read and no pass."""
    import duckdb

    from huizong.store import ledger

    con = duckdb.connect()
    ledger.prepare(con)
    return con


@pytest.fixture
def memory_warehouse():
    """`fresh_warehouse()` for one test, closed after it."""
    con = fresh_warehouse()
    yield con
    con.close()


def query(warehouse, sql: str, params=None) -> list[tuple]:
    """A read-only query on a test warehouse, as an analyst would run it."""
    import duckdb

    con = duckdb.connect(str(warehouse / "huizong.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# One town leaves out 2019Q4: its stocks and flags for 2019 must come from 2019Q3.
LATE_TOWN = cat.towns()[3]
MISSING = {(LATE_TOWN.code, "2019Q4")}


def expected_total(year: int, code: str, reporters: list[cat.Unit]) -> float | None:
    """FORM.md's year rule, written out plainly over the generator's values."""
    ind = cat.indicator_by_code()[code]
    total, any_valid = 0.0, False
    for rep in reporters:
        quarters = [p for p in DEMO_PERIODS if p.startswith(str(year)) and (rep.code, p) not in MISSING]
        if not quarters:
            continue
        any_valid = True
        holders = cat.villages_of(rep.code) if ind.sheet == cat.VILLAGE_SHEET else [rep]
        if ind.kind == "flow":
            total += sum(true_value(h.code, p, code) for h in holders for p in quarters)
        else:  # stock and flag: the latest valid quarter of the year
            total += sum(true_value(h.code, quarters[-1], code) for h in holders)
    return round(total, 2) if any_valid else None


def reporters_of(code: str) -> list[cat.Unit]:
    ind = cat.indicator_by_code()[code]
    return cat.towns() if ind.reported_by == "town" else [cat.unit_by_code()[ind.reported_by]]



@pytest.fixture(scope="session")
def county(tmp_path_factory, prefect_harness):
    """The whole demo county, 2018Q1-2019Q4, less one town's 2019Q4, after one pass."""
    root = tmp_path_factory.mktemp("county")
    inbox, warehouse = root / "inbox", root / "warehouse"
    generate(inbox)
    for unit_code, period in MISSING:
        (inbox / f"{cat.unit_by_code()[unit_code].name}_{period}.xlsx").unlink()
    summary = run_pass(inbox, warehouse)
    return inbox, warehouse, summary


def libreoffice_has(component: str) -> bool:
    """LibreOffice with the component that converts the file (Debian's libreoffice-writer-nogui
    and libreoffice-calc-nogui come apart; without Calc, soffice makes no PDF of a workbook)."""
    import shutil
    from pathlib import Path

    soffice = shutil.which("soffice")
    if not soffice:
        return False
    program = Path(soffice).resolve().parent
    return (program.parent / "share" / "registry" / f"{component}.xcd").exists()
