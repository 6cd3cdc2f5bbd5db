"""The reports a pass leaves: the work summary of the latest earlier year with data and of the
current year to date (if it has data), each named for what it covers: summary_2019.md for a
whole year, summary_2020_1-6月.md for the first half of one (huizong.outputs.report.years_to_report).

`<warehouse>/reports/.build` names the published build the reports were written from, so that a
pass stopped after publishing and before its reports is caught up by the next pass.

A pass that builds drafts its reports from the build: it reads their data from the build while
the build's checks run, and writes their files (`draft_reports`, in `<warehouse>/reports/.drafts/`)
while the build is published; it puts them in place right after it has published that very build:
the reports come a second sooner, the data is not held back by them, and the reports never come
from data that was not published. Drafts carry a name of their own that only the pass that made them knows: whatever a
pass leaves (killed after publishing, say) is never put in place by another pass, whose clock,
signed-off years or published data may differ; it writes its reports anew.

A pass also leaves the reminders of the latest quarter past its deadline
(`<warehouse>/reminders/<P>_催报.xlsx`, huizong.office.remind), written again when the data changed or
a day passed (days overdue count on).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
from prefect import get_run_logger, task

from huizong.core.failpoints import failpoint
from huizong.flows.tasks import IO_TASK
from huizong.store import warehouse as wh

REPORTED_BUILD = Path("reports") / ".build"
DRAFTS = Path("reports") / ".drafts"
DRAFTED = "drafted.json"  # in DRAFTS, written last: the drafts' name, and each year's files


def reports_are_stale(warehouse: Path) -> bool:
    """Whether the published build is newer than the reports written from it."""
    build = wh.latest_build(warehouse)
    if build is None:
        return False
    marker = warehouse / REPORTED_BUILD
    return not marker.exists() or marker.read_text(encoding="utf-8").strip() != build


def prepare_reports(pool=None) -> None:
    """Import what writing the reports needs (matplotlib, python-docx: about half a second)
    ahead of time: the reading workers of `pool`, which write the Word and HTML files, once
    they are idle; this process in a background thread, while the pass reads and builds (those
    wait on worker processes and DuckDB), unless its workers write both (`apart_formats`).
    Importing twice is harmless: Python's import lock makes the pass's own import wait."""
    import threading

    from huizong.outputs.report import import_libraries

    if pool is not None:
        pool.prepare_reports()
    if not workers_write_both(pool):
        threading.Thread(target=import_libraries, name="huizong-prepare-reports", daemon=True).start()


def apart_formats(pool) -> tuple[str, ...]:
    """The formats the reading workers write: the Word file (its charts are images, the
    slowest), and the HTML too when there is a second worker for it."""
    return (".docx", ".html") if pool is not None and pool.size > 1 else (".docx",)


def workers_write_both(pool) -> bool:
    """Whether the reading workers of `pool` write both the Word and the HTML files: then this
    process draws nothing but the Markdown. Only then does a pass draft its reports, so that a
    report that fails or hangs holds back the reports while the build waits, never the data."""
    return apart_formats(pool) == (".docx", ".html")


def draft_reports(con: duckdb.DuckDBPyConnection, warehouse: Path, name: str) -> None:
    """Draft the reports a pass writes from its build, open as `con` (a cursor of its own: the
    checks run meanwhile), into `<warehouse>/reports/.drafts/` under `name`, known only to the
    pass, which puts them in place once the build is published (`write_reports`). Their data is
    read from the build here; their files are written in a thread of their own, so that the build
    is closed and published meanwhile (an upload's figures are shown a second sooner), and
    `place_drafts` waits for them. A worker that cannot write its file fails the draft: the pass
    then writes the reports after publishing."""
    import threading
    from concurrent.futures import Future

    from huizong.outputs.report import plan_year_reports

    drafts = Path(warehouse) / DRAFTS
    shutil.rmtree(drafts, ignore_errors=True)  # another pass's, never to be put in place
    drafts.mkdir(parents=True)
    plan = plan_year_reports(con, warehouse)
    done: Future = Future()
    _writing[name] = done
    # a daemon thread: a pass stopped by Ctrl-C does not wait for its drafts
    threading.Thread(target=_write_drafts, args=(plan, drafts, name, done), name="huizong-drafts",
                     daemon=True).start()


_writing: dict = {}  # name -> Future: drafts whose files are being written (`draft_reports`)


def _write_drafts(plan, drafts: Path, name: str, done) -> None:
    from functools import partial

    from huizong.bulkheads import isolation
    from huizong.outputs.report import render_reports

    try:
        pool = isolation.running_pool()
        render_reports(plan, into=drafts, write_apart=partial(pool.write_report, fall_back=False),
                       apart=apart_formats(pool))
        drafted = {"name": name, "years": {str(y): [out.name for out in outs] for y, _, outs in plan}}
        (drafts / DRAFTED).write_text(json.dumps(drafted), encoding="utf-8")
    except BaseException as e:  # said by `place_drafts`'s caller: the reports are written anew
        done.set_exception(e)
    else:
        done.set_result(None)


def _drafts_failed(name: str | None) -> BaseException | None:
    """Wait for the drafts named `name` that this process is writing, if any; what failed them."""
    done = _writing.pop(name, None)
    return None if done is None else done.exception()


def discard_drafts(warehouse: Path) -> None:
    for name in list(_writing):  # written to the end first, so that nothing lands after the removal
        _drafts_failed(name)
    shutil.rmtree(Path(warehouse) / DRAFTS, ignore_errors=True)


def place_drafts(warehouse: Path, name: str | None) -> list[Path] | None:
    """The drafts named `name` moved into `<warehouse>/reports/`, as write_year_reports would
    have written them; None when there are none of that name (or not all of them)."""
    from huizong.outputs.report import replace_fewer_quarters

    drafts = Path(warehouse) / DRAFTS
    if (failed := _drafts_failed(name)) is not None:
        get_run_logger().warning("the reports were not drafted (%s): they are written now", failed)
        return None
    failpoint("drafts_written")  # the tests kill a pass here: published, its drafts left whole
    try:
        drafted = json.loads((drafts / DRAFTED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if name is None or drafted.get("name") != name:
        return None
    plan = [(int(y), None, [Path(warehouse) / "reports" / file for file in files])
            for y, files in drafted["years"].items()]
    if not all((drafts / out.name).is_file() for _, _, outs in plan for out in outs):
        return None
    for _, _, outs in plan:
        for out in outs:
            (drafts / out.name).replace(out)
    return replace_fewer_quarters(warehouse, plan)


@task(**IO_TASK)
def write_reports(warehouse: Path, drafts: str | None = None) -> list[str]:
    """Put the summaries (.md, .html, .docx) of the build just published in place: those this
    pass drafted while its checks ran (`drafts`, their name), or written now from the published
    warehouse. Last year's and this year's to date, each covering the quarters that are due
    (huizong.core.clock)."""
    from huizong.bulkheads import isolation
    from huizong.outputs.report import write_year_reports  # matplotlib and python-docx: only when needed

    build = wh.latest_build(warehouse)
    failpoint("mid_reports")
    try:
        placed = place_drafts(warehouse, drafts)
    finally:
        discard_drafts(warehouse)
    if placed is None:
        # the pass's reading workers, if it has them, write the Word files meanwhile
        pool = isolation.running_pool()
        placed = write_year_reports(warehouse, write_apart=pool.write_report if pool else None,
                                    apart=apart_formats(pool))
    written = [str(p) for p in placed]
    for path in written:
        get_run_logger().info("report written: %s", path)
    if build is not None:
        marker = warehouse / REPORTED_BUILD
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(build, encoding="utf-8")
    return written


def reports_after_publish(warehouse: Path, drafts: str | None = None) -> tuple[list[str], str | None]:
    """Write the reports once the data is published (or put in place those the pass drafted,
    named `drafts`). The pass has done its work by then: a report that cannot be written (after
    its retries) is said loudly, in the log, the artifact and the terminal, but does not turn a
    published pass into a failed one (exit 1)."""
    state = write_reports(warehouse, drafts, return_state=True)
    if state.is_completed():
        return state.result(), None
    get_run_logger().error("the annual summary was not written (the data is published): %s", state.message)
    return [], state.message


def latest_due_period() -> str:
    """The latest quarter whose deadline (FORM.md) has passed by the clock's now."""
    from huizong.core import clock

    index = clock.quarter_index(clock.current_period())
    while clock.due_by(clock.period_of(index)) > clock.now():
        index -= 1
    return clock.period_of(index)


def reminders_are_stale(warehouse: Path, period: str) -> bool:
    """Whether the period's reminders were not yet written today (the office's calendar)."""
    import datetime as dt

    from huizong.core import clock
    from huizong.office.remind import default_out

    out = default_out(warehouse, period)
    if not out.exists():
        return True
    written = dt.datetime.fromtimestamp(out.stat().st_mtime, clock.OFFICE_TZ).date()
    return written != clock.now().astimezone(clock.OFFICE_TZ).date()


@task(**IO_TASK)
def write_reminders(warehouse: Path, period: str) -> str | None:
    """The reminders workbook of `period` from the published warehouse (None without its marts)."""
    from huizong.office.remind import default_out, read_reminders
    from huizong.office.remind import write_reminders as write_book

    con = wh.connect_read_only(warehouse)
    if con is None:
        return None
    try:
        if not wh.has_marts(con):
            get_run_logger().info("no reminders: %s", wh.nothing_published(warehouse))
            return None
        reminders = read_reminders(con, period)
    finally:
        con.close()
    out = write_book(reminders, default_out(warehouse, period), warehouse)
    get_run_logger().info("reminders written: %s (%d unit(s) to remind)", out, len(reminders.reminded))
    return str(out)


def reminders_after_publish(warehouse: Path, published: bool) -> str | None:
    """The latest due quarter's reminders, when the data changed or not yet today; a failure is
    logged, never a failed pass (the data is published)."""
    period = latest_due_period()
    if not (published or reminders_are_stale(warehouse, period)):
        return None
    state = write_reminders(warehouse, period, return_state=True)
    if state.is_completed():
        return state.result()
    get_run_logger().error("the reminders of %s were not written: %s", period, state.message)
    return None
