"""The filling rules of FORM.md, cell by cell."""
import pytest

from huizong.core.cells import (
    APPROXIMATE,
    CHINESE_NUMERAL,
    EXCEL_ERROR,
    NOT_A_FLAG,
    NOT_A_NUMBER,
    code_text,
    parse_cell,
    parse_period,
)


@pytest.mark.parametrize("raw, value", [
    (None, 0), ("", 0), ("0", 0), ("—", 0), ("-", 0), ("/", 0), ("无", 0), (0.0, 0),
    (12.0, 12), ("12", 12), (" 12 ", 12), ("１２", 12), ("1,200", 1200), ("１，２００", 1200),
    ("-2", -2), ("3.5", 3.5),
])
def test_numbers_and_zero_words(raw, value):
    cell = parse_cell(raw, "flow")
    assert cell.issue is None and cell.value == value


@pytest.mark.parametrize("raw, issue", [
    ("十二", CHINESE_NUMERAL), ("约100", APPROXIMATE), ("100余", APPROXIMATE),
    ("100+", APPROXIMATE), ("#REF!", EXCEL_ERROR), ("#DIV/0!", EXCEL_ERROR), ("abc", NOT_A_NUMBER),
    ("1,20", NOT_A_NUMBER), (True, NOT_A_NUMBER),
])
def test_unreadable_numbers(raw, issue):
    assert parse_cell(raw, "stock").issue == issue


@pytest.mark.parametrize("raw, value", [("是", 1), ("否", 0), (1.0, 1), ("0", 0), ("", 0), (True, 1)])
def test_flags(raw, value):
    assert parse_cell(raw, "flag").value == value


def test_flag_words_other_than_yes_no_are_not_flags():
    assert parse_cell("有", "flag").issue == NOT_A_FLAG


@pytest.mark.parametrize("raw, level", [("", "无"), ("县级", "县级"), (" 全国 ", "全国"), ("国家级", "国家级")])
def test_levels_keep_their_text_for_the_schema(raw, level):
    assert parse_cell(raw, "level").level == level


@pytest.mark.parametrize("raw, period", [
    ("2019Q1", "2019Q1"), ("2019q3", "2019Q3"), ("2019年第1季度", "2019Q1"),
    ("2019年第一季度", "2019Q1"), ("2019年第四季度", "2019Q4"), ("２０１９Q2", "2019Q2"),
    ("2019Q5", None), ("2019年", None), ("", None),
])
def test_periods(raw, period):
    assert parse_period(raw) == period


def test_codes_read_from_number_cells():
    assert code_text(990101100.0) == "990101100"
