"""Tables the commands print (issue 22, item 4): piped, at their natural width, never folded
inside a word; in a terminal, columns wrapped at spaces, then left out, then the rows told as
records, but a file name, a cell reference or a period never folded nor cut."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from conftest import run_pass
from rich.console import Console
from test_cli import ROOT, huizong

from huizong.core.terminal import table
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWNS = cat.towns()[:2]
PERIODS = ("2019Q1", "2019Q2", "2019Q3", "2019Q4")
REJECTED = f"{TOWNS[0].name}_2019Q3_更正.xlsx"
FILES = [f"{t.name}_{p}.xlsx" for t in TOWNS for p in PERIODS]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, prefect_harness):
    """Two towns' 2019, and a rejected correction of the first town's 2019Q3."""
    root = tmp_path_factory.mktemp("tables")
    inbox, warehouse = root / "inbox", root / "warehouse"
    for town in TOWNS:
        for period in PERIODS:
            write_unit_workbook(inbox / f"{town.name}_{period}.xlsx", town, period)
    village = cat.villages_of(TOWNS[0].code)[0]
    write_unit_workbook(inbox / REJECTED, TOWNS[0], "2019Q3", {(village.code, "V03"): "-2"})
    run_pass(inbox, warehouse)
    return warehouse


def whole_on_a_line(text: str, words: list[str]) -> None:
    """Each word is printed whole on some line (not folded over two)."""
    lines = text.splitlines()
    for word in words:
        assert any(word in line for line in lines), f"{word!r} folded or missing in:\n{text}"


def in_a_terminal(columns: int, *args: str) -> str:
    """The command's output in a terminal `columns` wide (a pseudo-terminal), styles removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "huizong.cli", *args], stdin=follower, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=300) == 0, out.decode(errors="replace")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", out.decode()).replace("\r\n", "\n")


def data_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("│")]


@pytest.mark.parametrize("columns", ["40", "80"])
def test_piped_explain_is_at_its_natural_width(warehouse, columns):
    out = huizong("explain", "--year", "2019", "--indicator", "T03", "--warehouse", str(warehouse),
                  cwd=warehouse.parent, COLUMNS=columns)
    assert out.returncode == 0, out.stderr
    whole_on_a_line(out.stdout, FILES + ["镇级指标!D4", *PERIODS])
    rows = data_rows(out.stdout)
    assert len(rows) == 8  # one line per value: 2 towns x 4 quarters, nothing wrapped
    for row, (town, period) in zip(rows, [(t, p) for t in TOWNS for p in PERIODS]):
        assert row.count(town.code) == 1, row  # a town's own figure: its name and code once
        assert f"{town.name}_{period}.xlsx" in row and period in row


def test_a_village_figure_names_the_town_that_sent_it(warehouse):
    out = huizong("explain", "--year", "2019", "--indicator", "V03", "--warehouse", str(warehouse),
                  cwd=warehouse.parent)
    assert out.returncode == 0, out.stderr
    village = cat.villages_of(TOWNS[0].code)[0]
    row = next(r for r in data_rows(out.stdout) if village.code in r)
    assert "submitted by" in out.stdout and f"{TOWNS[0].name} {TOWNS[0].code}" in row


def test_piped_status_never_folds_a_period_or_a_word(warehouse):
    out = huizong("status", "--warehouse", str(warehouse), cwd=warehouse.parent, COLUMNS="40")
    assert out.returncode == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "unit" in line and "2019Q1" in line)
    assert all(p in header for p in PERIODS), out.stdout
    assert "+1 rejected" in out.stdout  # 城关镇's 2019Q3
    assert len(data_rows(out.stdout)) == len(cat.submitters())  # one line per unit, nothing wrapped


@pytest.mark.parametrize("columns", [80, 60])
def test_explain_in_a_terminal_fits_without_folding(warehouse, columns):
    text = in_a_terminal(columns, "explain", "--year", "2019", "--indicator", "T03", "--warehouse", str(warehouse))
    table_lines = [line for line in text.splitlines() if line.startswith(("│", "┃", "┏", "└"))]
    assert all(len(line) <= columns for line in table_lines)
    whole_on_a_line(text, FILES + ["镇级指标!D4", *PERIODS])
    assert "…" not in text
    if not table_lines:  # too narrow for the table: its rows as records
        assert "file_name: 城关镇_2019Q1.xlsx" in text and "cell: 镇级指标!D4" in text


@pytest.mark.parametrize("columns", [80, 50])
def test_status_in_a_terminal_leaves_out_quarters_rather_than_fold(warehouse, columns):
    text = in_a_terminal(columns, "status", "--warehouse", str(warehouse))
    shown = [p for p in PERIODS if p in text.split("loaded: a valid version")[0]]
    assert "2019Q4" in shown and "…" not in text
    whole_on_a_line(text, shown + ["rejected", REJECTED])
    if len(shown) < len(PERIODS):
        assert "left out: " + ", ".join(p for p in PERIODS if p not in shown) in text


def render(t, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    console.print(t)
    return console.file.getvalue()


def sample():
    t = table("files", "file", "cell", "reason", "sha256", optional=("sha256",), prose=("reason",))
    t.add_row("城关镇_2019Q3_更正.xlsx", "村级指标!E12", "“-2”不能为负数，请填写本季度实际开展的场次，"
              "不要填写累计数", "e3a2fb3547d8")
    return t


def test_a_table_in_a_terminal_wraps_then_leaves_out_then_folds_prose_then_lists_records():
    wide = render(sample(), 120)
    assert "e3a2fb3547d8" in wide and "left out" not in wide
    narrow = render(sample(), 60)  # the hash goes first; the prose folds; names stay whole
    assert "e3a2fb3547d8" not in narrow and "left out: sha256" in narrow
    whole_on_a_line(narrow, ["城关镇_2019Q3_更正.xlsx", "村级指标!E12"])
    records = render(sample(), 30)  # too narrow for the names: one line per field
    assert "file: 城关镇_2019Q3_更正.xlsx" in records and "cell: 村级指标!E12" in records


def test_a_piped_table_is_as_wide_as_its_cells(capsys):
    from huizong.core.terminal import make_console

    console = make_console()  # stdout is captured here: not a terminal
    t = table(None, "reason")
    t.add_row("x" * 150)
    console.print(t)
    assert "│ " + "x" * 150 + " │" in capsys.readouterr().out
