"""Importing files: read and validate in batches, feedback, load, rebuild the models, publish."""
from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from huizong.bulkheads import isolation
from huizong.core import progress
from huizong.core.failpoints import failpoint
from huizong.core.settings import BATCH_SIZE
from huizong.core.vocabulary import VERSION_STATUSES
from huizong.flows.tasks import IO_TASK, copy_arrival, log_files
from huizong.intake.problems import Outcome
from huizong.store import ledger, models
from huizong.store import warehouse as wh
from huizong.store.versions import models_version


@task(cache_policy=NO_CACHE)
def read_and_validate(warehouse: Path, files: list[dict]) -> tuple[list[Outcome], pd.DataFrame]:
    """Keep a copy of each file of the batch, then read, check and validate the copies in a
    worker process (huizong.bulkheads.isolation), which also writes the feedback of each rejected one
    under the warehouse (on Dask, workers share its folder). A file that kills its worker is
    rejected as unreadable; the batch goes on."""
    logger = get_run_logger()
    jobs = []
    for i, f in enumerate(files):
        # The kept copy is what is read: the inbox file may change or go while we work.
        kept = wh.archive_file(f["path"], warehouse, f["sha256"])
        if i == len(files) // 2:
            failpoint("mid_archive")
        if kept is None:
            logger.warning("%s changed or went since it was found: left for the next pass", f["file_name"])
            continue
        jobs.append({"read_path": warehouse / kept, "sha256": f["sha256"], "file_name": f["file_name"],
                     "archive_path": str(kept)})
    outcomes, values = isolation.shared_pool().read(jobs, warehouse)
    archived = {j["sha256"]: j["archive_path"] for j in jobs}
    for o in outcomes:
        o.archive_path = archived[o.sha256]
    rejected = sum(not o.ok for o in outcomes)
    logger.info("read %d file(s): %d valid, %d rejected", len(outcomes), len(outcomes) - rejected, rejected)
    failpoint("after_feedback")
    return outcomes, values


