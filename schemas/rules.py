"""The rule table: every rule a submitted file is checked against, declared once.

A rule's id is the check name stored in `ops.import_errors.check_name`. `checked_in` says where
it is checked: by the reader (`huizong/intake/workbook.py`, the file's shape), by a pandera check
(`schemas/submission.py`, the values of a batch) or in SQL (`sql/setup/warnings.sql`, the
warnings that need a unit's history). Its message is the Chinese text a clerk reads after the
location (`村级指标!E2 道德讲堂（场次）: `), with `{named}` placeholders filled from the row.

A rule whose wording depends on the row (a count vs an amount, a flag vs a number) keeps one id
and names its other wordings as variants: the clerk's list and the ledger stay by rule.

The table is checked when this module is imported (`RuleError`); `submission.py` checks that
every pandera rule has its check function and every check function its rule.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from huizong.core.cells import APPROXIMATE, CHINESE_NUMERAL, EXCEL_ERROR, NOT_A_FLAG, NOT_A_NUMBER, UNSAVED_FORMULA
from huizong.core.errors import HuizongError

ERROR, WARNING = "error", "warning"
READER, PANDERA, SQL = "reader", "pandera", "sql"
# FORM.md's spike: a flow more than this many times its unit's median of earlier quarters warns.
# Here only: warnings.sql reads it from raw.rules, the clerk's wording and the form's notes
# (huizong/outputs/templates.py) write it from here.
SPIKE_FACTOR = 5
# What warnings.sql fills in: the cell's value and the number it is compared with.
SQL_PLACEHOLDERS = frozenset({"value", "reference"})


class RuleError(HuizongError):
    """The rule table is inconsistent, or a rule was asked for that it does not hold."""


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning
    checked_in: str  # reader | pandera | sql
    # The wording; a mapping of variant -> wording when it depends on the row ("" is the default).
    message: str | Mapping[str, str]
    messages: Mapping[str, str] = field(init=False, repr=False)
    # The tuning number of an SQL rule (flow_spike's factor), read by warnings.sql from raw.rules.
    threshold: float | None = None

    def __post_init__(self) -> None:
        by_variant = {"": self.message} if isinstance(self.message, str) else dict(self.message)
        object.__setattr__(self, "messages", MappingProxyType(by_variant))

    def word(self, variant: str = "", **values: object) -> str:
        """The message of `variant` with its placeholders filled from `values`."""
        template = self.messages.get(variant)
        if template is None:
            raise RuleError(f"rule {self.id!r} has no message for variant {variant!r}")
        try:
            return template.format_map(values)
        except KeyError as missing:
            raise RuleError(f"rule {self.id!r} needs a value for {missing} in {template!r}") from None


def _quote(raw: str) -> str:
    return f"“{{raw}}”{raw}"


RULES: tuple[Rule, ...] = (
    # --- the reader: what the file is and how its sheets are laid out -----------------------
    Rule("too_large", ERROR, READER, {
        "": "文件解压后过大，不是正常的报表，请使用下发的模板",
        # a zip's cause, by reject_too_large (workbook.py): too many parts, or its largest part
        "entries": "文件过大：由 {count} 个部件组成（其中工作表 {sheets} 张），超过 {max} 个，不是正常的报表。"
                   "请删除多余的工作表（或使用下发的模板）后再报送",
        "picture": "文件解压后过大（超过 {limit} MB），主要是其中的图片 {member}（{size} MB）。"
                   "报表中不需要图片：请删除图片后再报送",
        "sheet": "文件解压后过大（超过 {limit} MB），主要是其中的工作表 {member}（{size} MB）。"
                 "请删除多余的行、列和内容，或使用下发的模板",
        "part": "文件解压后过大（超过 {limit} MB），主要是其中的 {member}（{size} MB），不是正常的报表。"
                "请使用下发的模板",
        "bounds": "工作表过大（超出 {max_rows} 行或 {max_cols} 列），请删除多余的行和列，或使用下发的模板",
        "size": "工作表过大（{rows} 行 × {cols} 列），请使用下发的模板",
    }),
    # the variant and {kind} say what the file is instead, told by its content (workbook.py)
    Rule("not_a_workbook", ERROR, READER, {
        "": "这不是 Excel 工作簿，请用下发的模板填写后以 .xlsx 报送",
        "other": "这不是 Excel 工作簿，而是{kind}，请用下发的模板填写后以 .xlsx 报送",
        "archive": "这不是 Excel 工作簿，而是{kind}，请解压后分别报送其中的 .xlsx 工作簿",
        "save_as": "这是{kind}，不是 .xlsx 格式的 Excel 工作簿，汇总无法读取。请在{program}中打开它，"
                    "点“文件 → 另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再报送另存的 .xlsx 文件",
    }),
    Rule("encrypted", ERROR, READER, "文件设置了打开密码，请取消密码后再报送"),
    Rule("corrupt_file", ERROR, READER, {
        "": "文件已损坏，无法打开，请在 Excel 中重新保存后再报送",
        "unsupported": "文件已损坏或格式不受支持，无法读取，请在 Excel 中另存为 .xlsx 后再报送",
    }),
    # the reader's worker process died on the file (huizong/bulkheads/isolation.py)
    Rule("unreadable", ERROR, READER,
         "文件无法读取：{words}，已整份退回。请在 Excel 中打开并另存为 .xlsx（使用下发的模板）后重新报送（{cause}）"),
    Rule("hidden_sheet", ERROR, READER,
         "这张工作表被隐藏了，汇总读取的是它，而不是您在 Excel 中看到的表。请取消隐藏并核对内容，或删除这张表，再重新报送"),
    Rule("missing_sheet", ERROR, READER, "缺少工作表“{missing}”（本文件的工作表：{sheets}），请勿改动工作表名称"),
    Rule("recalc_needed", ERROR, READER,
         "本文件由程序生成，公式要在 Excel 中计算后才有结果，文件里保存的不是计算结果。请用 Excel 打开本文件、保存后再报送"),
    Rule("merged_cell", ERROR, READER,
         "{span} 是合并单元格，合并后只有第一格有数，其余各格按 0 汇总。请取消合并，为每个{row_kind}分别填写"),
    Rule("cover_field_missing", ERROR, READER, "封面缺少“{label}”一项（A 列填项目名，B 列填内容）"),
    Rule("bad_period", ERROR, READER, "“{raw}”不是有效的报告期，应填如 2019Q1 或 2019年第1季度"),
    Rule("future_period", ERROR, READER, "报告期 {period} 晚于当前季度 {current}，还不能报送，请核对报告期"),
    Rule("unknown_unit", ERROR, READER, "“{raw}”不是报送单位的代码"),
    Rule("unit_name_mismatch", ERROR, READER, "“{raw}”与单位代码 {code} 的名称“{name}”不符"),
    Rule("unknown_column", ERROR, READER, "“{header}”不是本表的指标，请使用下发的模板"),
    Rule("duplicate_column", ERROR, READER, "“{header}”列重复"),
    Rule("missing_column", ERROR, READER, {"": "缺少指标列“{header}”", "code": "缺少“{header}”列"}),
    Rule("bad_header", ERROR, READER, "表头应为“{header}”"),
    Rule("unknown_indicator", ERROR, READER, "“{code}”不是本单位应报的指标代码"),
    Rule("duplicate_indicator", ERROR, READER, "指标 {code} 重复填报"),
    Rule("indicator_name_mismatch", ERROR, READER, "“{raw}”与指标代码 {code} 的名称“{name}”不符"),
    Rule("missing_indicator", ERROR, READER, "缺少指标 {code} {name}"),
    # the optional sheet 情况说明 (FORM.md, the project's copy): a row that cannot be tied to a
    # figure is left out with a warning, never a reason to reject the file
    Rule("explanation_ignored", WARNING, READER, {
        "": "“{target}”不是本单位报表中填报数值的单元格，这条说明未记录。请照提醒写明工作表和单元格（如 村级指标!E12）",
        "no_sheet": "没有写明是哪张工作表的 {target}，这条说明未记录。请在 A 列填工作表（如 村级指标），或在 B 列写成 村级指标!E12",
        "no_cell": "没有写明单元格，这条说明未记录。请在 B 列填提醒中的单元格（如 E12）",
        "no_text": "只写了单元格 {target}，没有写明情况，这条说明未记录",
        "hidden": "“情况说明”表被隐藏了，其中的说明未记录。请取消隐藏后重新报送",
        "header": "“情况说明”表的表头应为“{header}”，表中的说明未记录，请使用下发的模板",
    }),
    # --- pandera, on the values: FORM.md's filling rules; the variant is the cell's issue ---
    Rule("readable", ERROR, PANDERA, {
        EXCEL_ERROR: _quote("是 Excel 错误值，请修正公式或改填数字"),
        CHINESE_NUMERAL: _quote("请用阿拉伯数字填写，不能用汉字数字"),
        APPROXIMATE: _quote("请填写确切的数字，不能填约数（如“约100”“100余”“100+”）"),
        NOT_A_NUMBER: _quote("不是有效的数字"),
        NOT_A_FLAG: _quote("只能填 1/0 或 是/否"),
        UNSAVED_FORMULA: _quote("是公式，但文件中没有保存计算结果，请在 Excel 中打开、计算并保存后再报送，或直接填写数字"),
    }),
    Rule("not_negative", ERROR, PANDERA, _quote("不能为负数")),
    Rule("decimals", ERROR, PANDERA, {"": _quote("只能是整数"), "places": _quote("最多保留 {decimals} 位小数")}),
    Rule("range", ERROR, PANDERA, {"": _quote("超出允许范围 {min}–{max}"), "flag": _quote("只能填 1/0 或 是/否")}),
    Rule("level", ERROR, PANDERA, _quote("只能填 无、县级、市级、省级、全国 之一")),
    # across cells of one village or unit: cross:<left>:<op>:<right>, {other} is right's name
    Rule("cross:V08:le:V01", ERROR, PANDERA, _quote("不能大于同一村的“{other}”")),
    Rule("cross:V09:le:V01", ERROR, PANDERA, _quote("不能大于同一村的“{other}”")),
    Rule("cross:V14:needs:V13", ERROR, PANDERA, _quote("“{other}”为 0 时不能填报人数")),
    Rule("cross:V15:needs:V13", ERROR, PANDERA, _quote("“{other}”为 0 时不能填报人数")),
    Rule("cross:E02:iff:E03", ERROR, PANDERA, _quote("与“{other}”必须同时为 0 或同时大于 0")),
    # --- pandera, on the villages of a town's village sheet ---------------------------------
    Rule("village_missing", ERROR, PANDERA, "缺少 {name}（{code}）这一行，本镇每个村（社区）都要填报"),
    Rule("village_repeated", ERROR, PANDERA, "“{code}”重复出现，每个村（社区）只能填一行"),
    Rule("village_stranger", ERROR, PANDERA, {
        "": "“{code}”是{town}的村（社区），不属于本镇",
        "unregistered": "“{code}”不是登记的村（社区）代码",
        "closed": "“{code}”{name}已于 {closed} 后并入{successor}，本季度起不再单独填报，请删去这一行",
        "not_opened": "“{code}”{name}自 {opened} 起设立，本季度还不填报，请删去这一行",
    }),
    # --- SQL, against the unit's history: FORM.md's warnings (the file still loads) ---------
    Rule("flow_spike", WARNING, SQL,
         "“{value}”超过本单位以往季度中位数 {reference} 的 " + f"{SPIKE_FACTOR:g}" + " 倍，请核实是否填错",
         threshold=SPIKE_FACTOR),
    Rule("flag_dropped", WARNING, SQL, "上季度为“是”，本季度为“否”，请核实"),
)


# Said before a value's message when its cell shows the value as a percentage (validation.py):
# the clerk sees 5% where the value is 0.05.
PERCENT_SHOWN = "单元格设置成了百分比格式，显示为 {shown}，实际数值是 {raw}（请把单元格格式改为“常规”后按数值填写）；"


def placeholders(template: str) -> set[str]:
    """The `{named}` placeholders of a message; RuleError for a positional or malformed one."""
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise RuleError(f"malformed message {template!r}: {e}") from None
    bad = [f for f in fields if not f.isidentifier()]
    if bad:
        raise RuleError(f"message {template!r} has placeholders that are not names: {bad}")
    return set(fields)


def check_table(rules: tuple[Rule, ...]) -> dict[str, Rule]:
    """The rules by id, after checking every declaration; RuleError names the first bad one."""
    by_id: dict[str, Rule] = {}
    for rule in rules:
        where = f"rule {rule.id!r} (schemas/rules.py)"
        if not rule.id or rule.id in by_id:
            raise RuleError(f"{where}: id is empty or declared twice")
        if rule.severity not in (ERROR, WARNING):
            raise RuleError(f"{where}: severity {rule.severity!r} is not error or warning")
        if rule.checked_in not in (READER, PANDERA, SQL):
            raise RuleError(f"{where}: checked_in {rule.checked_in!r} is not reader, pandera or sql")
        if not rule.messages or "" not in rule.messages and rule.checked_in == SQL:
            raise RuleError(f"{where}: has no message")
        for variant, template in rule.messages.items():
            if not isinstance(template, str) or not template.strip():
                raise RuleError(f"{where}: variant {variant!r} has no message")
            extra = placeholders(template) - SQL_PLACEHOLDERS
            if rule.checked_in == SQL and (extra or variant):
                raise RuleError(f"{where}: SQL fills only {sorted(SQL_PLACEHOLDERS)} in one message")
        by_id[rule.id] = rule
    return by_id


RULE_BY_ID = MappingProxyType(check_table(RULES))


def rule(rule_id: str) -> Rule:
    """The rule `rule_id`; RuleError if the table does not declare it."""
    try:
        return RULE_BY_ID[rule_id]
    except KeyError:
        raise RuleError(f"no rule {rule_id!r} in schemas/rules.py") from None


def rules_checked_in(where: str) -> list[Rule]:
    return [r for r in RULES if r.checked_in == where]


def word(rule_id: str, variant: str = "", **values: object) -> str:
    return rule(rule_id).word(variant, **values)
