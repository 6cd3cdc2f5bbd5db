"""The reports a pass leaves: the work summary of the latest earlier year with data and of the
current year to date (if it has data), each named for what it covers: summary_2019.md for a
whole year, summary_2020_1-6月.md for the first half of one (huizong.report.years_to_report).

`<warehouse>/reports/.build` names the published build the reports were written from, so that a
pass stopped after publishing and before its reports is caught up by the next pass.

A pass also leaves the reminders of the latest quarter past its deadline
(`<warehouse>/reminders/<P>_催报.xlsx`, huizong.remind), written again when the data changed or
a day passed (days overdue count on).
"""
from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task

from huizong.flows.tasks import IO_TASK
from huizong import warehouse as wh

REPORTED_BUILD = Path("reports") / ".build"


def reports_are_stale(warehouse: Path) -> bool:
    """Whether the published build is newer than the reports written from it."""
    build = wh.latest_build(warehouse)
    if build is None:
        return False
    marker = warehouse / REPORTED_BUILD
    return not marker.exists() or marker.read_text(encoding="utf-8").strip() != build


def prepare_reports(pool=None) -> None:
    """Import what writing the reports needs (matplotlib, python-docx: about half a second) in a
    background thread, while the pass reads and builds: those wait on worker processes and
    DuckDB, which leave this process's interpreter free. Importing twice is harmless: Python's
    import lock makes the pass's own import wait for this one. The reading workers of `pool`,
    which write the Word files, import them once they are idle."""
    import threading

    from huizong.report import import_libraries

    threading.Thread(target=import_libraries, name="huizong-prepare-reports", daemon=True).start()
    if pool is not None:
        pool.prepare_reports()


@task(**IO_TASK)
def write_reports(warehouse: Path) -> list[str]:
    """Write the summaries (.md, .html, .docx) from the warehouse just published: last year's
    and this year's to date, each covering the quarters that are due (huizong.clock)."""
    from huizong import isolation
    from huizong.report import write_year_reports  # matplotlib and python-docx: only when needed

    build = wh.latest_build(warehouse)
    # the pass's reading workers, if it has them, write the Word files meanwhile
    pool = isolation.running_pool()
    written = [str(p) for p in write_year_reports(warehouse, write_apart=pool.write_report if pool else None)]
    for path in written:
        get_run_logger().info("report written: %s", path)
    if build is not None:
        marker = warehouse / REPORTED_BUILD
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(build, encoding="utf-8")
    return written


def reports_after_publish(warehouse: Path) -> tuple[list[str], str | None]:
    """Write the reports once the data is published. The pass has done its work by then: a
    report that cannot be written (after its retries) is said loudly, in the log, the artifact
    and the terminal, but does not turn a published pass into a failed one (exit 1)."""
    state = write_reports(warehouse, return_state=True)
    if state.is_completed():
        return state.result(), None
    get_run_logger().error("the annual summary was not written (the data is published): %s", state.message)
    return [], state.message


def latest_due_period() -> str:
    """The latest quarter whose deadline (FORM.md) has passed by the clock's now."""
    from huizong import clock

    index = clock.quarter_index(clock.current_period())
    while clock.due_by(clock.period_of(index)) > clock.now():
        index -= 1
    return clock.period_of(index)


def reminders_are_stale(warehouse: Path, period: str) -> bool:
    """Whether the period's reminders were not yet written today (the office's calendar)."""
    import datetime as dt

    from huizong import clock
    from huizong.remind import default_out

    out = default_out(warehouse, period)
    if not out.exists():
        return True
    written = dt.datetime.fromtimestamp(out.stat().st_mtime, clock.OFFICE_TZ).date()
    return written != clock.now().astimezone(clock.OFFICE_TZ).date()


@task(**IO_TASK)
def write_reminders(warehouse: Path, period: str) -> str | None:
    """The reminders workbook of `period` from the published warehouse (None without one)."""
    from huizong.remind import default_out, read_reminders, write_reminders as write_book

    con = wh.connect_read_only(warehouse)
    if con is None:
        return None
    try:
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
