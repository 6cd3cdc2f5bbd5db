"""The `huizong` command as a user runs it: a real process, a real inbox and warehouse."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from huizong.cli import parser
from huizong.demo import write_unit_workbook
from schemas import catalog as cat


def huizong(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "huizong.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_run_status_query_end_to_end(tmp_path: Path):
    town = cat.towns()[0]
    village = cat.villages_of(town.code)[0]
    write_unit_workbook(tmp_path / "inbox" / "good.xlsx", town, "2019Q1")
    write_unit_workbook(tmp_path / "inbox" / "bad.xlsx", town, "2019Q2", {(village.code, "V03"): "十二"})
    (tmp_path / "inbox" / "~$good.xlsx").write_bytes(b"lock")  # Excel's lock file: ignored

    first = huizong("run", cwd=tmp_path)
    assert first.returncode == 2, first.stderr
    assert "Traceback" not in first.stderr + first.stdout
    assert "loaded" in first.stdout and "rejected" in first.stdout
    assert "村级指标!E2 道德讲堂（场次）: “十二”请用阿拉伯数字填写" in first.stdout.replace("\n", "")

    second = huizong("run", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "skipped (already received) │ 2" in second.stdout

    status = huizong("status", cwd=tmp_path)
    assert status.returncode == 0
    assert "late" in status.stdout and "rejected" in status.stdout and town.name in status.stdout

    query = huizong("query", "select count(*) as n from ops.imports", cwd=tmp_path)
    assert query.returncode == 0 and "2" in query.stdout
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
