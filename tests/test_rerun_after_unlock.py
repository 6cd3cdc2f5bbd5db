"""Issue 22, item 3: after `huizong unlock`, a rerun lets in what the unlock released, as a pass
does, whatever the rerun names (--period, --unit, --failed, FILE..., --force). Real workbooks,
real passes and reruns in Prefect's test harness, HUIZONG_TODAY=2020-03-01. The expected figure
is computed here from the generator's values."""
from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from conftest import clock_at, query, run_pass

from huizong.flows.rerun import rerun
from huizong.office.signoff import sign_off, unlock
from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.schemas import catalog as cat

TODAY = "2020-03-01"
TOWN, OTHER = cat.towns()[1], cat.towns()[2]
VILLAGE = cat.villages_of(TOWN.code)[0]
CORRECTED_V03 = true_value(VILLAGE.code, "2019Q3", "V03") + 7
LEDGER = "select file_name, status from ops.imports order by file_name"


@pytest.fixture(autouse=True)
def office_date(monkeypatch):
    monkeypatch.setenv("HUIZONG_TODAY", TODAY)


@pytest.fixture(scope="module")
def unlocked(tmp_path_factory, prefect_harness):
    """2019 of one town signed off; then a correction of its 2019Q3 (held `locked`) and an invalid
    2019Q2 of another town (rejected) came; then 2019 was unlocked. No pass since."""
    root = tmp_path_factory.mktemp("unlocked")
    inbox, warehouse = root / "inbox", root / "warehouse"
    with clock_at(TODAY):
        for period in ("2019Q1", "2019Q2", "2019Q3", "2019Q4"):
            write_unit_workbook(inbox / f"{period}.xlsx", TOWN, period)
        run_pass(inbox, warehouse)
        sign_off(warehouse, 2019, "王五", force=True)  # the demo summary keeps its marks
        write_unit_workbook(inbox / "corrected_2019Q3.xlsx", TOWN, "2019Q3", {(VILLAGE.code, "V03"): CORRECTED_V03})
        write_unit_workbook(inbox / "invalid_2019Q2.xlsx", OTHER, "2019Q2",
                            {(cat.villages_of(OTHER.code)[0].code, "V03"): -1})
        held = run_pass(inbox, warehouse)
        assert {f["file_name"]: f["status"] for f in held.files} == {
            "corrected_2019Q3.xlsx": "locked", "invalid_2019Q2.xlsx": "rejected"}
        assert unlock(warehouse, 2019, "王五", "城关镇更正三季度").held == 1
    return root


def copy_of(unlocked, tmp_path):
    shutil.copytree(unlocked, tmp_path / "copy")
    return tmp_path / "copy" / "inbox", tmp_path / "copy" / "warehouse"


def corrected_in_force(warehouse) -> bool:
    """The correction is loaded and its figure is the one published for 2019Q3."""
    statuses = dict(query(warehouse, LEDGER))
    value = query(warehouse, "select value from marts.unit_quarter_values where unit_code = ? "
                             "and period = '2019Q3' and indicator_code = 'V03'", [VILLAGE.code])
    return (statuses["corrected_2019Q3.xlsx"], statuses["2019Q3.xlsx"], value) == (
        "loaded", "superseded", [(Decimal(CORRECTED_V03),)])


@pytest.mark.parametrize("selection", [
    {"period": "2019Q3"}, {"unit": TOWN.code}, {"failed": True}, {"paths": ["corrected_2019Q3.xlsx"]},
    {"period": "2019Q3", "force": True}, {"period": "2019Q1"}, {"unit": OTHER.code, "period": "2019Q2"},
], ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_a_rerun_lets_in_what_the_unlock_released(unlocked, tmp_path, selection):
    inbox, warehouse = copy_of(unlocked, tmp_path)
    if "paths" in selection:
        selection = {"paths": [inbox / p for p in selection["paths"]]}
    assert dict(query(warehouse, LEDGER))["corrected_2019Q3.xlsx"] == "locked"

    done = rerun(warehouse=warehouse, inbox=inbox, settle_seconds=0, write_summary=False, **selection)
    assert done.held == 0
    assert {f["file_name"]: f["status"] for f in done.files}["corrected_2019Q3.xlsx"] == "loaded"
    assert corrected_in_force(warehouse)


def test_a_rerun_leaves_the_ledger_a_pass_would(unlocked, tmp_path):
    """The rerun and the pass after the same unlock: the same ledger, the same year's summary."""
    inbox, warehouse = copy_of(unlocked, tmp_path)
    run_pass(inbox, warehouse)
    by_pass = query(warehouse, LEDGER)

    shutil.rmtree(tmp_path / "copy")
    inbox, warehouse = copy_of(unlocked, tmp_path)
    done = rerun(warehouse=warehouse, inbox=inbox, settle_seconds=0, write_summary=True, period="2019Q3")
    assert query(warehouse, LEDGER) == by_pass
    assert any(r.endswith("summary_2019.md") for r in done.reports)  # the reopened year's summary again
