"""The reports a pass leaves: the annual work summary of the latest year with data."""
from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task

from flows.tasks import IO_TASK


@task(**IO_TASK)
def write_reports(warehouse: Path) -> list[str]:
    """Write the summary (.md, .html, .docx) from the warehouse just published."""
    from huizong.report import write_year_reports  # matplotlib and python-docx: only when needed

    written = [str(p) for p in write_year_reports(warehouse)]
    for path in written:
        get_run_logger().info("report written: %s", path)
    return written
