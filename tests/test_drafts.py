"""Reports drafted from a pass's build while its checks run, and put in place only once that
very build is published (flows/reporting.py)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import duckdb
import pytest
from conftest import LATE_TOWN, run_pass

from huizong.outputs.demo import write_unit_workbook
from huizong.outputs.report import write_report


def report_files(warehouse) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((warehouse / "reports").iterdir())}


def without_times(md: str) -> str:
    """The summary's text without the minute it was written at (its note says when)."""
    return re.sub(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}", "<when>", md)


@pytest.fixture
def one_quarter(tmp_path, prefect_harness, monkeypatch):
    """A warehouse after a pass that read one town's 2019Q1 and wrote its reports, with two
    reading workers (a pass drafts its reports when they write the Word and HTML files)."""
    monkeypatch.setenv("HUIZONG_READERS", "2")
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "q1.xlsx", LATE_TOWN, "2019Q1")
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert summary.report_error is None
    return inbox, warehouse, summary


def test_a_pass_puts_in_place_the_reports_it_drafted_from_its_build(one_quarter, tmp_path):
    _, warehouse, summary = one_quarter
    reports = warehouse / "reports"
    md = reports / "summary_2019.md"
    assert sorted(p.name for p in reports.iterdir()) == [
        ".build", "summary_2019.docx", "summary_2019.html", "summary_2019.md"]  # no drafts left
    assert sorted(summary.reports) == sorted(str(p) for p in reports.glob("summary_2019.*"))
    # drafted from the build (their data read while its checks ran, their files written while it
    # was published), and the same as the report written afterwards from the published warehouse
    again = write_report(warehouse, 2019, tmp_path / "again.md").read_text(encoding="utf-8")
    assert without_times(md.read_text(encoding="utf-8")) == without_times(again)


def leave_drafts(warehouse) -> None:
    """What a pass killed after publishing and before putting its drafts in place leaves: its
    drafts, and reports older than the published build."""
    drafts = warehouse / "reports" / ".drafts"
    drafts.mkdir()
    (drafts / "summary_2019.md").write_text("a draft of another pass", encoding="utf-8")
    (drafts / "drafted.json").write_text(json.dumps({"name": "b5e1c0d2", "years": {"2019": ["summary_2019.md"]}}))
    (warehouse / "reports" / ".build").unlink()


def test_drafts_of_another_pass_are_never_put_in_place(one_quarter, tmp_path):
    inbox, warehouse, _ = one_quarter
    leave_drafts(warehouse)
    drafts = warehouse / "reports" / ".drafts"
    summary = run_pass(inbox, warehouse, write_summary=True)  # nothing new: the reports caught up
    assert summary.files == [] and summary.reports
    assert not drafts.exists()
    written = (warehouse / "reports" / "summary_2019.md").read_text(encoding="utf-8")
    again = write_report(warehouse, 2019, tmp_path / "again.md").read_text(encoding="utf-8")
    assert without_times(written) == without_times(again)


def test_a_build_that_fails_its_checks_leaves_the_reports_as_they_were(one_quarter):
    inbox, warehouse, _ = one_quarter
    before = report_files(warehouse)
    con = duckdb.connect(str(warehouse / "huizong.duckdb"))  # a ledger row no pass would write
    con.execute("update ops.imports set status = 'mislaid'")
    con.close()
    published = (warehouse / "huizong.duckdb").read_bytes()
    write_unit_workbook(inbox / "q2.xlsx", LATE_TOWN, "2019Q2")
    state = run_pass(inbox, warehouse, write_summary=True, return_state=True)
    assert state.is_failed() and "assert_import_status_known" in str(state.message)
    assert report_files(warehouse) == before  # nothing drafted from the failed build is left
    assert (warehouse / "huizong.duckdb").read_bytes() == published


def test_a_pass_killed_after_publishing_leaves_drafts_that_never_touch_a_summary_signed_since(one_quarter):
    """Its drafts were of the build it published, but the next pass's reports are its own: since
    then 2019 was signed off, and its summary under reports/ is the signed one."""
    from prefect.settings import PREFECT_API_URL

    from huizong.office.signoff import sign_off

    inbox, warehouse, _ = one_quarter
    write_unit_workbook(inbox / "q2.xlsx", LATE_TOWN, "2019Q2")
    os.utime(inbox / "q2.xlsx", (time.time() - 60,) * 2)  # landed a minute ago: settled
    killed = subprocess.run([sys.executable, "-m", "huizong.cli", "run", "--inbox", str(inbox),
                             "--warehouse", str(warehouse)], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
                                 "HUIZONG_FAILPOINT": "drafts_written"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert (warehouse / "reports" / ".drafts" / "drafted.json").exists()
    signed = sign_off(warehouse, 2019, "王芳", force=True)
    kept = {name: (warehouse / signed.folder / name).read_bytes() for name, _, _ in signed.files}
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert summary.reports == []  # 2019 is signed off: its summary is the signed one
    assert {name: (warehouse / "reports" / name).read_bytes() for name in kept} == kept
    assert not (warehouse / "reports" / ".drafts").exists()
