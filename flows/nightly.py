"""The nightly consolidation pass: discover -> read and validate -> load -> build models -> publish
-> write the annual summary."""
from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.schedules import Cron

from flows.reporting import reports_after_publish
from flows.tasks import BATCH_SIZE, SETTLE_SECONDS, discover, report_artifacts
from huizong import warehouse as wh
from huizong.rules import models_version


# One thread: batches in concurrent threads were no faster (the GIL) and held every batch's
# frames in memory at once (measured: 1 GiB against 0.8 at 2,000 workbooks). Dask: runners.py.
@flow(name="huizong-nightly", task_runner=ThreadPoolTaskRunner(max_workers=1))
def nightly(inbox: Path = Path("inbox"), warehouse: Path = Path("warehouse"),
            batch_size: int = BATCH_SIZE, settle_seconds: float = SETTLE_SECONDS) -> dict:
    """One consolidation pass over `inbox` into `warehouse`; returns what happened to each file."""
    inbox, warehouse = Path(inbox).resolve(), Path(warehouse).resolve()
    with wh.pass_lock(warehouse):
        new, skipped, arriving = discover(inbox, warehouse, settle_seconds)
        recorded, reports, report_error, rebuilt = [], [], None, False
        if new:
            from flows.importing import import_files  # pandas, pandera, openpyxl: only when needed

            recorded = import_files(new, warehouse, batch_size=batch_size)
        elif wh.built_models_version(warehouse) not in (None, models_version()):
            from flows.importing import rebuild_models

            rebuild_models(warehouse)
            rebuilt = True
        if recorded or rebuilt:  # something was published: the summary may have changed
            reports, report_error = reports_after_publish(warehouse)
        report_artifacts(recorded, skipped, arriving, reports=reports, report_error=report_error)
        return {"files": recorded, "skipped": skipped, "arriving": arriving, "rebuilt": rebuilt,
                "reports": reports, "report_error": report_error}


NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Asia/Shanghai"


def nightly_deployment(inbox: Path, warehouse: Path, cron: str = NIGHTLY_CRON,
                       timezone: str = NIGHTLY_TIMEZONE):
    """The scheduled nightly pass: one run at a time, on absolute paths."""
    return nightly.to_deployment(
        name="nightly",
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"inbox": str(Path(inbox).resolve()), "warehouse": str(Path(warehouse).resolve())},
        concurrency_limit=1,
        description="huizong's nightly consolidation pass",
        tags=["huizong"],
    )
