"""After `huizong unlock`: the next pass (or rerun) lets in the versions held `locked` for the year.

They are resolved by FORM.md's version rules as if they had just arrived (the newest valid
version wins), from the values recorded when they came: a version checked under the current
rules is not read again (as in flows/rerun.py). Then the models are rebuilt and published, and
the pass writes the year's summary again (huizong.outputs.report.years_to_report: a reopened year).
"""
from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task

from huizong.flows.tasks import IO_TASK, log_files
from huizong.office import signoff
from huizong.store import locks
from huizong.store import warehouse as wh
from huizong.store.versions import rules_version


def let_in_released(warehouse: Path) -> tuple[list[dict], list[dict]]:
    """What every pass and every rerun does first: let in the versions an unlock released
    (`let_in`), whatever else it was asked to read. Returns one row per version let in, and
    those of them checked under other rules, to be read again with the files of the pass."""
    released = signoff.released_versions(warehouse)
    if not released:
        return [], []
    return let_in(warehouse, released), [f for f in released if f["rules_version"] != rules_version()]


@task(**IO_TASK)
def resolve_released(build: Path) -> list[dict]:
    """Resolve every (unit, period) holding a released version, in the build."""
    return signoff.let_in(build)


def let_in(warehouse: Path, released: list[dict]) -> list[dict]:
    """Let the released versions in, rebuild and publish; one row per version, as imports give."""
    from huizong.flows.importing import build_and_publish, start_rebuild

    years = ", ".join(str(y) for y in sorted({locks.year_of(f["period"]) for f in released}))
    get_run_logger().info("letting in %d version(s) held while %s was signed off (unlocked since)",
                          len(released), years)
    build = start_rebuild(warehouse)
    try:
        rows = resolve_released(build)
    except BaseException:
        wh.discard_build(warehouse)
        raise
    build_and_publish(build, warehouse)
    log_files(warehouse, rows, [])
    return rows
