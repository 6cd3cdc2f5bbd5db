"""Problems found in a submitted file, worded in Chinese for the town clerk."""
from __future__ import annotations

from dataclasses import dataclass

from huizong.cells import (APPROXIMATE, CHINESE_NUMERAL, EXCEL_ERROR, NOT_A_FLAG, NOT_A_NUMBER,
                           UNSAVED_FORMULA)

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    sha256: str
    sheet: str  # "" when the problem is the whole file
    cell: str  # Excel reference such as "D7"; "" when none applies
    indicator_code: str
    check: str  # machine-readable name of the rule that failed
    message: str  # the whole sentence a clerk reads, location included
    severity: str = ERROR


def located(sheet: str, cell: str, what: str, text: str) -> str:
    """`村级指标!E5 道德讲堂（场次）: "-2" 不能为负数`: where, what, then what is wrong."""
    where = f"{sheet}!{cell}" if sheet and cell else sheet
    head = " ".join(p for p in (where, what) if p)
    return f"{head}: {text}" if head else text


# Why a cell could not be read, by issue code (see cells.py).
CELL_ISSUES = {
    EXCEL_ERROR: "是 Excel 错误值，请修正公式或改填数字",
    CHINESE_NUMERAL: "请用阿拉伯数字填写，不能用汉字数字",
    APPROXIMATE: "请填写确切的数字，不能填约数（如“约100”“100余”“100+”）",
    NOT_A_NUMBER: "不是有效的数字",
    NOT_A_FLAG: "只能填 1/0 或 是/否",
    UNSAVED_FORMULA: "是公式，但文件中没有保存计算结果，请在 Excel 中打开、计算并保存后再报送，或直接填写数字",
}
NOT_A_LEVEL_TEXT = "只能填 无、县级、市级、省级、全国 之一"
