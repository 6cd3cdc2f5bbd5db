"""Reruns: import again exactly the versions named, then rebuild and publish.

Office staff use it after a town corrects a file or after the registry or catalog changed.
A rerun reads only the files it names (archived copies of recorded versions, plus matching new
files in the inbox), so its cost does not grow with the rest of the warehouse; importing the same
versions again gives the same ledger and totals (idempotent). A version already checked valid
under the current rules (`huizong/store/versions.py`) gives the same values again, so it is not read
unless `force` says so: its values are in the warehouse. With nothing to read, nothing is
rebuilt or published. Like a pass, a rerun first lets in the versions an unlock released
(flows/unlocking.py), whatever it names.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from huizong.bulkheads import isolation
from huizong.core import clock
from huizong.core.files import display_name, sha256_of
from huizong.core.settings import SETTLE_SECONDS
from huizong.core.vocabulary import VALID_VERSION_STATUSES
from huizong.flows.reporting import prepare_reports, reports_after_publish
from huizong.flows.result import PassResult
from huizong.flows.tasks import discover, report_artifacts
from huizong.flows.unlocking import let_in_released
from huizong.store import locks
from huizong.store import warehouse as wh
from huizong.store.versions import rules_version


@task(cache_policy=NO_CACHE)
def select_recorded(warehouse: Path, failed: bool, unit: str | None, period: str | None,
                    shas: list[str], year: int | None = None) -> list[dict]:
    """Recorded versions matching the rerun, each with its archived copy to read."""
    con = wh.connect_read_only(warehouse)
    if con is None:
        return []
    try:
        return wh.recorded_versions(con, wh.setup_sql("rerun_selection.sql"),
                                    {"failed": failed, "unit": unit, "period": period, "shas": shas, "year": year},
                                    warehouse=warehouse)
    finally:
        con.close()


def is_due(f: dict, force: bool) -> bool:
    """Whether a rerun must read this version: new, rejected, or checked under other rules."""
    checked_valid = f.get("status") in VALID_VERSION_STATUSES
    return force or not checked_valid or f.get("rules_version") != rules_version()


@flow(name="huizong-rerun", task_runner=ThreadPoolTaskRunner(max_workers=isolation.default_size()))  # as nightly
def rerun(warehouse: Path = Path("warehouse"), inbox: Path = Path("inbox"), failed: bool = False,
          unit: str | None = None, period: str | None = None, paths: list[Path] | None = None,
          force: bool = False, settle_seconds: float = SETTLE_SECONDS, write_summary: bool = True,
          year: int | None = None) -> PassResult:
    """Import again what is named: rejected versions, a unit's, a quarter's or a year's, or given files."""
    logger = get_run_logger()
    inbox, warehouse = Path(inbox).resolve(), Path(warehouse).resolve()
    with wh.pass_lock(warehouse), isolation.released_at_end():
        pool = isolation.shared_pool()  # a rerun reads: its workers start while it looks around
        named = [Path(p).resolve() for p in paths or []]
        shas = [sha256_of(p) for p in named]
        # what an unlock released goes in first, as at the start of a pass: whatever the rerun
        # names, no version of an unlocked year stays held (a named one is then in force already)
        let_in, reread = let_in_released(warehouse)
        recorded = select_recorded(warehouse, failed, unit, period, shas, year)
        # A rerun never changes a quarter of a signed-off year: its recorded versions are held
        # as they are (new files for it are recorded, as `locked`: huizong/office/signoff.py).
        locked = locks.locked_years_of(warehouse)
        held = {f["sha256"] for f in recorded if locks.year_of(f["period"]) in locked}
        for year in sorted({locks.year_of(f["period"]) for f in recorded if f["sha256"] in held}):
            logger.warning("rerun: %s: its recorded versions are left as they are; "
                           "huizong unlock --year %d --by NAME --reason TEXT reopens it", locked[year].says(), year)
        files = {f["sha256"]: f for f in recorded if f["sha256"] not in held}
        arriving: list[str] = []
        if unit or period or year:  # a town's corrected file may be waiting in the inbox
            found = discover(inbox, warehouse, settle_seconds)
            arriving = found["arriving"]
            # which new files are the unit's or the quarter's: their covers, read by a worker
            covers = pool.covers([f["path"] for f in found["new"]])
            files.update({f["sha256"]: f for f, (file_unit, file_period) in zip(found["new"], covers)
                          if (unit is None or file_unit == unit) and (period is None or file_period == period)
                          and (year is None or (file_period is not None and locks.year_of(file_period) == year))})
        seen_at = clock.now()
        for path, sha in zip(named, shas):
            if sha not in files and sha not in held:
                modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
                files[sha] = {"path": path, "file_name": display_name(path.name), "sha256": sha,
                              "received_at": min(modified, seen_at), "first_seen_at": seen_at,
                              "inbox_path": display_name(path.name), "status": "received",
                              "size_bytes": path.stat().st_size, "modified_at": modified}
        chosen = sorted(files.values(), key=lambda f: (f["received_at"], f["file_name"]))
        due = [f for f in chosen if is_due(f, force)]
        unchanged = len(chosen) - len(due)
        due += [f for f in reread if f["sha256"] not in files]  # let in, checked under other rules
        logger.info("rerun: %d file(s) to import again, %d valid under the same rules left as they are",
                    len(due), unchanged)
        done, problems, reports, report_error, drafts = [], [], [], None, None
        if due:
            if write_summary:
                prepare_reports(pool)
            from huizong.flows.importing import import_files  # pandas and duckdb: only when reading

            done, problems, drafts = import_files(due, warehouse, draft_reports=write_summary)
        done = list({r["sha256"]: r for r in [*let_in, *done]}.values())
        if done and write_summary:
            reports, report_error = reports_after_publish(warehouse, drafts)
        report_artifacts(done, 0, arriving, unchanged=unchanged, reports=reports, report_error=report_error,
                         problems=problems)
        return PassResult(files=done, problems=problems, unchanged=unchanged, held=len(held), arriving=arriving,
                          reports=reports, report_error=report_error)


def rerun_deployment(inbox: Path, warehouse: Path):
    """A rerun on demand, beside the nightly: staff who live in the Prefect UI rerun a town's
    failed import from its Run form (unit, period, failed, force); no schedule, one at a time."""
    return rerun.to_deployment(
        name="rerun",
        parameters={"inbox": str(Path(inbox).resolve()), "warehouse": str(Path(warehouse).resolve()),
                    "failed": False, "unit": None, "period": None, "year": None, "force": False},
        concurrency_limit=1,
        description="huizong rerun: import again a unit's quarter (unit, period), every rejected file "
                    "(failed) or, with force, what is valid under the current rules too",
        tags=["huizong"],
    )