@task(**IO_TASK)
def load(build: Path, shas: list[str], arrivals: list[dict]) -> quote:
    """Once every batch of the pass is recorded in its private build (`record_batch`, as each is
    read): its arrivals, the warnings of its versions, one row per file, and the problems grouped
    by rule and unit (`ledger.finish_imports`)."""
    ledger.record_arrivals(build, arrivals)
    recorded, problems = ledger.finish_imports(build, shas) if shas else ([], [])
    ledger.forget_copies_of_nothing(build)  # a copy of a file that went or changed unread
    counts = {s: sum(r["status"] == s for r in recorded) for s in VERSION_STATUSES}
    get_run_logger().info("recorded %s", ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return quote((recorded, problems))


COLLECT_EVERY = 200  # files (about 8 MB of values and outcomes)


class Recorder:
    """Enters each batch into the pass's private build as soon as it is read; of a batch the pass
    keeps only each file's kept copy and feedback (on its file's dict): the values go into the
    build and are let go, so a pass's memory follows a batch, not the inbox. The build is started
    at the first batch (the copy of the published warehouse is made while the workers read)."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse, self.build = warehouse, None
        self.batches = 0  # recorded so far
        self.uncollected = 0  # files of the batches recorded since the last full collection

    def start(self) -> Path:
        if self.build is None:
            self.build = ledger.start_build(self.warehouse)
        return self.build

    def batch(self, files: list[dict], outcomes: list[Outcome], values: pd.DataFrame) -> None:
        by_sha = {o.sha256: o for o in outcomes}
        read = [f for f in files if f["sha256"] in by_sha]
        for f in read:
            f["archive_path"], f["feedback_path"] = by_sha[f["sha256"]].archive_path, by_sha[f["sha256"]].feedback_path
        if read:
            ledger.record_batch(self.start(), read, outcomes, values)
            self.batches += 1
            if self.batches == 1:
                failpoint("mid_load")  # the crash tests: a batch recorded, the pass's others not yet
        # A batch's values and outcomes are often held by reference cycles (Prefect's states and
        # futures of its task run), which only a full collection frees; left to Python's own
        # pace, the pass would hold every batch it read (about 40 KB a workbook). A full
        # collection walks every object of the process (a quarter of a second with Prefect
        # loaded): one per COLLECT_EVERY files, not per batch, holds at most a few MB.
        self.uncollected += len(files)
        if self.uncollected >= COLLECT_EVERY:
            gc.collect()
            self.uncollected = 0


@task(cache_policy=NO_CACHE)
def build_models(build: Path, warehouse: Path | None = None, drafts: str | None = None) -> str | None:
    """Rebuild every SQL model and run the checks; a failed check fails the pass. With `drafts`
    (a name), the pass's reports are drafted from the build under that name while its checks
    run, to be put in place once it is published (flows/reporting.py); returns the name if they
    were. A draft that fails is only said: the reports are then written after publishing."""
    from concurrent.futures import ThreadPoolExecutor

    from huizong.flows.reporting import discard_drafts, draft_reports, workers_write_both

    con = wh.connect_build(build)
    drafter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huizong-draft")
    drafting = None
    try:
        built, declarations = models.create_models(con)
        failpoint("mid_models")
        # the build's row, which the reports read (a build that fails its checks is never published)
        con.execute("insert into ops.builds values (now(), ?)", [models_version()])
        if drafts and warehouse is not None and workers_write_both(isolation.running_pool()):
            drafting = drafter.submit(draft_reports, con.cursor(), warehouse, drafts)
        models.apply_docs(con, declarations)
        failpoint("mid_checks")
        failed = models.run_checks(con)
    except KeyboardInterrupt:
        # stopped (Ctrl-C, SIGTERM): the process ends at once, without waiting for the drafts,
        # and the build stays open under them (the pass discards it; its drafts are never placed)
        drafter.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        drafter.shutdown()
        if drafting is not None:
            discard_drafts(warehouse)
        con.close()
        raise
    drafter.shutdown()  # the drafts' data is read, or failed, before the build is closed: they read it
    con.close()
    drafted = drafting is not None and drafting.exception() is None
    if drafting is not None and not drafted and not failed:
        get_run_logger().warning("the reports were not drafted (%s): they are written after publishing",
                                 drafting.exception())
    if drafting is not None and (failed or not drafted):
        discard_drafts(warehouse)
    if failed:
        raise RuntimeError(f"data checks failed, nothing published: {'; '.join(map(str, failed))}")
    get_run_logger().info("built %d models", len(built))
    failpoint("after_models")
    return drafts if drafted else None


@task(**IO_TASK)
def publish(build: Path, warehouse: Path) -> None:
    """Swap the build in for the published warehouse."""
    wh.publish(build, warehouse)
    get_run_logger().info("published %s", wh.published_path(warehouse))


def batches_of(files: list[dict], batch_size: int, workers: int) -> list[list[dict]]:
    """Batches of at most `batch_size`, and at least one per worker so that every core reads."""
    size = max(1, min(batch_size, -(-len(files) // workers)))
    return [files[i:i + size] for i in range(0, len(files), size)]


def import_files(files: list[dict], warehouse: Path, *, batch_size: int = BATCH_SIZE,
                 arrivals: list[dict] = (), draft_reports: bool = False
                 ) -> tuple[list[dict], list[dict], str | None]:
    """Read, validate, load, rebuild and publish `files`, and record `arrivals` (copies and
    refused files of the pass); called inside a flow. Returns one row per file recorded, the
    pass's problems grouped by rule and by unit (`sql/setup/pass_problems.sql`), and, with
    `draft_reports`, the name of the reports drafted from the build (`build_models`), if any."""
    recorder = Recorder(warehouse)
    try:
        files, arrivals = read_each_version(files, warehouse, batch_size, list(arrivals), recorder)
        # a file that arrived now (not a recorded version read again by a rerun) is an arrival too
        arrivals += [{k: f[k] for k in ARRIVAL_KEYS} for f in files if "inbox_path" in f]
        if not files and not arrivals:
            return [], [], None
        # quote(): Prefect would otherwise walk every row and problem of the pass looking for
        # futures (about 1.5 s for 2,000 workbooks); these are plain data.
        recorded, problems = load(recorder.start(), quote([f["sha256"] for f in files]), quote(arrivals)).unquote()
        drafts = None
        if files:
            drafts = build_and_publish(recorder.build, warehouse, draft_reports)
        else:  # only copies or refused files to record: the marts are unchanged
            publish(recorder.build, warehouse)
    finally:
        wh.discard_build(warehouse)  # after a failure or a stop (Ctrl-C), free the disk; after publish, a no-op
    log_files(warehouse, recorded, arrivals)
    return recorded, problems, drafts


def read_each_version(files: list[dict], warehouse: Path, batch_size: int, arrivals: list[dict],
                      recorder: Recorder) -> tuple[list[dict], list[dict]]:
    """Read `files` in batches, each recorded by `recorder` as it comes; a file that went or
    changed before it was kept is read from a twin of it (a byte-identical copy that arrived in the
    same pass, `discover`), which is then received under its own name and no longer a copy.
    Returns the files read (twins in place of the files they stand for) and the arrivals left to
    record."""
    read_files, round_ = [], files
    while round_:
        batches = batches_of(round_, batch_size, isolation.default_size())
        get_run_logger().info("reading %d file(s) in %d batch(es)", len(round_), len(batches))
        progress.emit(progress.Reading(len(round_)))
        futures = [(b, read_and_validate.submit(warehouse, b)) for b in batches]
        read: set[str] = set()
        while futures:  # in order, each let go once recorded: its values live in the build only
            batch, future = futures.pop(0)
            outcomes, values = future.result()
            del future
            progress.emit(progress.Read(len(outcomes), sum(not o.ok for o in outcomes)))
            recorder.batch(batch, outcomes, values)
            read |= {o.sha256 for o in outcomes}
            del outcomes, values
        read_files += [f for f in round_ if f["sha256"] in read]
        round_ = [stand_in(f) for f in round_ if f["sha256"] not in read and f.get("twins")]
        arrivals = [copies_of(round_, a) for a in arrivals]
        arrivals = [a for a in arrivals if a is not None]
        for f in round_:
            get_run_logger().info("%s is read instead: the same bytes", f["file_name"])
    return read_files, arrivals


def stand_in(f: dict) -> dict:
    """The first twin of file `f`, to be received in its place (f changed or went before it
    was kept); the other twins stand in if this one goes too."""
    twin, *others = f["twins"]
    return {**twin, "status": "received", "file_name": twin["inbox_path"], "twins": others}


def copies_of(stand_ins: list[dict], arrival: dict) -> dict | None:
    """An arrival again once `stand_ins` are received instead of their files: None for a stand-in
    itself (it is received, not a copy), a copy of the stand-in for its other twins."""
    for f in stand_ins:
        if arrival["status"] == "copy" and arrival["sha256"] == f["sha256"]:
            return None if arrival["inbox_path"] == f["inbox_path"] else copy_arrival(arrival, f["inbox_path"])
    return arrival


ARRIVAL_KEYS = ("inbox_path", "sha256", "status", "size_bytes", "modified_at", "first_seen_at")


@task(**IO_TASK)
def start_rebuild(warehouse: Path) -> Path:
    """A private copy of the published warehouse with the current catalog's seeds."""
    return ledger.start_build(warehouse)


def build_and_publish(build: Path, warehouse: Path, draft_reports: bool = False) -> str | None:
    """Models and checks on the build (and drafts of the reports: their name is returned, if
    they were drafted), then the swap; the build is gone either way."""
    import uuid

    try:
        drafts = build_models(build, warehouse, uuid.uuid4().hex if draft_reports else None)
        publish(build, warehouse)
    finally:
        wh.discard_build(warehouse)  # after a failure, free the disk; after publish, a no-op
    return drafts


def rebuild_models(warehouse: Path, draft_reports: bool = False) -> str | None:
    """The marts again from the recorded values, after the catalog or the SQL changed; the
    name of the reports drafted meanwhile, if any."""
    get_run_logger().info("the catalog or the SQL models changed since the last build: rebuilding")
    return build_and_publish(start_rebuild(warehouse), warehouse, draft_reports)
