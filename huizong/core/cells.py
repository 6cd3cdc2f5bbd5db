"""Turn one cell as read from a workbook into a value, by FORM.md's filling rules.

Pure functions: no I/O. A cell that cannot be read gets an `issue` code instead of a value; the
pandera schema rejects rows with an issue and `problems.py` words it for the clerk.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ZERO_WORDS = {"", "0", "—", "-", "/", "无", "－", "／", "–", "——"}
FLAG_WORDS = {"是": 1.0, "否": 0.0}
EXCEL_ERRORS = {"#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
CHINESE_NUMERALS = set("零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟")
APPROX_MARKERS = ("约", "余", "多", "+", "＋", "左右", "近", "以上", "超过", "~", "～")

# Fold full-width digits and the signs a number uses; only applied where a number is expected.
_WIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")

# Issue codes a cell can carry (messages in problems.py).
EXCEL_ERROR = "excel_error"
CHINESE_NUMERAL = "chinese_numeral"
APPROXIMATE = "approximate"
NOT_A_NUMBER = "not_a_number"
NOT_A_FLAG = "not_a_flag"


UNSAVED_FORMULA = "unsaved_formula"


@dataclass(frozen=True)
class Unreadable:
    """A cell that holds no value to read: an Excel error, or a formula saved without its result."""
    issue: str  # EXCEL_ERROR or UNSAVED_FORMULA
    text: str  # what the clerk sees in Excel: "#REF!" or "=SUM(C2:C9)"


class Percent(float):
    """A number its cell shows as a percentage: 0.05 that the clerk sees as 5%."""
    decimals: int  # as its number format shows it: "0%" 0, "0.00%" 2

    def __new__(cls, value: float, decimals: int = 0) -> "Percent":
        number = super().__new__(cls, value)
        number.decimals = decimals
        return number

    def __reduce__(self):  # to a worker's parent and back, with its decimals
        return Percent, (float(self), self.decimals)

    @property
    def shown(self) -> str:
        return f"{self * 100:.{self.decimals}f}%"


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None = None
    level: str | None = None
    issue: str | None = None


def cell_text(raw: object) -> str:
    """The cell as a clerk sees it, for messages: 12.0 -> "12", "  x " -> "x"."""
    if type(raw) is str:  # the common cases first: this runs for every cell
        return raw.strip()
    if type(raw) is float:
        return str(int(raw)) if raw.is_integer() else str(raw)
    if raw is None:
        return ""
    if isinstance(raw, Unreadable):
        return raw.text
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def shown_visibly(text: str) -> str:
    """Text quoted back to a clerk with what Excel does not show written out: a zero-width
    space, a BOM, a no-break or full-width space, a control character become 〈U+200B〉, so that
    `村级指标` and `村级指标〈U+200B〉` no longer look alike. (Python's non-printable characters:
    Unicode's "Other" and "Separator" ones, but for the ASCII space.)"""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"〈U+{ord(ch):04X}〉" for ch in text)


def parse_number(raw: object) -> Cell:
    """A count or amount: numbers, numbers as text, full-width digits, 1,200; zero words are 0."""
    if raw is None:
        return Cell(value=0.0)
    if isinstance(raw, Unreadable):
        return Cell(issue=raw.issue)
    if isinstance(raw, bool) or isinstance(raw, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return Cell(issue=NOT_A_NUMBER)
    if isinstance(raw, (int, float)):
        return Cell(value=float(raw))
    text = str(raw).strip()
    if text in ZERO_WORDS:
        return Cell(value=0.0)
    if text.upper() in EXCEL_ERRORS:
        return Cell(issue=EXCEL_ERROR)
    folded = text.translate(_WIDTH).replace(" ", "")
    if _THOUSANDS.match(folded):
        folded = folded.replace(",", "")
    if _NUMBER.match(folded):
        return Cell(value=float(folded))
    if any(m in text for m in APPROX_MARKERS) and re.search(r"\d", folded):
        return Cell(issue=APPROXIMATE)
    if any(ch in CHINESE_NUMERALS for ch in text):
        return Cell(issue=CHINESE_NUMERAL)
    return Cell(issue=NOT_A_NUMBER)


def parse_flag(raw: object) -> Cell:
    """A yes/no flag: 1/0 or 是/否 (empty means 0); range is checked by the schema."""
    if isinstance(raw, bool):
        return Cell(value=1.0 if raw else 0.0)
    if isinstance(raw, Unreadable):
        return Cell(issue=raw.issue)
    text = cell_text(raw)
    if text in FLAG_WORDS:
        return Cell(value=FLAG_WORDS[text])
    cell = parse_number(raw)
    if cell.issue in (NOT_A_NUMBER, CHINESE_NUMERAL, APPROXIMATE):
        return Cell(issue=NOT_A_FLAG)
    return cell


def parse_level(raw: object) -> Cell:
    """A level of civilized village or town; an empty cell means 无 (none).

    Any other text is kept as it is: whether it is one of LEVELS is the schema's check."""
    if isinstance(raw, Unreadable):
        return Cell(issue=raw.issue)
    text = cell_text(raw)
    if text == "":
        return Cell(level="无")
    if text.upper() in EXCEL_ERRORS:
        return Cell(issue=EXCEL_ERROR)
    return Cell(level=text)


def parse_cell(raw: object, kind: str) -> Cell:
    if type(raw) is float and kind != "level":  # most cells: a number, as Excel stores it
        return Cell(value=raw)
    if kind == "level":
        return parse_level(raw)
    if kind == "flag":
        return parse_flag(raw)
    return parse_number(raw)


def code_text(raw: object) -> str:
    """A unit or village code as text: 990101100.0 -> "990101100", "９９０" -> "990"."""
    return cell_text(raw).translate(_WIDTH).replace(" ", "")


_PERIOD_FORMS = (
    re.compile(r"^(\d{4})\s*[Qq]\s*([1-4])$"),
    re.compile(r"^(\d{4})\s*年\s*第?\s*([1-4一二三四])\s*季度?$"),
)
_CN_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}


def parse_period(raw: object) -> str | None:
    """`2019Q1`, `2019年第1季度` or `2019年第一季度` -> "2019Q1"; None when it is none of them."""
    text = cell_text(raw).translate(_WIDTH).replace(" ", "")
    for form in _PERIOD_FORMS:
        m = form.match(text)
        if m:
            return f"{m.group(1)}Q{_CN_QUARTER.get(m.group(2), m.group(2))}"
    return None
