"""The `huizong` command as a user runs it: a real process, a real inbox and warehouse."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from huizong import cli
from huizong.cli import passes, reads
from huizong.cli.parser import parser
from huizong.flows.result import Copy, PassResult, Refused
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

ROOT = Path(__file__).resolve().parents[1]
# the passes these commands run reach the session's Prefect server (conftest.py), not one each
pytestmark = pytest.mark.usefixtures("prefect_harness")


def huizong(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "huizong.cli", *args], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=900)


def one_sentence(out: subprocess.CompletedProcess, *words: str) -> str:
    """A mistake's answer: exit 1, one line in all, no traceback; returns the line."""
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def fake_warehouse(path: Path, rows: int = 500) -> Path:
    """A warehouse file with one table, for the read-only commands (no pass needed)."""
    path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path / "huizong.duckdb"))
    con.execute(f"create table t as select range as n, '[/]' || range as s from range({rows})")
    con.close()
    return path


def test_run_status_query_end_to_end(tmp_path: Path):
    town = cat.towns()[0]
    village = cat.villages_of(town.code)[0]
    write_unit_workbook(tmp_path / "inbox" / "good.xlsx", town, "2019Q1")
    write_unit_workbook(tmp_path / "inbox" / "bad.xlsx", town, "2019Q2", {(village.code, "V03"): "十二"})
    # data is never markup: a name with [v2] prints as is, a cell "[/]" raises no MarkupError
    write_unit_workbook(tmp_path / "inbox" / "城关镇[v2].xlsx", town, "2019Q3", {(village.code, "V05"): "[/]"})
    (tmp_path / "inbox" / "~$good.xlsx").write_bytes(b"lock")  # Excel's lock file: ignored

    first = huizong("run", cwd=tmp_path, COLUMNS="80")
    assert first.returncode == 2, first.stderr
    assert "Traceback" not in first.stderr + first.stdout
    assert "loaded" in first.stdout and "rejected" in first.stdout
    assert "村级指标!E2 道德讲堂（场次）: “十二”请用阿拉伯数字填写" in first.stdout.replace("\n", "")
    assert "rejected 城关镇[v2].xlsx: " in first.stdout and "“[/]”" in first.stdout

    second = huizong("run", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "skipped (already received) │ 3" in second.stdout

    status = huizong("status", cwd=tmp_path, COLUMNS="40")  # too narrow: at least 80 all the same
    assert status.returncode == 0, status.stderr
    assert "late" in status.stdout and "rejected" in status.stdout
    assert f"{town.name} {town.code}" in status.stdout and "…" not in status.stdout
    assert "城关镇[v2].xlsx" in status.stdout and "“[/]”" in status.stdout

    (tmp_path / "afile").write_text("")
    one_sentence(huizong("report", "--year", "2019", "--out", "afile/summary.html", cwd=tmp_path), "afile")

    query = huizong("query", "select count(*) as n from ops.imports", cwd=tmp_path)
    assert query.returncode == 0 and "3" in query.stdout
    assert huizong("query", "select * from nowhere", cwd=tmp_path).returncode == 1


def test_every_command_has_help_with_an_example():
    commands = parser()._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        assert "Example:" in (sub.description or ""), name


def test_check_is_a_dry_run(tmp_path: Path):
    town = cat.towns()[1]
    village = cat.villages_of(town.code)[2]
    good = write_unit_workbook(tmp_path / "good.xlsx", town, "2019Q1")
    bad = write_unit_workbook(tmp_path / "bad.xlsx", town, "2019Q2", {(village.code, "V11"): "约3"})
    ok = huizong("check", str(good), cwd=tmp_path)
    assert ok.returncode == 0 and "would load" in ok.stdout
    both = huizong("check", str(good), str(bad), cwd=tmp_path)
    assert both.returncode == 2
    assert "村级指标!M4 善行义举榜（期）: “约3”请填写确切的数字" in both.stdout.replace("\n", "")
    assert not (tmp_path / "warehouse").exists()


def test_template_command_writes_one_or_all(tmp_path: Path):
    one = huizong("template", "--unit", "990101100", "--period", "2020年第一季度",
                  "--out", "t.xlsx", cwd=tmp_path)
    assert one.returncode == 0 and (tmp_path / "t.xlsx").exists()
    every = huizong("template", "--period", "2020Q1", cwd=tmp_path)
    assert every.returncode == 0
    assert len(list((tmp_path / "warehouse" / "templates" / "2020Q1").glob("*.xlsx"))) == 13
    assert huizong("template", "--unit", "42", "--period", "2020Q1", cwd=tmp_path).returncode == 1


def test_rerun_of_a_missing_file_is_not_a_failed_pass(tmp_path: Path):
    out = huizong("rerun", "nowhere.xlsx", cwd=tmp_path)
    assert out.returncode == 2 and "no such file" in out.stdout


def test_check_prints_names_and_cells_as_they_are(tmp_path: Path):
    town = cat.towns()[2]
    village = cat.villages_of(town.code)[0]
    path = write_unit_workbook(tmp_path / "南道镇[v2].xlsx", town, "2019Q1", {(village.code, "V03"): "[/]"})
    out = huizong("check", str(path), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "南道镇[v2].xlsx" in out.stdout and "“[/]”" in out.stdout and "Traceback" not in out.stderr


def test_demo_checks_its_quarters(tmp_path: Path):
    one_sentence(huizong("demo", "--out", "X", "--periods", "2020Q5", cwd=tmp_path), "2020Q5")
    assert not (tmp_path / "X").exists()


def test_a_missing_inbox_creates_nothing(tmp_path: Path):
    one_sentence(huizong("run", cwd=tmp_path), "no inbox")
    assert not (tmp_path / "warehouse").exists()


def test_an_inbox_that_is_a_file(tmp_path: Path):
    (tmp_path / "inbox.xlsx").write_bytes(b"x")
    one_sentence(huizong("run", "--inbox", "inbox.xlsx", cwd=tmp_path), "inbox.xlsx", "not a folder")
    assert not (tmp_path / "warehouse").exists()


def test_a_warehouse_it_cannot_write(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "afile").write_text("")
    one_sentence(huizong("run", "--warehouse", "afile", cwd=tmp_path), "afile")
    one_sentence(huizong("run", "--warehouse", "afile/warehouse", cwd=tmp_path), "afile/warehouse")


def test_a_second_pass_while_one_runs(tmp_path: Path):
    from huizong.store.warehouse import pass_lock

    (tmp_path / "inbox").mkdir()
    with pass_lock(tmp_path / "warehouse"):  # the first pass, as far as the second can tell
        out = huizong("run", cwd=tmp_path)
    one_sentence(out, "another huizong pass")
    assert "Prefect" not in out.stdout + out.stderr


@pytest.mark.parametrize("args, word", [
    (("rerun", "--unit", "123"), "123"),
    (("rerun", "--period", "2019Q5"), "2019Q5"),
    (("status", "--period", "foo"), "foo"),
    (("template", "--period", "2020Q1", "--unit", "990101"), "990101"),
])
def test_units_and_quarters_are_checked(tmp_path: Path, args, word):
    one_sentence(huizong(*args, cwd=tmp_path), word)
    assert not (tmp_path / "warehouse").exists()


def test_a_bad_date_in_huizong_today(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    one_sentence(huizong("run", cwd=tmp_path, HUIZONG_TODAY="tomorrow"), "HUIZONG_TODAY")


def test_query_without_a_warehouse_or_with_a_broken_one(tmp_path: Path):
    one_sentence(huizong("query", "select 1", "--warehouse", "/nonexistent", cwd=tmp_path), "/nonexistent")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "huizong.duckdb").write_text("not a database")
    one_sentence(huizong("query", "select 1", "--warehouse", "junk", cwd=tmp_path), "junk")
    fake_warehouse(tmp_path / "warehouse")
    one_sentence(huizong("query", "select * from\nnowhere", cwd=tmp_path), "query failed")


def test_query_says_where_it_cut_and_prints_data_as_is(tmp_path: Path):
    fake_warehouse(tmp_path / "warehouse")
    table = huizong("query", "select * from t order by n", "--limit", "3", cwd=tmp_path)
    assert table.returncode == 0 and "[/]2" in table.stdout and "[/]3" not in table.stdout
    assert "the first 3 rows" in table.stdout
    whole = huizong("query", "select * from t", "--limit", "600", cwd=tmp_path)
    assert whole.returncode == 0 and "the first" not in whole.stdout
    csv = huizong("query", "select n from t order by n", "--csv", cwd=tmp_path)
    assert csv.stdout.split() == ["n", *map(str, range(500))]
    as_json = huizong("query", "select n, s from t order by n limit 2", "--format", "json", cwd=tmp_path)
    assert __import__("json").loads(as_json.stdout) == [{"n": 0, "s": "[/]0"}, {"n": 1, "s": "[/]1"}]
    md = huizong("query", "select n from t order by n", "--format", "markdown", "--limit", "2", cwd=tmp_path)
    assert md.stdout.startswith("| n |\n|---|\n| 0 |\n| 1 |\n") and "the first 2 rows" in md.stdout


def test_query_into_a_closed_pipe_ends_quietly(tmp_path: Path):
    fake_warehouse(tmp_path / "warehouse", rows=20_000)  # 200 KB of CSV: more than a pipe holds
    cmd = f"{sys.executable} -m huizong.cli query 'select * from t' --csv | head -1; exit ${{PIPESTATUS[0]}}"
    out = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "n,s\n" and out.stderr == ""
    # a table is printed by rich, which would end with exit 1 on the closed pipe
    cmd = f"{sys.executable} -m huizong.cli query 'select * from t' --limit 20000 | head -1; exit ${{PIPESTATUS[0]}}"
    out = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=300)
    assert (out.returncode, out.stderr, out.stdout.count("\n")) == (0, "", 1)


def test_a_bug_is_one_line_unless_verbose(tmp_path: Path, monkeypatch, capsys):
    def broken(args):
        raise ValueError("a bug")

    monkeypatch.setattr(reads, "cmd_status", broken)
    assert cli.main(["status", "--warehouse", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "bug" in err and "--verbose" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["--verbose", "status"]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert cli.main(["status", "--verbose"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_the_pass_summary_prints_copies_and_refused_files_once(capsys):
    passes.print_pass_summary(PassResult(
        files=[{"file_name": "东坪镇[1].xlsx", "status": "rejected", "first_reason": "“[/]”", "n_warnings": 0}],
        refused=[Refused("link.xlsx", "a symbolic link")] * 2, copies=[Copy("copy.xlsx", "东坪镇_2019Q1.xlsx")]))
    out = capsys.readouterr().out
    assert out.count("refused link.xlsx: a symbolic link") == 1
    assert "copy.xlsx" in out and "东坪镇_2019Q1.xlsx" in out and "rejected 东坪镇[1].xlsx: “[/]”" in out


def test_prefect_logs_no_traceback_unless_verbose():
    import logging

    import prefect.main  # noqa: F401  (sets up Prefect's logging)
    from prefect.logging.handlers import PrefectConsoleHandler

    passes.tracebacks_only_when_verbose()
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = [h for lg in loggers for h in getattr(lg, "handlers", []) if isinstance(h, PrefectConsoleHandler)]
    assert handlers
    try:
        raise ValueError("in a task")
    except ValueError:
        record = logging.getLogger("prefect.huizong_test").makeRecord(
            "prefect.huizong_test", logging.ERROR, __file__, 1, "Task run failed", (), sys.exc_info())
    for handler in handlers:
        line = handler.format(record)
        assert "Task run failed" in line and "Traceback" not in line
    assert record.exc_info  # the record itself is untouched for the other handlers


def test_the_pass_summary_groups_problems_by_rule_and_unit(capsys):
    cells = [{"file": "城关镇.xlsx", "sheet": "村级指标", "cell": "E12"},
             {"file": "城关镇.xlsx", "sheet": "村级指标", "cell": "E14"},
             {"file": "西关镇[2].xlsx", "sheet": "", "cell": ""}]
    passes.print_pass_summary(PassResult(
        files=[{"file_name": "城关镇.xlsx", "status": "loaded", "first_reason": None, "n_warnings": 2},
                  {"file_name": "西关镇[2].xlsx", "status": "rejected", "first_reason": "封面: 无法识别", "n_warnings": 0}],
        problems=[
            {"grouping": "rule", "key": "flow_spike", "label": "flow_spike", "errors": 0, "warnings": 2,
             "files": 1, "first_cells": cells[:2], "example": "村级指标!E12 道德讲堂: “60”超过"},
            {"grouping": "rule", "key": "cover", "label": "cover", "errors": 1, "warnings": 0,
             "files": 1, "first_cells": cells[2:], "example": "封面: 无法识别"},
            {"grouping": "unit", "key": "990101100", "label": "城关镇 990101100", "errors": 0, "warnings": 2,
             "files": 1, "first_cells": cells[:2], "example": "村级指标!E12 道德讲堂: “60”超过"}]))
    out = " ".join(capsys.readouterr().out.split())
    assert "problems by rule" in out and "problems by unit" in out
    assert "城关镇.xlsx 村级指标!E12, E14" in out  # each file and sheet named once
    assert "西关镇[2].xlsx (whole file)" in out  # a file name is data, never markup
    assert "flow_spike, for example: 村级指标!E12 道德讲堂: “60”超过" in out
    assert "warnings (loaded anyway) │ 2" in out


def test_places_name_each_file_and_sheet_once():
    from huizong.intake.problems import places

    cells = [{"file": "a.xlsx", "sheet": "村级指标", "cell": "E2"}, {"file": "a.xlsx", "sheet": "村级指标", "cell": "L3"},
             {"file": "a.xlsx", "sheet": "镇级指标", "cell": "D3"}, {"file": "b.xlsx", "sheet": "村级指标", "cell": ""},
             {"file": "c.xlsx", "sheet": "", "cell": ""}]
    assert places(cells) == "a.xlsx 村级指标!E2, L3, 镇级指标!D3; b.xlsx 村级指标; c.xlsx (whole file)"


def test_status_says_what_the_warehouse_holds_on_disk(tmp_path):
    from huizong.office.status import Storage, storage

    (tmp_path / "files" / "ab").mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    (tmp_path / "huizong.duckdb").write_bytes(b"d" * 3000)
    (tmp_path / "files" / "ab" / "ab12.xlsx").write_bytes(b"k" * 700)
    (tmp_path / "files" / "ab" / "ab34.xls").write_bytes(b"k" * 300)
    (tmp_path / "reports" / "summary_2019.md").write_bytes(b"r" * 50)
    assert storage(tmp_path) == Storage(warehouse_bytes=3000, kept_bytes=1000, kept_files=2, other_bytes=50)
