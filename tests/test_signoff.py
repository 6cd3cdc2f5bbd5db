"""Sign-off and lock (issue 16): a year signed off keeps its figures and its summary whatever
later passes, reruns and rebuilds do, until the office unlocks it with a reason; then the files
held for it go in by the version rules. Real workbooks, real passes, HUIZONG_TODAY=2020-03-01.
Expected figures are computed here from the generator's values, never read back from the marts."""
from __future__ import annotations

import hashlib
import re
import shutil
from decimal import Decimal

import duckdb
import pytest
from conftest import clock_at, query, run_pass

from huizong import cli
from huizong.flows.rerun import rerun
from huizong.office.signoff import SignoffError, sign_off, unlock
from huizong.outputs.demo import generate, true_value, write_unit_workbook
from huizong.outputs.report import ReportError, write_report
from huizong.schemas import catalog as cat
from huizong.store.versions import models_version

TODAY = "2020-03-01"
YEAR_2019 = ("2019Q1", "2019Q2", "2019Q3", "2019Q4")
LATE = cat.towns()[3]  # its 2019Q4 comes after the sign-off
CORRECTED = cat.towns()[1]  # corrects its 2019Q3 after the sign-off
CORRECTED_VILLAGE = cat.villages_of(CORRECTED.code)[0]
SUFFIXES = (".md", ".html", ".docx")


@pytest.fixture(autouse=True)
def office_date(monkeypatch):
    monkeypatch.setenv("HUIZONG_TODAY", TODAY)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summaries(warehouse, year=2019) -> dict[str, bytes]:
    return {s: (warehouse / "reports" / f"summary_{year}{s}").read_bytes() for s in SUFFIXES}


FIGURES = {  # every published figure of 2019 a late file could change
    "county": "select * from marts.county_totals where year = 2019 order by all",
    "towns": "select * from marts.town_totals where year = 2019 order by all",
    "summary": "select * from marts.summary_figures where year = 2019 order by all",
    "values": "select * exclude (received_at) from marts.unit_quarter_values where year = 2019 order by all",
    "status": "select unit_code, period, status from marts.submission_status where year = 2019 order by all",
}


def figures(warehouse) -> dict[str, list]:
    return {name: query(warehouse, sql) for name, sql in FIGURES.items()}


def without_time(text: str) -> str:
    """A summary without the moment it was written (its data note says when)."""
    return re.sub(r"（\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}）", "", text)


def status_of(warehouse, file_name: str) -> str:
    return query(warehouse, "select status from ops.imports where file_name = ?", [file_name])[0][0]


def village_v03(town: cat.Unit, period: str) -> float:
    return sum(true_value(v.code, period, "V03") for v in cat.villages_of(town.code))


def county_v03() -> float:
    """2019's county V03 (a flow) before the late file: every town's four quarters, LATE's three."""
    return sum(village_v03(t, p) for t in cat.towns() for p in YEAR_2019 if (t, p) != (LATE, "2019Q4"))


