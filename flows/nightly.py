"""The nightly consolidation pass: discover -> read and validate -> load -> build models -> publish.

Per-file work returns an outcome value instead of raising, every future is waited on, and bad
input is a `rejected` row, never a failed task (RELIABILITY.md, Prefect failure semantics).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
from prefect import flow, task, get_run_logger
from prefect.cache_policies import NO_CACHE

from huizong import feedback, models, warehouse as wh
from huizong.files import is_ignored, sha256_of
from huizong.validation import Outcome, validate_batch
from huizong.workbook import read_submission

BATCH_SIZE = 200  # files per read-and-validate task: one pandera call per batch, not per file


@task(cache_policy=NO_CACHE)
def discover(inbox: Path, warehouse: Path) -> tuple[list[dict], int]:
    """New files in the inbox (by content hash), and how many were already received."""
    known = wh.known_hashes(warehouse)
    new, seen, skipped = [], set(), 0
    for path in sorted(p for p in inbox.iterdir() if not is_ignored(p)) if inbox.exists() else []:
        sha = sha256_of(path)
        if sha in known or sha in seen:
            skipped += 1
            continue
        seen.add(sha)
        received = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
        new.append({"path": path, "file_name": path.name, "sha256": sha, "received_at": received})
    get_run_logger().info("inbox %s: %d new file(s), %d already received", inbox, len(new), skipped)
    return new, skipped


@task(cache_policy=NO_CACHE)
def read_and_validate(files: list[dict]) -> tuple[list[Outcome], pd.DataFrame]:
    """Read a batch of workbooks and validate them with one pandera call."""
    logger = get_run_logger()
    subs = []
    for f in files:
        logger.info("reading %s", f["file_name"])
        subs.append(read_submission(f["path"], f["sha256"], f["file_name"]))
    return validate_batch(subs)


@task(cache_policy=NO_CACHE)
def write_feedback(warehouse: Path, files: list[dict], outcomes: list[Outcome]) -> dict[str, str]:
    """A marked-up workbook and a text for each rejected file; returns their paths by sha256."""
    paths = {f["sha256"]: f["path"] for f in files}
    written = {}
    for o in outcomes:
        if not o.ok:
            stem = feedback.write_feedback(paths[o.sha256], o.file_name, o.unit_code, o.period,
                                           o.problems, warehouse)
            written[o.sha256] = str(stem)
            get_run_logger().info("feedback for %s: %s.xlsx", o.file_name, stem)
    return written


@task(cache_policy=NO_CACHE)
def load(warehouse: Path, files: list[dict], outcomes: list[Outcome],
         values: pd.DataFrame) -> tuple[Path, list[dict]]:
    """Keep a copy of each file, then record every file in a private build of the warehouse."""
    for f in files:
        f["archive_path"] = wh.archive_file(f["path"], warehouse, f["sha256"])
    build = wh.start_build(warehouse)
    recorded = wh.record_imports(build, files, outcomes, values)
    logger = get_run_logger()
    for r in recorded:
        reason = f": {r['first_reason']}" if r["first_reason"] else ""
        logger.info("%s %s (%s %s)%s", r["status"], r["file_name"], r["unit_code"], r["period"], reason)
    return build, recorded


@task(cache_policy=NO_CACHE)
def build_models(build: Path) -> list[str]:
    """Rebuild every SQL model and run the checks; a failed check fails the pass."""
    con = duckdb.connect(str(build))
    try:
        built = models.build_models(con)
        failed = models.run_checks(con)
    finally:
        con.close()
    if failed:
        raise RuntimeError(f"data checks failed: {failed}")
    get_run_logger().info("built %d models", len(built))
    return built


@task(cache_policy=NO_CACHE)
def publish(build: Path, warehouse: Path) -> None:
    """Swap the build in for the published warehouse."""
    wh.publish(build, warehouse)
    get_run_logger().info("published %s", wh.published_path(warehouse))


@flow(name="huizong-nightly")
def nightly(inbox: Path = Path("inbox"), warehouse: Path = Path("warehouse"),
            batch_size: int = BATCH_SIZE) -> dict:
    """One consolidation pass over `inbox` into `warehouse`; returns what happened to each file."""
    inbox, warehouse = Path(inbox).resolve(), Path(warehouse).resolve()
    with wh.pass_lock(warehouse):
        new, skipped = discover(inbox, warehouse)
        if not new:
            return {"files": [], "skipped": skipped}
        batches = [new[i:i + batch_size] for i in range(0, len(new), batch_size)]
        futures = [read_and_validate.submit(b) for b in batches]
        results = [f.result() for f in futures]
        outcomes = [o for batch_outcomes, _ in results for o in batch_outcomes]
        values = pd.concat([v for _, v in results], ignore_index=True)
        written = write_feedback(warehouse, new, outcomes)
        for f in new:
            f["feedback_path"] = written.get(f["sha256"])
        build, recorded = load(warehouse, new, outcomes, values)
        build_models(build)
        publish(build, warehouse)
        return {"files": recorded, "skipped": skipped}
