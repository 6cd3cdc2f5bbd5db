"""The shipped demo inbox (the Quick start's) loads under the current catalog and registry: every
workbook in `inbox/` is loaded but the two resubmissions a clerk got wrong, on purpose
(huizong.outputs.demo.write_demo_inbox), and the county's figures are the generator's. A change
to `schemas/indicators.csv` or `units.csv` that the shipped workbooks no longer fit fails here,
before the Quick start rejects every demo file (regenerate them: `huizong demo --demo-inbox --out
inbox`). One real pass in Prefect's test harness, on a copy of the folder."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from conftest import query, run_pass

from huizong.outputs.demo import DEMO_PERIODS, true_value
from huizong.schemas import catalog as cat

ROOT = Path(__file__).resolve().parents[1]
FIRST, SECOND = cat.towns()[0], cat.towns()[1]
WRONG = {f"{FIRST.name}_2019Q3_更正.xlsx", f"{SECOND.name}_2019Q4(2).xlsx"}  # the clerks' mistakes


def test_the_shipped_demo_inbox_loads_under_the_current_catalog(prefect_harness, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    shutil.copytree(ROOT / "inbox", inbox)
    shipped = sorted(p.name for p in inbox.iterdir() if p.suffix == ".xlsx")
    assert len(shipped) == len(cat.submitters()) * len(DEMO_PERIODS) + 3  # 8 quarters, a correction, 2 mistakes
    settled = time.time() - 3600  # a fresh clone's files are as new as the clone: not still arriving
    for p in inbox.iterdir():
        os.utime(p, (settled, settled))

    summary = run_pass(inbox, warehouse)

    statuses = {f["file_name"]: f["status"] for f in summary.files}
    assert sorted(statuses) == shipped
    assert {name for name, status in statuses.items() if status == "rejected"} == WRONG
    replaced = f"{FIRST.name}_2019Q3.xlsx"  # by the correct correction, 城关镇_2019Q3_更正2.xlsx
    assert statuses[replaced] == "superseded"
    assert {status for name, status in statuses.items() if name not in WRONG | {replaced}} <= {"loaded", "late"}
    # a village figure of a town the shipped files do not correct, as the generator made it
    town = cat.towns()[4]
    village = cat.villages_of(town.code)[0]
    for period in DEMO_PERIODS:
        got = query(warehouse, "select value from marts.unit_quarter_values where unit_code = ? and period = ? "
                               "and indicator_code = 'V03'", [village.code, period])
        assert got == [(true_value(village.code, period, "V03"),)], period