def test_the_office_closes_a_year(tmp_path, prefect_harness, capsys):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    generate(inbox, YEAR_2019)
    (inbox / f"{LATE.name}_2019Q4.xlsx").unlink()
    write_unit_workbook(inbox / "2020Q1.xlsx", cat.towns()[0], "2020Q1")  # 2020: only begun
    run_pass(inbox, warehouse, write_summary=True)
    assert float(query(warehouse, "select value from marts.county_totals "
                                  "where year = 2019 and indicator_code = 'V03'")[0][0]) == county_v03()

    # --- a year not yet whole cannot be signed; 2019 can -------------------------------------
    with pytest.raises(SignoffError, match="covers only 1—3月"):
        sign_off(warehouse, 2020, "王五")
    published = summaries(warehouse)
    signed = sign_off(warehouse, 2019, " 王五 ", force=True)
    assert signed.written_again is False  # the pass's summaries were current: signed as they are
    ((signoff_id, year, action, by, reason, built_at, version, folder),) = query(
        warehouse, "select signoff_id, year, action, done_by, reason, built_at, models_version, archive_path "
                   "from ops.signoffs")
    assert (signoff_id, year, action, by, folder) == (1, 2019, "signed", "王五", "signed/2019/1")
    assert reason.startswith("signed with --force, unfilled: ")  # the summary's marks were left
    assert (built_at, version) == query(warehouse, "select max(built_at), any_value(models_version) "
                                                   "from ops.builds")[0]
    assert version == models_version()
    files = query(warehouse, "select file_name, sha256, size_bytes, archive_path from ops.signed_files")
    assert sorted(f[0] for f in files) == ["summary_2019.docx", "summary_2019.html", "summary_2019.md"]
    for name, digest, size, archived in files:
        kept = warehouse / archived
        assert archived == f"signed/2019/1/{name}"
        assert digest == sha256(kept) == hashlib.sha256(published[kept.suffix]).hexdigest()
        assert size == len(kept.read_bytes())
    # the snapshot: every figure of 2019, and the version in force of every reported quarter
    assert query(warehouse, "select indicator_code, slot, value from ops.signed_figures order by all") == \
        query(warehouse, "select indicator_code, slot, value from marts.summary_figures "
                         "where year = 2019 order by all")
    in_force = query(warehouse, "select unit_code, period from ops.signed_versions where status = 'loaded' "
                                "order by all")
    assert len(in_force) == len(cat.submitters()) * 4 - 1  # 13 units' four quarters, less LATE's Q4
    assert query(warehouse, "select year from ops.locked_years") == [(2019,)]

    # --- files that come for the locked year: held, read and checked, never in force --------------
    before = figures(warehouse)
    write_unit_workbook(inbox / "late_2019Q4.xlsx", LATE, "2019Q4")
    corrected_value = true_value(CORRECTED_VILLAGE.code, "2019Q3", "V03") + 7
    write_unit_workbook(inbox / "corrected_2019Q3.xlsx", CORRECTED, "2019Q3",
                        {(CORRECTED_VILLAGE.code, "V03"): corrected_value})
    write_unit_workbook(inbox / "invalid_2019Q2.xlsx", CORRECTED, "2019Q2", {(CORRECTED_VILLAGE.code, "V03"): -1})
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert {f["file_name"]: f["status"] for f in summary.files} == {
        "late_2019Q4.xlsx": "locked", "corrected_2019Q3.xlsx": "locked", "invalid_2019Q2.xlsx": "rejected"}
    assert query(warehouse, "select count(*) from ops.import_errors join ops.imports using (sha256) "
                            "where file_name = 'invalid_2019Q2.xlsx' and severity = 'error'") == [(1,)]
    assert query(warehouse, "select n_values > 0 from ops.imports where status = 'locked'") == [(True,), (True,)]
    assert figures(warehouse) == before  # the late quarter is still missing, the correction not in
    assert summaries(warehouse) == published, "a pass never rewrites a signed summary"
    assert not any("summary_2019" in r for r in summary.reports)

    cli.main(["status", "--warehouse", str(warehouse)])
    out = capsys.readouterr().out
    assert "2019: signed off by 王五" in out
    assert f"locked {LATE.name} 2019Q4 late_2019Q4.xlsx" in out and "until 2019 is unlocked" in out

    # --- a forced rerun of the year's quarters changes nothing ------------------------------------
    for kwargs in ({"period": "2019Q4", "force": True}, {"unit": CORRECTED.code, "force": True},
                   {"failed": True, "force": True}):
        done = rerun(warehouse=warehouse, inbox=inbox, settle_seconds=0, write_summary=True, **kwargs)
        assert done.files == [] and done.held > 0, kwargs
    assert figures(warehouse) == before and summaries(warehouse) == published
    assert status_of(warehouse, "late_2019Q4.xlsx") == "locked"

    # --- the signed summary is written again only elsewhere ----------------------------------------
    with pytest.raises(ReportError, match="2019 is signed off"):
        write_report(warehouse, 2019)
    with pytest.raises(ReportError, match="elsewhere with --out"):
        write_report(warehouse, 2019, warehouse / "reports" / "summary_2019.md")
    copy = write_report(warehouse, 2019, tmp_path / "copy.md").read_text(encoding="utf-8")
    assert without_time(copy) == without_time(published[".md"].decode())  # the same figures, written now

    # --- unlocked with a reason: the next pass, with nothing new, lets the held files in -----------
    opened = unlock(warehouse, 2019, "王五", "城关镇更正三季度、四季度补报")
    assert opened.held == 2
    assert query(warehouse, "select signoff_id, action, done_by, reason from ops.signoffs order by 1") == [
        (1, "signed", "王五", reason), (2, "unlocked", "王五", "城关镇更正三季度、四季度补报")]
    assert status_of(warehouse, "late_2019Q4.xlsx") == "locked"  # until the next pass
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert {f["file_name"]: f["status"] for f in summary.files} == {
        "late_2019Q4.xlsx": "loaded", "corrected_2019Q3.xlsx": "loaded"}
    assert status_of(warehouse, f"{CORRECTED.name}_2019Q3.xlsx") == "superseded"
    expected = county_v03() + village_v03(LATE, "2019Q4") + 7
    assert [float(v) for (v,) in query(warehouse, "select value from marts.county_totals where year = 2019 and "
                                                  "indicator_code = 'V03'")] == [expected]
    assert [float(v) for (v,) in query(warehouse, "select value from marts.summary_figures where year = 2019 "
                                                  "and indicator_code = 'V03' and slot = 1")] == [expected]
    assert query(warehouse, "select value from marts.unit_quarter_values where unit_code = ? and "
                            "period = '2019Q3' and indicator_code = 'V03'",
                 [CORRECTED_VILLAGE.code]) == [(Decimal(corrected_value),)]
    assert query(warehouse, "select status from marts.submission_status where unit_code = ? "
                            "and period = '2019Q4'", [LATE.code]) == [("late",)]
    assert any(r.endswith("summary_2019.md") for r in summary.reports)
    rewritten = summaries(warehouse)
    assert rewritten[".md"] != published[".md"]
    assert sha256(warehouse / "signed/2019/1/summary_2019.md") == hashlib.sha256(published[".md"]).hexdigest()

    # --- signed again: a new record and a new folder; the first stays as it was --------------------
    again = sign_off(warehouse, 2019, "赵六", force=True)
    assert (again.signoff_id, again.folder) == (3, "signed/2019/2")
    assert query(warehouse, "select year, signoff_id from ops.locked_years") == [(2019, 3)]
    for name, digest, archived in query(warehouse, "select file_name, sha256, archive_path "
                                                   "from ops.signed_files where signoff_id = 3"):
        assert digest == sha256(warehouse / archived) == hashlib.sha256(rewritten["." + name.split(".")[-1]]).hexdigest()
    assert (warehouse / "signed/2019/1/summary_2019.md").read_bytes() == published[".md"]


