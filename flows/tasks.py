"""The light tasks of a pass, shared by the nightly flow and reruns: finding new files, retry
rules and the pass's artifacts. Importing files is in `importing.py`, which the nightly flow
imports only when it has files, so that a pass with nothing new starts as fast as Prefect allows.

Per-file work returns an outcome value instead of raising, every future is waited on, and bad
input is a `rejected` row, never a failed task (RELIABILITY.md, Prefect failure semantics). Only
I/O tasks retry, and only on faults that can pass (a busy or full disk, a network share).
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from huizong import warehouse as wh
from huizong.failpoints import failpoint
from huizong.files import is_ignored, sha256_of

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


def report_artifacts(recorded: list[dict], skipped: int, arriving: list[str],
                     unchanged: int | None = None, reports: list[str] | None = None,
                     report_error: str | None = None) -> None:
    """A table of the pass's imports and a short Markdown summary, shown in Prefect's UI."""
    rows = [{"file": r["file_name"], "unit": r["unit_code"], "period": r["period"],
             "status": r["status"], "reason": r["first_reason"] or "",
             "warnings": len(r.get("warnings", []))} for r in recorded]
    create_table_artifact(key="huizong-imports", table=rows, description="Files of this pass")
    counts = {s: sum(r["status"] == s for r in recorded) for s in wh.STATUSES}
    lines = ["# huizong pass", "", "| status | files |", "| --- | --- |"]
    lines += [f"| {s} | {n} |" for s, n in counts.items()]
    lines += [f"| already received (skipped) | {skipped} |", f"| still arriving | {len(arriving)} |"]
    if unchanged is not None:  # a rerun
        lines += [f"| valid under the same rules (not read again) | {unchanged} |"]
    if reports:
        lines += ["", "## Reports", ""] + [f"- `{path}`" for path in reports]
    if report_error:
        lines += ["", "## The annual summary was not written", "", report_error]
    rejected = [r for r in recorded if r["status"] == "rejected"]
    if rejected:
        lines += ["", "## Rejected", ""] + [f"- **{r['file_name']}**: {r['first_reason']}" for r in rejected]
    create_markdown_artifact(key="huizong-summary", markdown="\n".join(lines), description="Pass summary")
