"""A pass tells its progress as events (huizong.core.progress), which the command line's bar and
any other interface listen to: what it is about to read, then each batch read, with its
rejections. A real pass in Prefect's test harness on a tiny inbox."""
from __future__ import annotations

import os
import time

from conftest import run_pass

from huizong.core import progress
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat


def test_a_pass_tells_what_it_reads_as_events(prefect_harness, tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    towns = cat.towns()[:3]
    for town in towns:
        write_unit_workbook(inbox / f"{town.name}_2019Q1.xlsx", town, "2019Q1")
    (inbox / "broken.xlsx").write_bytes(b"not a workbook")
    for p in inbox.iterdir():
        os.utime(p, (time.time() - 3600,) * 2)

    heard: list[progress.Event] = []
    with progress.listening(heard.append):
        run_pass(inbox, warehouse, batch_size=2)
    assert heard[0] == progress.Reading(4)
    batches = heard[1:]
    assert all(isinstance(e, progress.Read) for e in batches) and len(batches) >= 2
    assert sum(e.files for e in batches) == 4 and sum(e.rejected for e in batches) == 1

    heard.clear()
    run_pass(inbox, warehouse)  # no listener: nothing heard, the pass unaffected
    assert heard == []
