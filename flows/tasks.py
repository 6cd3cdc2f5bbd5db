"""The light tasks of a pass, shared by the nightly flow and reruns: finding new files, retry
rules and the pass's artifacts. Importing files is in `importing.py`, which the nightly flow
imports only when it has files, so that a pass with nothing new starts as fast as Prefect allows.

Per-file work returns an outcome value instead of raising, every future is waited on, and bad
input is a `rejected` row, never a failed task (RELIABILITY.md, Prefect failure semantics). Only
I/O tasks retry, and only on faults that can pass (an OSError such as a network share that
hiccups, a DuckDB I/O error). A full disk is not retried: DuckDB reports it as a fatal error,
which leaves its connection unusable, so the pass fails (exit 1) and the published warehouse
stays as it was; the next pass, with room again, completes.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from huizong.core import clock
from huizong.core.failpoints import failpoint
from huizong.core.files import REFUSED_UNREADABLE, scan_inbox, sha256_of, still_settling
from huizong.core.settings import SETTLE_SECONDS
from huizong.core.vocabulary import VERSION_STATUSES
from huizong.intake.problems import places
from huizong.store import warehouse as wh


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


@task(**IO_TASK)
def discover(inbox: Path, warehouse: Path, settle_seconds: float = SETTLE_SECONDS) -> dict:
    """What landed in the inbox since the last pass, subfolders included:
    new: files whose content is new (each a version to read);
    copies: byte-identical copies of a version received before, under another name (a copy of a
      file new in this pass is also one of that file's `twins`, read instead if it goes);
    refused: links and special files, never followed or read (each named once);
    skipped: how many arrivals were recorded before; arriving: files still being copied in
    (their size or time changed between two looks), left for the next pass.
    A file's received_at is its mtime, but never later than now: a sender's clock set in the
    future never counts."""
    logger = get_run_logger()
    shas, arrivals, unchanged = wh.known_arrivals(warehouse)
    first_by_sha = {sha: path for path, sha in sorted(arrivals, key=lambda a: a[0]) if sha}
    new_by_sha: dict[str, dict] = {}  # the versions new in this pass
    entries = scan_inbox(inbox)
    seen_at = clock.now()
    # a file modified a moment ago may still be being copied in: wait, then look again, unless
    # each such file is one the web page placed whole (an upload is loaded seconds sooner)
    if still_settling(entries, settle_seconds, time.time()):
        time.sleep(settle_seconds)
    found = {"new": [], "copies": [], "refused": [], "skipped": 0, "arriving": []}
    # of two files with the same content, the one that landed first is the version
    for e in sorted(entries, key=lambda e: (e.mtime_ns, e.inbox_path)):
        modified = dt.datetime.fromtimestamp(e.mtime_ns / 1e9, dt.timezone.utc)
        arrival = {"inbox_path": e.inbox_path, "size_bytes": e.size, "modified_at": modified,
                   "first_seen_at": seen_at}
        if e.refused:
            if (e.inbox_path, None) not in arrivals:
                found["refused"].append({**arrival, "sha256": None, "status": "refused", "reason": e.refused})
            else:
                found["skipped"] += 1
            continue
        if wh.read_before(e, unchanged):
            found["skipped"] += 1
            continue
        try:
            sha = sha256_of(e.path)
            now_size, now_mtime = e.path.stat().st_size, e.path.stat().st_mtime_ns
        except FileNotFoundError:  # gone since the scan: not an arrival
            continue
        except OSError:  # unreadable by the service, or swapped for a link since the scan
            if (e.inbox_path, None) not in arrivals:
                found["refused"].append({**arrival, "sha256": None, "status": "refused",
                                         "reason": REFUSED_UNREADABLE})
            continue
        if (now_size, now_mtime) != (e.size, e.mtime_ns):
            found["arriving"].append(e.inbox_path)
            continue
        if (e.inbox_path, sha) in arrivals:
            found["skipped"] += 1
            continue
        arrival["sha256"] = sha
        # a copy only of a version recorded, or of one this pass reads (it is then its twin)
        if sha in shas or sha in new_by_sha:
            copy = copy_arrival({**arrival, "path": e.path, "received_at": min(modified, seen_at)},
                                first_by_sha.get(sha, "?"))
            found["copies"].append(copy)
            if sha in new_by_sha:
                new_by_sha[sha]["twins"].append(copy)
            continue
        first_by_sha[sha] = e.inbox_path
        new_by_sha[sha] = {**arrival, "status": "received", "path": e.path, "file_name": e.inbox_path,
                           "received_at": min(modified, seen_at), "twins": []}
        found["new"].append(new_by_sha[sha])
    found["new"].sort(key=lambda f: f["inbox_path"])
    logger.info("inbox %s: %d new file(s), %d copies, %d refused, %d already received",
                inbox, len(found["new"]), len(found["copies"]), len(found["refused"]), found["skipped"])
    for name in found["arriving"]:
        logger.info("%s is still being copied in: left for the next pass", name)
    failpoint("after_discover")
    return found


def copy_arrival(arrival: dict, same_as: str) -> dict:
    """The arrival of a byte-identical copy of the file received as `same_as`."""
    return {**arrival, "status": "copy", "same_as": same_as,
            "reason": f"与已收到的“{same_as}”内容完全相同，不再重复读取"}


def log_files(warehouse: Path, recorded: list[dict], arrivals: list[dict]) -> None:
    """One line per file of the pass in `<warehouse>/logs/huizong.log`; Prefect's log and the
    terminal get a line per batch, which a 2,000-file night would otherwise bury."""
    stamp = clock.now().isoformat(timespec="seconds")
    lines = [f"{stamp} {r['status']:<10} {r['file_name']}"
             + (f" ({r['unit_code']} {r['period']})" if r.get("unit_code") else "")
             + (f": {r['first_reason']}" if r.get("first_reason") else "")
             + (f" [{r['n_warnings']} warning(s)]" if r.get("n_warnings") else "")
             for r in recorded]
    lines += [f"{stamp} {a['status']:<10} {a['inbox_path']}: {a.get('reason') or ''}"
              for a in arrivals if a["status"] != "received"]
    if lines:
        folder = warehouse / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "huizong.log").open("a", encoding="utf-8", errors="backslashreplace") as log:
            log.write("\n".join(lines) + "\n")


def report_artifacts(recorded: list[dict], skipped: int, arriving: list[str],
                     unchanged: int | None = None, reports: list[str] | None = None,
                     report_error: str | None = None, copies: list[dict] = (),
                     refused: list[dict] = (), problems: list[dict] = ()) -> None:
    """The pass's import summary in Prefect's UI: counts by status, problems grouped by rule and
    by unit with their first cells (`sql/setup/pass_problems.sql`), and a table of its files."""
    counts = {s: sum(r["status"] == s for r in recorded) for s in VERSION_STATUSES}
    lines = ["# huizong pass", "", "| status | files |", "| --- | --- |"]
    lines += [f"| {s} | {n} |" for s, n in counts.items()]
    lines += [f"| copies of files received before | {len(copies)} |", f"| refused (links, special files) | {len(refused)} |",
              f"| already received (skipped) | {skipped} |", f"| still arriving | {len(arriving)} |"]
    if unchanged is not None:  # a rerun
        lines += [f"| valid under the same rules (not read again) | {unchanged} |"]
    for grouping, title in (("rule", "Problems by rule"), ("unit", "Problems by unit")):
        groups = [g for g in problems if g["grouping"] == grouping]
        if groups:
            lines += ["", f"## {title}", "", f"| {grouping} | errors | warnings | files | first cells |",
                      "| --- | ---: | ---: | ---: | --- |"]
            lines += [f"| {_md(g['label'])} | {g['errors']} | {g['warnings']} | {g['files']} | "
                      f"{_md(places(g['first_cells']))} |" for g in groups]
    if reports:
        lines += ["", "## Reports", ""] + [f"- `{path}`" for path in reports]
    if report_error:
        lines += ["", "## The annual summary was not written", "", report_error]
    rejected = [r for r in recorded if r["status"] == "rejected"]
    if rejected:
        lines += ["", "## Rejected", ""] + [f"- **{_md(r['file_name'])}**: {_md(r['first_reason'])}"
                                            for r in rejected]
    if refused:
        lines += ["", "## Refused", ""] + [f"- **{_md(a['inbox_path'])}**: {_md(a['reason'])}" for a in refused]
    create_markdown_artifact(key="huizong-summary", markdown="\n".join(lines), description="Pass summary")
    create_table_artifact(key="huizong-imports", description="Files of this pass",
                          table=[{"file": r["file_name"], "unit": r["unit_code"], "period": r["period"],
                                  "status": r["status"], "reason": r["first_reason"] or "",
                                  "warnings": r.get("n_warnings") or 0} for r in recorded])


def _md(text: object) -> str:
    """Text from a file inside a Markdown table cell: no pipe or line break breaks the table."""
    return " ".join(str(text or "").split()).replace("|", "\\|")
