"""Templates: prefilled, validated, protected, and a filled one loads as is."""
from pathlib import Path

from openpyxl import load_workbook

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.outputs.demo import true_value
from huizong.outputs.templates import INSTRUCTIONS_SHEET, write_template
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101106"]


def test_template_is_prefilled_validated_and_protected(tmp_path: Path):
    book = load_workbook(write_template(TOWN, "2020Q1", tmp_path / "t.xlsx"))
    cover = {r[0]: r[1] for r in book[cat.COVER_SHEET].iter_rows(values_only=True)}
    assert (cover["填报单位"], cover["单位代码"], cover["报告期"]) == (TOWN.name, TOWN.code, "2020Q1")
    villages = book[cat.VILLAGE_SHEET]
    assert [r[0] for r in villages.iter_rows(min_row=2, values_only=True)] == [
        v.code for v in cat.villages_of(TOWN.code)]
    assert villages.protection.sheet and villages["A2"].protection.locked
    assert not villages["C2"].protection.locked
    rules = {str(dv.sqref): dv for dv in villages.data_validations.dataValidation}
    households = next(dv for ref, dv in rules.items() if ref.startswith("C2"))
    assert (households.type, households.formula1, households.formula2) == ("whole", "0", "5000")
    level = next(dv for ref, dv in rules.items() if ref.startswith("I2"))
    assert level.type == "list" and "省级" in level.formula1
    flag = next(dv for ref, dv in rules.items() if ref.startswith("D2"))
    assert "是" in flag.formula1
    assert INSTRUCTIONS_SHEET in book.sheetnames


def test_a_filled_template_loads(tmp_path: Path):
    path = write_template(TOWN, "2020Q1", tmp_path / "t.xlsx")
    book = load_workbook(path)
    villages = book[cat.VILLAGE_SHEET]
    inds = cat.indicators_for(TOWN, cat.VILLAGE_SHEET, "2019Q1")
    for r, v in enumerate(cat.villages_of(TOWN.code), start=2):
        for c, ind in enumerate(inds, start=3):
            villages.cell(row=r, column=c, value=true_value(v.code, "2020Q1", ind.code))
    town = book[cat.TOWN_SHEET]
    for r in range(2, town.max_row + 1):
        town.cell(row=r, column=4, value=true_value(TOWN.code, "2020Q1", town.cell(row=r, column=1).value))
    book.save(path)
    (outcome,), values = validate_batch([read_submission(path, "sha")])
    assert outcome.ok, [p.message for p in outcome.problems]
    assert (outcome.unit_code, outcome.period) == (TOWN.code, "2020Q1")
    v = cat.villages_of(TOWN.code)[4]
    got = values[(values.unit_code == v.code) & (values.indicator_code == "V08")]["value"].item()
    assert got == true_value(v.code, "2020Q1", "V08")
