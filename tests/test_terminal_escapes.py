"""Terminal escapes from files (issue 28, item 4): text a town controls (cells, 情况说明
explanations, file names) never reaches the terminal as control sequences, and a long cell is
cut. The real commands run on real workbooks whose cells, explanations and file names hold
ESC[2J (clear the screen), OSC 8 (a hidden link), a bidi override and 100 KB of text; their
output is piped, so every ESC in it could only have come from a file."""
from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_cli import huizong

from huizong.core.terminal import shown
from huizong.intake.workbook import EXPLANATION_SHEET
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

pytestmark = pytest.mark.usefixtures("prefect_harness")  # its passes reach the session's server

TOWN, OTHER = cat.towns()[1], cat.towns()[2]
A = cat.villages_of(TOWN.code)[0]
A_CELL = "E2"  # V03 of the first village row (the form's layout: code, name, V01, V02, V03)
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;evil.example\x07点这里\x1b]8;;\x07"
RLO = "\u202e"
LONG = 100_000
EXPLANATION = f"{CLEAR}本季度{LINK}开展{RLO}活动" + "很" * 30_000 + "（完）"
Q3_NAME = f"{TOWN.name}{CLEAR}_2019Q3.xlsx"
BAD_NAME = f"{OTHER.name}{LINK}_2019Q3.xlsx"
LATE_NAME = f"新{CLEAR}.xlsx"
TODAY = "2019-10-20"  # 2019Q3 due by 2019-10-10


# XML cannot hold ESC or BEL: Excel writes them as _x001B_ and _x0007_, which readers decode.
# The workbooks are written with these stand-ins, then their XML is rewritten as Excel's.
IN_XML = {"\x1b": "QQESCQQ", "\x07": "QQBELQQ"}


def stand_in(text: str) -> str:
    for char, token in IN_XML.items():
        text = text.replace(char, token)
    return text


def as_excel_writes_controls(path: Path) -> Path:
    """Every stand-in in the workbook's XML written as Excel writes the control character."""
    parts = {}
    with zipfile.ZipFile(path) as book:
        infos = book.infolist()
        for info in infos:
            parts[info.filename] = book.read(info.filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for info in infos:
            data = parts[info.filename]
            for char, token in IN_XML.items():
                data = data.replace(token.encode(), f"_x{ord(char):04X}_".encode())
            book.writestr(info, data)
    return path


def settled(path: Path) -> Path:
    os.utime(path, (time.time() - 3600,) * 2)
    return path


def explained(path: Path, rows: list[tuple]) -> Path:
    book = load_workbook(path)
    ws = book.create_sheet(EXPLANATION_SHEET)
    for r, row in enumerate([("工作表", "单元格", "情况说明"), *rows], start=1):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """After `huizong run`: the town's 2019Q3 (its file name clears the screen) warns on a
    spike it explains with escapes and 30,000 characters; the other town's 2019Q3 (a link in
    its name) is rejected for a 100 KB cell of escapes; a file still arriving clears the screen."""
    root = tmp_path_factory.mktemp("escapes")
    inbox = root / "inbox"
    for period in ("2019Q1", "2019Q2"):
        settled(write_unit_workbook(inbox / f"{TOWN.name}_{period}.xlsx", TOWN, period, {(A.code, "V03"): 2}))
    q3 = write_unit_workbook(inbox / Q3_NAME, TOWN, "2019Q3", {(A.code, "V03"): 60})
    settled(as_excel_writes_controls(explained(q3, [("村级指标", A_CELL, stand_in(EXPLANATION))])))
    bad = write_unit_workbook(inbox / BAD_NAME, OTHER, "2019Q3",
                              {(cat.villages_of(OTHER.code)[0].code, "V03"): stand_in(CLEAR) + "9" * LONG + "x"})
    settled(as_excel_writes_controls(bad))
    write_unit_workbook(inbox / LATE_NAME, TOWN, "2019Q4")  # just landed: left for the next pass
    run = huizong("run", "--inbox", "inbox", "--warehouse", "warehouse", cwd=root, HUIZONG_TODAY=TODAY)
    return root, run, q3, bad


def harmless(out) -> str:
    """The command's whole output, checked: no control sequence from a file in it."""
    text = out.stdout + out.stderr
    for raw in ("\x1b", "\x07", RLO):
        assert raw not in text, text[:2000]
    return text


def test_a_pass_prints_no_escape_from_a_file(county):
    _, run, _, _ = county
    text = harmless(run)
    assert run.returncode == 2, text
    assert f"{OTHER.name}\\x1b]8;;evil.example\\x07点这里" in text  # the rejected file, named visibly
    assert "新\\x1b[2J\\x1b[H.xlsx" in text  # the file still arriving, in the log and the summary
    assert len(text) < 30_000  # the 100 KB cell is quoted cut


def test_check_shows_a_long_cell_cut_and_its_escapes_visibly(county):
    root, _, q3, bad = county
    out = huizong("check", str(bad), str(q3), "--warehouse", "warehouse", cwd=root, HUIZONG_TODAY=TODAY)
    text = harmless(out)
    assert out.returncode == 2
    assert "〈U+001B〉[2J〈U+001B〉[H9999" in text  # the reader quotes the cell's controls visibly
    assert "characters left out" in text and "”不是有效的数字" in text.split("characters left out")[1]  # its end
    assert len(text.encode()) < 5_000, len(text.encode())  # a 100 KB cell, not 309 KB of output


@pytest.mark.parametrize("args", [
    ("review", "--period", "2019Q3"),
    ("review", "--unit", TOWN.code, "--period", "2019Q3", "--state", "all"),
    ("explain", "--year", "2019", "--indicator", "V03"),
    ("remind", "--period", "2019Q3"),
    ("status",),
    ("diff", "--unit", TOWN.code, "--period", "2019Q3"),
    ("diff", "--unit", OTHER.code, "--period", "2019Q3"),
    ("query", f"select file_name, '{CLEAR}' as x from ops.imports"),
])
def test_every_command_prints_file_text_harmlessly(county, args):
    root, _, _, _ = county
    out = huizong(*args, "--warehouse", "warehouse", cwd=root, HUIZONG_TODAY=TODAY)
    text = harmless(out)
    assert out.returncode == 0, text
    assert "\\x1b" in text  # shown, not silently dropped: the office sees what the town sent
    assert len(text) < 20_000, len(text)


def test_the_explanation_is_cut_and_shown(county):
    root, _, _, _ = county
    out = huizong("review", "--period", "2019Q3", "--warehouse", "warehouse", cwd=root, HUIZONG_TODAY=TODAY)
    text = harmless(out)
    line = next(line for line in text.splitlines() if "说明 (" in line)
    assert "\\x1b[2J\\x1b[H本季度\\x1b]8;;evil.example\\x07点这里\\x1b]8;;\\x07开展\\u202e活动很" in line
    assert line.endswith("很（完）") and "characters left out" in line
    assert len(line) < 500


def test_shown_makes_every_control_visible_and_cuts_in_the_middle():
    assert shown("a\x1b[31mb\x9bc\x7fd\x00e") == "a\\x1b[31mb\\x9bc\\x7fd\\x00e"
    assert shown("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c") == (
        "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c")
    assert shown("一\n二\r\n三\t四") == "一 二\\x0d 三 四"
    cut = shown("头" + "x" * 1000 + "尾", 200)
    assert cut.startswith("头" + "x" * 149) and cut.endswith("x" * 49 + "尾")
    assert "(802 characters left out)" in cut
    assert shown("村级指标!E12 城关镇_2019Q3.xlsx") == "村级指标!E12 城关镇_2019Q3.xlsx"
