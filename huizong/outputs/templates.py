"""Blank workbooks for a unit and a quarter: what a clerk fills, made so that it loads as is.

The layout is `writer.build_workbook`'s (the one the reader expects). On top: an instructions
sheet 填报说明 written from the catalog and FORM.md's filling rules, Excel data validation on every
input cell (whole-number ranges, 是/否 and level drop-downs), and sheet protection that leaves
only the input cells editable.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from huizong.intake.workbook import EXPLANATION_HEADER, EXPLANATION_SHEET
from huizong.intake.writer import build_workbook, put_text
from huizong.schemas import catalog as cat
from huizong.schemas import rules

INSTRUCTIONS_SHEET = "填报说明"
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
COVER_INPUTS = ("填报人", "联系电话", "填报日期")
RULES = (
    "一、请勿修改工作表名称、表头、村（社区）代码和名称、指标代码；每个村（社区）填一行。",
    "二、数值请填阿拉伯数字的整数（“争取财政资金（万元）”可保留 2 位小数）；不能为负数。",
    "三、空白、0、—、-、/、无 都表示 0。",
    "四、不能填汉字数字（如“十二”）、约数（如“约100”“100余”“100+”），不能留 Excel 错误值（如 #REF!）。",
    "五、“是否”类指标填 是/否（或 1/0）。",
    "六、“等级”类指标填 无、县级、市级、省级、全国 之一。",
    "七、同一村的“文明幸福家庭”“十星级文明户”不能大于“总户数”；有人登上光荣榜或黑榜的村，当季“评议活动”应大于 0。",
    "八、报送截止日为季度结束后次月 10 日；逾期仍可报送，但记为迟报。更正后重新报送即可，以最新的合格版本为准。",
    f"九、审核时对异常数字会给出提醒（如超过本单位以往季度中位数的 {rules.SPIKE_FACTOR:g} 倍、上季度为“是”本季度为“否”），提醒不影响入库。"
    "数字确实无误的，请在“情况说明”表中说明：每个数字一行，A 列填提醒中的工作表（如 村级指标），B 列填单元格"
    "（如 E12；也可在 B 列整段填 村级指标!E12），C 列写明这个数字为什么是对的。县文明办审核后予以认可，"
    "或退回请更正。没有需要说明的，此表留空即可。",
)
EXPLANATION_ROWS = 50  # unlocked rows of the 情况说明 sheet: far more than a quarter's warnings


def requirement(ind: cat.Indicator) -> str:
    """What a cell of this indicator takes, in the clerk's words."""
    if ind.kind == "level":
        return "无、县级、市级、省级、全国 之一"
    if ind.kind == "flag":
        return "是/否（或 1/0）"
    places = f"，最多 {ind.decimals} 位小数" if ind.decimals else " 的整数"
    return f"{ind.min:g}–{ind.max:g}{places}"


def validation_for(ind: cat.Indicator) -> DataValidation:
    """Excel's own check for an input cell of this indicator."""
    if ind.kind == "level":
        dv = DataValidation(type="list", formula1='"' + ",".join(cat.LEVELS) + '"')
    elif ind.kind == "flag":
        dv = DataValidation(type="list", formula1='"是,否,1,0"')
    else:
        dv = DataValidation(type="decimal" if ind.decimals else "whole", operator="between",
                            formula1=f"{ind.min:g}", formula2=f"{ind.max:g}")
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.errorTitle = "填写有误"
    dv.error = f"{ind.header}：应填 {requirement(ind)}"
    dv.promptTitle = ind.header
    dv.prompt = requirement(ind)
    dv.showInputMessage = True
    return dv


def _unlock(cell) -> None:
    cell.protection = Protection(locked=False)
    cell.fill = INPUT_FILL


def build_template(unit: cat.Unit, period: str):
    wb = build_workbook(unit, period, {})
    cover = wb[cat.COVER_SHEET]
    for row in cover.iter_rows(min_row=1, max_col=2):
        if row[0].value in COVER_INPUTS:
            _unlock(row[1])
    cover.column_dimensions["A"].width = 12
    cover.column_dimensions["B"].width = 24
    for sheet in cat.sheets_of(unit):
        ws = wb[sheet]
        inds = cat.indicators_for(unit, sheet, period)
        if sheet == cat.VILLAGE_SHEET:
            for c, ind in enumerate(inds, start=3):
                dv = validation_for(ind)
                ws.add_data_validation(dv)
                for r in range(2, ws.max_row + 1):
                    _unlock(ws.cell(row=r, column=c))
                    dv.add(ws.cell(row=r, column=c))
                ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = 14
            ws.column_dimensions["A"].width = 15
            ws.column_dimensions["B"].width = 12
            ws.freeze_panes = "C2"
        else:
            for r, ind in enumerate(inds, start=2):
                dv = validation_for(ind)
                ws.add_data_validation(dv)
                _unlock(ws.cell(row=r, column=4))
                dv.add(ws.cell(row=r, column=4))
            for col, width in zip("ABCD", (10, 24, 10, 14)):
                ws.column_dimensions[col].width = width
            ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    _add_explanations(wb, unit)
    for ws in wb.worksheets:
        ws.protection.sheet = True  # no password: the office can lift it; headers stay as issued
    _add_instructions(wb, unit, period)
    return wb


def _add_explanations(wb, unit: cat.Unit) -> None:
    """The optional sheet 情况说明 (FORM.md, the project's copy): its header, and empty rows
    to fill, the sheet column a drop-down of the unit's own sheets."""
    ws = wb.create_sheet(EXPLANATION_SHEET)
    for c, head in enumerate(EXPLANATION_HEADER, start=1):
        cell = put_text(ws, 1, c, head)
        cell.font = Font(bold=True)
    sheets = DataValidation(type="list", formula1='"' + ",".join(cat.sheets_of(unit)) + '"')
    sheets.allow_blank = True
    sheets.promptTitle, sheets.prompt, sheets.showInputMessage = "工作表", "提醒中所列的工作表", True
    ws.add_data_validation(sheets)
    for r in range(2, EXPLANATION_ROWS + 2):
        for c in range(1, 4):
            _unlock(ws.cell(row=r, column=c))
            ws.cell(row=r, column=c).alignment = Alignment(wrap_text=True, vertical="top")
        sheets.add(ws.cell(row=r, column=1))
    for col, width in zip("ABC", (12, 10, 70)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"


def _add_instructions(wb, unit: cat.Unit, period: str) -> None:
    ws = wb.create_sheet(INSTRUCTIONS_SHEET)
    put_text(ws, 1, 1, f"{unit.name}（{unit.code}）{period} 季报 填报说明").font = Font(bold=True, size=14)
    r = 3
    for rule in RULES:
        put_text(ws, r, 1, rule)
        r += 1
    r += 1
    for c, head in enumerate(("指标代码", "指标名称", "计量单位", "所在工作表", "填写要求"), start=1):
        put_text(ws, r, c, head).font = Font(bold=True)
    for sheet in cat.sheets_of(unit):
        for ind in cat.indicators_for(unit, sheet, period):
            r += 1
            for c, value in enumerate((ind.code, ind.name, ind.unit, sheet, requirement(ind)), start=1):
                put_text(ws, r, c, value)
    for col, width in zip("ABCDE", (10, 24, 10, 12, 36)):
        ws.column_dimensions[col].width = width
    ws.protection.sheet = True


def template_name(unit: cat.Unit, period: str) -> str:
    return f"{unit.name}_{period}_季报模板.xlsx"


def write_template(unit: cat.Unit, period: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    build_template(unit, period).save(out)
    return out
