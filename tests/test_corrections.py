"""What a correction changed (issue 16, part 4): marts.corrections and `huizong diff` on a real
pass over real workbooks. A town sends a file, then a corrected one with two village values and
one town value changed, then the corrected one again in another layout (a duplicate); another
town sends three versions with a rejected file among them; a department corrects its own value.
The old values are the demo generator's (huizong.outputs.demo.true_value), the new ones are chosen here,
and the cells are looked up in the written workbooks with openpyxl: never read back from the
code under test."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from conftest import clock_at, query, run_pass
from openpyxl import load_workbook
from test_cli import huizong, one_sentence

from huizong.outputs.demo import true_value, write_unit_workbook
from huizong.schemas import catalog as cat

TODAY = "2019-11-01"
PERIOD = "2019Q3"
OFFICE = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has had no summer time since 1991
TOWN, SECOND, SINGLE, SILENT = cat.towns()[0], cat.towns()[1], cat.towns()[2], cat.towns()[3]
DEPARTMENT = cat.unit_by_code()["990101902"]


def at(day: int, hour: int = 10) -> float:
    """A moment of October 2019 in the office's time zone, as a file's mtime."""
    return dt.datetime(2019, 10, day, hour, tzinfo=OFFICE).timestamp()


def other_count(old: float, top: float) -> float:
    return old + 1 if old < top else old - 1


def other_level(old: str) -> str:
    return "市级" if old != "市级" else "县级"


V_A0, V_A1 = cat.villages_of(TOWN.code)[:2]
V_B0, V_B1 = cat.villages_of(SECOND.code)[:2]
OLD = {  # (holder, indicator) -> the value the first file carries, the generator's
    (V_A0.code, "V03"): true_value(V_A0.code, PERIOD, "V03"),
    (V_A1.code, "V07"): true_value(V_A1.code, PERIOD, "V07"),
    (TOWN.code, "T02"): true_value(TOWN.code, PERIOD, "T02"),
    (V_B0.code, "V10"): true_value(V_B0.code, PERIOD, "V10"),
    (V_B1.code, "V11"): true_value(V_B1.code, PERIOD, "V11"),
    (DEPARTMENT.code, "E01"): true_value(DEPARTMENT.code, PERIOD, "E01"),
}
NEW = {  # the corrected values, chosen here: each differs from the old one and stays in range
    (V_A0.code, "V03"): other_count(OLD[(V_A0.code, "V03")], 100),
    (V_A1.code, "V07"): other_level(OLD[(V_A1.code, "V07")]),
    (TOWN.code, "T02"): other_count(OLD[(TOWN.code, "T02")], 2000),
    (V_B0.code, "V10"): other_count(OLD[(V_B0.code, "V10")], 500),
    (V_B1.code, "V11"): other_count(OLD[(V_B1.code, "V11")], 50),
    (DEPARTMENT.code, "E01"): other_count(OLD[(DEPARTMENT.code, "E01")], 1000),
}
TOWN_FIX = {k: NEW[k] for k in [(V_A0.code, "V03"), (V_A1.code, "V07"), (TOWN.code, "T02")]}


@pytest.fixture(scope="module")
def corrected(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("corrections")
    inbox, warehouse = root / "inbox", root / "warehouse"

    def send(name: str, unit: cat.Unit, day: int, overrides=None, **kwargs):
        path = write_unit_workbook(inbox / name, unit, PERIOD, overrides, **kwargs)
        os.utime(path, (at(day),) * 2)
        return path

    files = {
        "a1": send("城关镇_三季度.xlsx", TOWN, 5, header="full"),
        "a2": send("城关镇_三季度_更正.xlsx", TOWN, 8, TOWN_FIX, header="full"),
        "a3": send("城关镇_三季度_更正(2).xlsx", TOWN, 9, TOWN_FIX, header="bare"),  # the same figures
        "b1": send("西关镇_1.xlsx", SECOND, 5),
        "b2": send("西关镇_2.xlsx", SECOND, 7, {(V_B0.code, "V10"): NEW[(V_B0.code, "V10")]}),
        "b_bad": send("西关镇_2b.xlsx", SECOND, 8, {(V_B0.code, "V03"): "十二"}),
        "b3": send("西关镇_3.xlsx", SECOND, 9, {(V_B0.code, "V10"): NEW[(V_B0.code, "V10")],
                                                (V_B1.code, "V11"): NEW[(V_B1.code, "V11")]}),
        "c1": send("南道镇.xlsx", SINGLE, 6),
        "e1": send("教育局.xlsx", DEPARTMENT, 6),
        "e2": send("教育局_更正.xlsx", DEPARTMENT, 12, {(DEPARTMENT.code, "E01"): NEW[(DEPARTMENT.code, "E01")]}),
    }
    with clock_at(TODAY):
        run_pass(inbox, warehouse)
    return root, warehouse, files


def cell_of(path, holder_code: str, code: str) -> tuple[str, str]:
    """(sheet, cell) of a value in a written workbook, found the way a clerk would look."""
    ind = cat.indicator_by_code()[code]
    ws = load_workbook(path)[ind.sheet]
    if ind.sheet == cat.VILLAGE_SHEET:
        col = next(c for c in ws[1] if str(c.value).startswith(ind.name)).column_letter
        row = next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == holder_code)
    else:
        col, row = "D", next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == code)
    return ind.sheet, f"{col}{row}"


def as_mart(value):
    """A value as the mart holds it: a level as text, a number in value."""
    return (None, value) if isinstance(value, str) else (Decimal(str(value)).quantize(Decimal("0.01")), None)


def changed_cells(warehouse, unit_code: str) -> list[tuple]:
    return query(warehouse, """
        select replacement, old_file, new_file, sheet, cell, village_code, village_name, indicator_code,
            old_value, old_level, new_value, new_level
        from marts.corrections where unit_code = ? and period = ?
        order by replacement, sheet, village_code nulls first, indicator_code""", [unit_code, PERIOD])


def expected_row(replacement: int, old_file: str, new_file, holder: cat.Unit, code: str) -> tuple:
    village = (holder.code, holder.name) if holder.type == "village" else (None, None)
    old_value, old_level = as_mart(OLD[(holder.code, code)])
    new_value, new_level = as_mart(NEW[(holder.code, code)])
    return (replacement, old_file, new_file.name, *cell_of(new_file, holder.code, code), *village, code,
            old_value, old_level, new_value, new_level)


def test_a_correction_is_exactly_the_three_cells_it_changed(corrected):
    _, warehouse, files = corrected
    expected = [expected_row(1, files["a1"].name, files["a2"], V_A0, "V03"),
                expected_row(1, files["a1"].name, files["a2"], V_A1, "V07"),
                expected_row(1, files["a1"].name, files["a2"], TOWN, "T02")]
    assert changed_cells(warehouse, TOWN.code) == expected
    (replaced_at,) = query(warehouse, "select distinct replaced_at from marts.corrections where unit_code = ?",
                           [TOWN.code])[0]
    assert replaced_at.timestamp() == at(8)


def test_a_duplicate_is_a_replacement_that_changed_nothing(corrected):
    _, warehouse, files = corrected
    statuses = dict(query(warehouse, "select file_name, status from ops.imports where unit_code = ?", [TOWN.code]))
    assert statuses == {files["a1"].name: "superseded", files["a2"].name: "loaded", files["a3"].name: "duplicate"}
    chain = query(warehouse, """select replacement, old_file, new_file from intermediate.int_replacements
                                where unit_code = ? order by replacement""", [TOWN.code])
    assert chain == [(1, files["a1"].name, files["a2"].name), (2, files["a2"].name, files["a3"].name)]
    assert query(warehouse, "select count(*) from marts.corrections where new_file = ?", [files["a3"].name]) == [(0,)]


def test_three_versions_give_two_replacements_each_against_the_one_before(corrected):
    """b1 and b2 are both superseded_by b3 in the ledger; the clerk sees b1 -> b2, then b2 -> b3
    (only V11 changed there: V10 was corrected already), and the rejected file takes no part."""
    _, warehouse, files = corrected
    assert changed_cells(warehouse, SECOND.code) == [
        expected_row(1, files["b1"].name, files["b2"], V_B0, "V10"),
        expected_row(2, files["b2"].name, files["b3"], V_B1, "V11")]
    superseded_by = dict(query(warehouse, """select i.file_name, w.file_name from ops.imports i
                                             join ops.imports w on w.sha256 = i.superseded_by
                                             where i.unit_code = ?""", [SECOND.code]))
    assert superseded_by == {files["b1"].name: files["b3"].name, files["b2"].name: files["b3"].name}


def test_a_departments_own_value_has_no_village(corrected):
    _, warehouse, files = corrected
    assert changed_cells(warehouse, DEPARTMENT.code) == [expected_row(1, files["e1"].name, files["e2"],
                                                                      DEPARTMENT, "E01")]


def test_one_version_no_correction(corrected):
    _, warehouse, _ = corrected
    assert query(warehouse, "select count(*) from intermediate.int_replacements where unit_code = ?",
                 [SINGLE.code]) == [(0,)]


def shown(value) -> str:
    return value if isinstance(value, str) else str(int(value))


def test_diff_prints_each_replacement_old_to_new(corrected):
    root, warehouse, files = corrected
    out = huizong("diff", "--unit", TOWN.code, "--period", PERIOD, "--warehouse", str(warehouse),
                  cwd=root, COLUMNS="200")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"{TOWN.name} {TOWN.code} {PERIOD}: 3 valid version(s), 2 replacement(s)" in text
    assert f"replacement 1: {files['a1'].name} -> {files['a2'].name} (received 2019-10-08 10:00): " \
           "3 cell(s) changed" in text
    assert f"replacement 2: {files['a2'].name} -> {files['a3'].name} (received 2019-10-09 10:00): " \
           "the same figures (a duplicate), no cell changed" in text
    rows = [line for line in text.splitlines() if "│" in line]
    for holder, code in TOWN_FIX:
        sheet, cell = cell_of(files["a2"], holder, code)
        row = next(r for r in rows if f" {cell} " in r and code in r)
        old, new = shown(OLD[(holder, code)]), shown(NEW[(holder, code)])
        cells = [c.strip() for c in row.split("│")]
        assert cells[-3].split()[0] == old and cells[-2].split()[0] == new, row


def test_diff_of_three_versions_and_a_rejected_one(corrected):
    root, warehouse, files = corrected
    out = huizong("diff", "--unit", SECOND.code, "--period", PERIOD, "--warehouse", str(warehouse),
                  cwd=root, COLUMNS="200")
    assert out.returncode == 0, out.stderr
    assert "3 valid version(s) and 1 other(s) (rejected), 2 replacement(s)" in out.stdout
    assert f"replacement 2: {files['b2'].name} -> {files['b3'].name}" in out.stdout
    assert files["b_bad"].name in out.stdout  # listed among the versions, not in the chain


def test_diff_of_a_single_version_says_so(corrected):
    root, warehouse, files = corrected
    out = huizong("diff", "--unit", SINGLE.code, "--period", PERIOD, "--warehouse", str(warehouse), cwd=root)
    assert out.returncode == 0, out.stderr
    assert f"one valid version ({files['c1'].name}): nothing was replaced" in out.stdout


@pytest.mark.parametrize("unit, period, word", [
    ("123", PERIOD, "123"),
    (TOWN.code, "2019Q5", "2019Q5"),
    (SILENT.code, PERIOD, SILENT.code),  # a unit that sent nothing for the quarter
])
def test_diff_of_an_unknown_unit_or_quarter_is_one_sentence(corrected, unit, period, word):
    root, warehouse, _ = corrected
    one_sentence(huizong("diff", "--unit", unit, "--period", period, "--warehouse", str(warehouse), cwd=root),
                 word)


def test_status_names_the_corrected_units_and_the_diff_command(corrected):
    root, warehouse, _ = corrected
    out = huizong("status", "--period", PERIOD, "--warehouse", str(warehouse), cwd=root, COLUMNS="200")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"{TOWN.name} {TOWN.code} {PERIOD}: 1 correction(s), 3 cell(s) changed; " \
           f"see huizong diff --unit {TOWN.code} --period {PERIOD}" in text
    assert f"{SECOND.name} {SECOND.code} {PERIOD}: 2 correction(s), 2 cell(s) changed" in text
    assert f"{DEPARTMENT.name} {DEPARTMENT.code} {PERIOD}: 1 correction(s), 1 cell(s) changed" in text
    assert f"{SINGLE.name} {SINGLE.code} {PERIOD}:" not in text
