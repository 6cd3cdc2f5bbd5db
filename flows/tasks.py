"""The tasks of a pass, shared by the nightly flow and reruns.

Per-file work returns an outcome value instead of raising, every future is waited on, and bad
input is a `rejected` row, never a failed task (RELIABILITY.md, Prefect failure semantics). Only
I/O tasks retry, and only on faults that can pass (a busy or full disk, a network share).
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from huizong import feedback, models, warehouse as wh
from huizong.failpoints import failpoint
from huizong.files import is_ignored, sha256_of
from huizong.validation import Outcome, validate_batch
from huizong.workbook import read_submission

BATCH_SIZE = 200  # files per read-and-validate task: one pandera call per batch, not per file
SETTLE_SECONDS = 2.0  # a file modified more recently than this may still be being copied


def is_transient(task, task_run, state) -> bool:
    """Retry I/O faults that can pass; never a bug or a missing file."""
    try:
        state.result()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return False
    except (OSError, duckdb.IOException):
        return True
    except Exception:
        return False
    return False


IO_TASK = dict(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10, retry_condition_fn=is_transient)


def _arrival(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@task(**IO_TASK)
def discover(inbox: Path, warehouse: Path,
             settle_seconds: float = SETTLE_SECONDS) -> tuple[list[dict], int, list[str]]:
    """New files in the inbox (by content hash), how many were already received, and the names
    of files still being copied in (their size or time changed between two looks)."""
    logger = get_run_logger()
    known = wh.known_hashes(warehouse)
    paths = sorted(p for p in inbox.iterdir() if not is_ignored(p)) if inbox.exists() else []
    first_look = {p: _arrival(p) for p in paths}
    if any(time.time() - mtime / 1e9 < settle_seconds for _, mtime in first_look.values()):
        time.sleep(settle_seconds)
    new, seen, skipped, arriving = [], set(), 0, []
    for path in paths:
        sha = sha256_of(path)
        if _arrival(path) != first_look[path]:
            arriving.append(path.name)
            logger.info("%s is still being copied in: left for the next pass", path.name)
            continue
        if sha in known or sha in seen:
            skipped += 1
            continue
        seen.add(sha)
        received = dt.datetime.fromtimestamp(first_look[path][1] / 1e9, dt.timezone.utc)
        new.append({"path": path, "file_name": path.name, "sha256": sha, "received_at": received})
    logger.info("inbox %s: %d new file(s), %d already received", inbox, len(new), skipped)
    failpoint("after_discover")
    return new, skipped, arriving


@task(cache_policy=NO_CACHE)
def read_and_validate(files: list[dict]) -> tuple[list[Outcome], pd.DataFrame]:
    """Read a batch of workbooks and validate them with one pandera call."""
    logger = get_run_logger()
    subs = []
    for f in files:
        logger.info("reading %s", f["file_name"])
        if not f["path"].is_file():  # gone since discovery: the next pass will see what came
            logger.warning("%s disappeared before it was read; skipped", f["file_name"])
            continue
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
    failpoint("after_feedback")
    return written


@task(**IO_TASK)
def load(warehouse: Path, files: list[dict], outcomes: list[Outcome], values: pd.DataFrame,
         rerun: bool = False) -> tuple[Path, list[dict]]:
    """Keep a copy of each file, then record every file in a private build of the warehouse."""
    for i, f in enumerate(files):
        f["archive_path"] = wh.archive_file(f["path"], warehouse, f["sha256"])
        if i == len(files) // 2:
            failpoint("mid_archive")
    build = wh.start_build(warehouse)
    failpoint("mid_load")
    recorded = wh.record_imports(build, files, outcomes, values, rerun=rerun)
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
        raise RuntimeError(f"data checks failed, nothing published: {failed}")
    get_run_logger().info("built %d models", len(built))
    failpoint("after_models")
    return built


@task(**IO_TASK)
def publish(build: Path, warehouse: Path) -> None:
    """Swap the build in for the published warehouse."""
    wh.publish(build, warehouse)
    get_run_logger().info("published %s", wh.published_path(warehouse))


def import_files(files: list[dict], warehouse: Path, *, rerun: bool = False,
                 batch_size: int = BATCH_SIZE) -> list[dict]:
    """Read, validate, load, rebuild and publish `files`; called inside a flow."""
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    futures = [read_and_validate.submit(b) for b in batches]
    results = [f.result() for f in futures]
    outcomes = [o for batch_outcomes, _ in results for o in batch_outcomes]
    read = {o.sha256 for o in outcomes}
    files = [f for f in files if f["sha256"] in read]
    if not files:
        return []
    values = pd.concat([v for _, v in results], ignore_index=True)
    written = write_feedback(warehouse, files, outcomes)
    for f in files:
        f["feedback_path"] = written.get(f["sha256"])
    build, recorded = load(warehouse, files, outcomes, values, rerun=rerun)
    try:
        build_models(build)
        publish(build, warehouse)
    finally:
        wh.discard_build(warehouse)  # after a failure, free the disk; after publish, a no-op
    return recorded


def report_artifacts(recorded: list[dict], skipped: int, arriving: list[str]) -> None:
    """A table of the pass's imports and a short Markdown summary, shown in Prefect's UI."""
    rows = [{"file": r["file_name"], "unit": r["unit_code"], "period": r["period"],
             "status": r["status"], "reason": r["first_reason"] or "",
             "warnings": len(r.get("warnings", []))} for r in recorded]
    create_table_artifact(key="huizong-imports", table=rows, description="Files of this pass")
    counts = {s: sum(r["status"] == s for r in recorded) for s in ("loaded", "duplicate", "superseded", "rejected")}
    lines = ["# huizong pass", "", "| status | files |", "| --- | --- |"]
    lines += [f"| {s} | {n} |" for s, n in counts.items()]
    lines += [f"| already received (skipped) | {skipped} |", f"| still arriving | {len(arriving)} |"]
    rejected = [r for r in recorded if r["status"] == "rejected"]
    if rejected:
        lines += ["", "## Rejected", ""] + [f"- **{r['file_name']}**: {r['first_reason']}" for r in rejected]
    create_markdown_artifact(key="huizong-summary", markdown="\n".join(lines), description="Pass summary")
