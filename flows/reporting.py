"""The reports a pass leaves: the work summary of the latest earlier year with data and of the
current year to date (if it has data), each named for what it covers: summary_2019.md for a
whole year, summary_2020_1-6月.md for the first half of one (huizong.report.years_to_report).

`<warehouse>/reports/.build` names the published build the reports were written from, so that a
pass stopped after publishing and before its reports is caught up by the next pass.
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


@task(**IO_TASK)
def write_reports(warehouse: Path) -> list[str]:
    """Write the summaries (.md, .html, .docx) from the warehouse just published: last year's
    and this year's to date, each covering the quarters that are due (huizong.clock)."""
    from huizong.report import write_year_reports  # matplotlib and python-docx: only when needed

    build = wh.latest_build(warehouse)
    written = [str(p) for p in write_year_reports(warehouse)]
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
