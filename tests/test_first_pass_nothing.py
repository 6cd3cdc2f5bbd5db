"""Issue 28, item 6: a first pass that publishes nothing (its inbox only refused or empty) logs no
exception from the steps after publishing, and every command on that warehouse says in one
sentence that nothing is published yet. Real passes in Prefect's test harness, the real CLI."""
from __future__ import annotations

import logging

import pytest
from conftest import query, run_pass

from huizong import cli


class Records(logging.Handler):
    """Every record Prefect's loggers emit while installed (the run logger's lines too)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def prefect_records():
    handler = Records()
    logger = logging.getLogger("prefect")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def refused_only(root):
    """A first pass whose inbox holds only a link (refused, never read): the ledger is published
    with its arrival, and no marts."""
    inbox, warehouse = root / "inbox", root / "warehouse"
    inbox.mkdir(parents=True)
    (root / "elsewhere.xlsx").write_bytes(b"x")
    (inbox / "link.xlsx").symlink_to(root / "elsewhere.xlsx")
    return inbox, warehouse


@pytest.mark.parametrize("inbox_holds", ["a link only", "nothing"])
def test_a_first_pass_that_publishes_nothing_logs_no_error(prefect_harness, tmp_path, prefect_records,
                                                          inbox_holds):
    inbox, warehouse = refused_only(tmp_path)
    if inbox_holds == "nothing":
        (inbox / "link.xlsx").unlink()
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert (summary.files, summary.reports, summary.report_error, summary.reminders) == (
        [], [], None, None)
    if inbox_holds == "a link only":
        assert query(warehouse, "select inbox_path, status from ops.arrivals") == [("link.xlsx", "refused")]
    errors = [r.getMessage() for r in prefect_records if r.levelno >= logging.WARNING]
    assert errors == []
    assert not any("Exception" in r.getMessage() for r in prefect_records)


@pytest.fixture(scope="module")
def nothing_published(prefect_harness, tmp_path_factory):
    inbox, warehouse = refused_only(tmp_path_factory.mktemp("nothing"))
    run_pass(inbox, warehouse)
    return warehouse


@pytest.mark.parametrize("args", [
    ["status"], ["status", "--period", "2019Q1"], ["remind", "--period", "2019Q1"], ["review"],
    ["review", "--unit", "990101100", "--period", "2019Q1", "--cell", "村级指标!E2", "--accept", "--by", "王五"],
    ["explain", "--year", "2019", "--indicator", "T03"], ["export", "--year", "2019", "--out", "consolidated.xlsx"],
    ["report", "--year", "2019"], ["diff", "--unit", "990101100", "--period", "2019Q1"],
], ids=" ".join)
def test_commands_say_nothing_is_published(nothing_published, capsys, args):
    assert cli.main([*args, "--warehouse", str(nothing_published)]) == 1
    captured = capsys.readouterr()
    said = " ".join((captured.out + captured.err).split())
    assert "nothing is published in" in said and "huizong run" in said, said
    assert "Exception" not in said and "bug" not in said and "Traceback" not in said


def test_the_ledger_can_still_be_queried(nothing_published, capsys):
    assert cli.main(["query", "select status from ops.arrivals", "--warehouse", str(nothing_published)]) == 0
    assert "refused" in capsys.readouterr().out