@pytest.fixture(scope="module")
def one_town_signed(tmp_path_factory, prefect_harness):
    """One town's 2019, passed without summaries (the sign-off writes them first), signed off."""
    root = tmp_path_factory.mktemp("one_town")
    inbox, warehouse = root / "inbox", root / "warehouse"
    with clock_at(TODAY):
        for period in YEAR_2019:
            write_unit_workbook(inbox / f"{period}.xlsx", LATE, period)
        run_pass(inbox, warehouse)
        assert not (warehouse / "reports").exists()
        signed = sign_off(warehouse, 2019, "王五", force=True)
        yield inbox, warehouse, signed


def test_missing_summaries_are_written_before_they_are_signed(one_town_signed):
    _, warehouse, signed = one_town_signed
    assert signed.written_again
    for name, digest in query(warehouse, "select file_name, sha256 from ops.signed_files"):
        assert digest == sha256(warehouse / "reports" / name) == sha256(warehouse / "signed/2019/1" / name)


@pytest.mark.parametrize("args, words", [
    (["signoff", "--year", "2019", "--by", "赵六"], ["2019 is signed off (by 王五", "unlock it first"]),
    (["signoff", "--year", "2017", "--by", "赵六"], ["no valid submission for 2017", "nothing to sign"]),
    (["signoff", "--year", "2031", "--by", "赵六"], ["2031 has not begun"]),
    (["signoff", "--year", "2019", "--by", " "], ["--by is empty"]),
    (["unlock", "--year", "2018", "--by", "赵六", "--reason", "更正"], ["2018 is not signed off"]),
    (["unlock", "--year", "2019", "--by", "赵六", "--reason", ""], ["--reason is empty"]),
    (["report", "--year", "2019"], ["2019 is signed off", "--out"]),
])
def test_mistakes_are_one_sentence(one_town_signed, capsys, args, words):
    _, warehouse, _ = one_town_signed
    assert cli.main([*args, "--warehouse", str(warehouse)]) == 1
    captured = capsys.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    for word in words:
        assert word in lines[0], lines[0]
    assert query(warehouse, "select count(*) from ops.signoffs") == [(1,)]


def test_without_a_warehouse_nothing_is_created(tmp_path, capsys):
    for args in (["signoff", "--year", "2019", "--by", "王五"],
                 ["unlock", "--year", "2019", "--by", "王五", "--reason", "更正"]):
        assert cli.main([*args, "--warehouse", str(tmp_path / "none")]) == 1
        assert "no warehouse yet" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_changed_figure_of_a_signed_year_fails_the_pass_until_unlocked(one_town_signed, tmp_path):
    inbox, signed_warehouse, _ = one_town_signed
    warehouse = tmp_path / "warehouse"
    shutil.copytree(signed_warehouse, warehouse)
    village = cat.villages_of(LATE.code)[0]
    signed_v03 = sum(village_v03(LATE, p) for p in YEAR_2019)
    # a figure changed under the signed year (as a code or catalog change could): raw value + 1,
    # and a models version that makes the next pass rebuild
    con = duckdb.connect(str(warehouse / "huizong.duckdb"))
    con.execute("update raw.submitted_values set value = value + 1 where unit_code = ? and indicator_code = 'V03' "
                "and sha256 = (select sha256 from ops.imports where period = '2019Q1' and status = 'loaded')",
                [village.code])
    con.execute("update ops.builds set models_version = 'older'")
    con.close()
    with pytest.raises(Exception) as failed:
        run_pass(inbox, warehouse)
    message = str(failed.value)
    assert "assert_signed_figures_unchanged" in message and "year=2019, indicator_code=V03, slot=1" in message
    assert f"signed_value={float(signed_v03)}, value={float(signed_v03 + 1)}" in message
    assert "unlock the year (huizong unlock --year 2019" in message
    assert query(warehouse, "select models_version from ops.builds") == [("older",)], "nothing published"

    unlock(warehouse, 2019, "王五", "录入错误已核实")
    run_pass(inbox, warehouse)
    assert [float(v) for (v,) in query(warehouse, "select value from marts.county_totals "
                                                  "where year = 2019 and indicator_code = 'V03'")] == [signed_v03 + 1]
