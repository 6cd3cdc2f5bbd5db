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
    assert "loaded" in status.stdout and "rejected" in status.stdout and town.name in status.stdout

    query = huizong("query", "select count(*) as n from ops.imports", cwd=tmp_path)
    assert query.returncode == 0 and "2" in query.stdout
    assert huizong("query", "select * from nowhere", cwd=tmp_path).returncode == 1


def test_every_command_has_help_with_an_example():
    commands = parser()._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        assert "Example:" in (sub.description or ""), name
