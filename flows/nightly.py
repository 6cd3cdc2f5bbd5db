"""The nightly consolidation pass: discover -> read and validate -> load -> build models -> publish
-> write the annual summary."""
from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.schedules import Cron
from prefect.task_runners import ThreadPoolTaskRunner

from huizong.bulkheads import isolation
from huizong.core.settings import BATCH_SIZE, SETTLE_SECONDS
from huizong.flows.reporting import prepare_reports, reminders_after_publish, reports_after_publish, reports_are_stale
from huizong.flows.result import Copy, PassResult, Refused
from huizong.flows.tasks import discover, report_artifacts
from huizong.flows.unlocking import let_in_released
from huizong.store import warehouse as wh
from huizong.store.versions import models_version


# Batches run in two threads of this process, each feeding one reading worker process
# (huizong/bulkheads/isolation.py): the threads only wait, the workers use the cores. Dask: runners.py.
@flow(name="huizong-nightly", task_runner=ThreadPoolTaskRunner(max_workers=isolation.default_size()))
def nightly(inbox: Path = Path("inbox"), warehouse: Path = Path("warehouse"),
            batch_size: int = BATCH_SIZE, settle_seconds: float = SETTLE_SECONDS,
            write_summary: bool = True) -> PassResult:
    """One consolidation pass over `inbox` into `warehouse`; returns what happened to each file.
    `write_summary=False` leaves the annual summary and the reminders to a later pass (tests of
    other things)."""
    inbox, warehouse = Path(inbox).resolve(), Path(warehouse).resolve()
    # the reading workers (started by a pass that reads, or by `read_ahead`) write the reports'
    # Word files too, and are stopped at the end however the pass ends
    with wh.pass_lock(warehouse), isolation.released_at_end():
        found = discover(inbox, warehouse, settle_seconds)
        recorded, problems, reports, report_error, rebuilt, drafts = [], [], [], None, False, None
        # Versions held `locked` for a year unlocked since: in now, by the version rules, from
        # their recorded values; read again only if checked under other rules (as a rerun does).
        recorded, reread = let_in_released(warehouse)
        released = bool(recorded)
        new = found["new"] + reread
        if new or found["copies"] or found["refused"]:
            if new:
                pool = isolation.shared_pool()  # the workers start their imports while this process does its own
                if write_summary:
                    prepare_reports(pool)
            from huizong.flows.importing import import_files  # pandas and duckdb: only when needed

            imported, problems, drafts = import_files(new, warehouse, batch_size=batch_size,
                                                      arrivals=found["copies"] + found["refused"],
                                                      draft_reports=write_summary)
            recorded = list({r["sha256"]: r for r in [*recorded, *imported]}.values())
        elif not released and wh.built_models_version(warehouse) not in (None, models_version()):
            from huizong.flows.importing import rebuild_models

            drafts = rebuild_models(warehouse, draft_reports=write_summary)
            rebuilt = True
        # Something was published, or a pass was stopped after publishing and before its reports.
        if write_summary and (recorded or rebuilt or reports_are_stale(warehouse)):
            reports, report_error = reports_after_publish(warehouse, drafts)
        # the office's list of whom to chase for the latest quarter due, as of today
        reminders = reminders_after_publish(warehouse, bool(recorded or rebuilt)) if write_summary else None
        report_artifacts(recorded, found["skipped"], found["arriving"], reports=reports,
                         report_error=report_error, copies=found["copies"], refused=found["refused"],
                         problems=problems)
        return PassResult(files=recorded, problems=problems, skipped=found["skipped"], arriving=found["arriving"],
                          rebuilt=rebuilt, reports=reports, report_error=report_error, reminders=reminders,
                          copies=[Copy(c["inbox_path"], c["same_as"]) for c in found["copies"]],
                          refused=[Refused(r["inbox_path"], r["reason"]) for r in found["refused"]])


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
