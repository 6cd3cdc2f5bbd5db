"""Validate a batch of submissions with the pandera schemas and word every failure for the clerk.

`validate_batch` is pure: submissions in, an `Outcome` per file out. A file with any error is
rejected whole; the values of the others come back ready to load.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pandera.errors

from huizong.cells import cell_text, parse_cell
from huizong.problems import CELL_ISSUES, ERROR, WARNING, NOT_A_LEVEL_TEXT, Problem, located
from huizong.workbook import Submission
from huizong.schemas import catalog as cat
from huizong.schemas.submission import values_schema, villages_schema

LOADED_COLUMNS = ["sha256", "unit_code", "indicator_code", "value", "level", "sheet", "cell"]


@dataclass
class Outcome:
    """One file's verdict: its problems, and if it has no error, the values to load."""
    file_name: str
    sha256: str
    unit_code: str | None
    period: str | None
    problems: list[Problem] = field(default_factory=list)
    archive_path: str | None = None  # the kept copy, relative to the warehouse
    feedback_path: str | None = None  # a rejected file's feedback, relative to the warehouse

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


def values_frame(subs: list[Submission]) -> pd.DataFrame:
    """Every submitted cell, one row each, with the filling rules applied and the bounds joined."""
    kinds = {i.code: i for i in cat.indicators()}
    rows = []
    for sub in subs:
        for sheet, cell, unit_code, code, raw in sub.values:
            ind = kinds[code]
            parsed = parse_cell(raw, ind.kind)
            rows.append((sub.sha256, sheet, cell, unit_code, code, ind.kind, cell_text(raw),
                         parsed.value, parsed.level, parsed.issue, ind.min, ind.max, ind.decimals))
    df = pd.DataFrame(rows, columns=["sha256", "sheet", "cell", "unit_code", "indicator_code",
                                     "kind", "raw", "value", "level", "issue", "min", "max",
                                     "decimals"])
    for col in ("value", "min", "max", "decimals"):
        df[col] = df[col].astype("float64")
    return df


def villages_frame(subs: list[Submission]) -> pd.DataFrame:
    """The villages each town file lists, plus a row for every village of the town it left out."""
    registry = cat.unit_by_code()
    rows = []
    for sub in subs:
        if sub.unit_code is None or registry[sub.unit_code].type != "town":
            continue
        listed = [v[2] for v in sub.villages]
        for sheet, cell, code, name in sub.villages:
            known = registry.get(code)
            rows.append((sub.sha256, sub.unit_code, sheet, cell, code, name,
                         known.parent_code if known else None, known.name if known else None,
                         True, listed.count(code)))
        for v in cat.villages_of(sub.unit_code):
            if v.code not in listed:
                rows.append((sub.sha256, sub.unit_code, cat.VILLAGE_SHEET, "", v.code, v.name,
                             v.parent_code, v.name, False, 0))
    return pd.DataFrame(rows, columns=["sha256", "town_code", "sheet", "cell", "village_code",
                                       "village_name", "registry_town", "registry_name",
                                       "present", "times"]).astype(
        {"present": bool, "times": "int64"})


def failed_rows(schema, df: pd.DataFrame) -> list[tuple[str, int]]:
    """(check name, row index) of every failure, all at once (lazy validation)."""
    if df.empty:
        return []
    try:
        schema.validate(df, lazy=True)
        return []
    except pandera.errors.SchemaErrors as errors:
        fc = errors.failure_cases
        fc = fc[fc["index"].notna()]
        # A dataframe-wide check reports each failing row once per column: keep one.
        pairs = {(str(c), int(i)) for c, i in zip(fc["check"], fc["index"])}
        return sorted(pairs, key=lambda p: (p[1], p[0]))


def _value_message(check: str, row: pd.Series) -> str:
    ind = cat.indicator_by_code()[row["indicator_code"]]
    raw = row["raw"]
    if check == "readable":
        text = CELL_ISSUES[row["issue"]]
    elif check == "not_negative":
        text = "不能为负数"
    elif check == "decimals":
        text = "只能是整数" if not ind.decimals else f"最多保留 {ind.decimals} 位小数"
    elif check == "range":
        text = ("只能填 1/0 或 是/否" if ind.kind == "flag"
                else f"超出允许范围 {ind.min:g}–{ind.max:g}")
    elif check == "level":
        text = NOT_A_LEVEL_TEXT
    else:  # cross:<left>:<op>:<right>
        _, _, op, right = check.split(":")
        other = cat.indicator_by_code()[right]
        text = {"le": f"不能大于同一村的“{other.name}”",
                "needs": f"“{other.name}”为 0 时不能填报人数",
                "iff": f"与“{other.name}”必须同时为 0 或同时大于 0"}[op]
    return located(row["sheet"], row["cell"], ind.header, f"“{raw}”{text}")


def _village_message(check: str, row: pd.Series) -> str:
    code, name = row["village_code"], row["village_name"]
    if check == "village_missing":
        return located(row["sheet"], "", "", f"缺少 {name}（{code}）这一行，本镇每个村（社区）都要填报")
    if check == "village_repeated":
        return located(row["sheet"], row["cell"], "村（社区）代码", f"“{code}”重复出现，每个村（社区）只能填一行")
    if row["registry_town"] is None or pd.isna(row["registry_town"]):
        return located(row["sheet"], row["cell"], "村（社区）代码", f"“{code}”不是登记的村（社区）代码")
    town = cat.unit_by_code()[row["registry_town"]].name
    return located(row["sheet"], row["cell"], "村（社区）代码", f"“{code}”是{town}的村（社区），不属于本镇")


def word_warnings(rows: list[tuple]) -> list[Problem]:
    """Warnings from `sql/setup/warnings.sql` (sha256, sheet, cell, indicator_code, check_name,
    value, reference), worded for the clerk."""
    problems = []
    for sha256, sheet, cell, code, check, value, reference in rows:
        ind = cat.indicator_by_code()[code]
        shown = cell_text(float(value))
        if check == "flow_spike":
            text = f"“{shown}”超过本单位以往季度中位数 {cell_text(float(reference))} 的 5 倍，请核实是否填错"
        else:
            text = "上季度为“是”，本季度为“否”，请核实"
        problems.append(Problem(sha256, sheet, cell, code, check,
                                located(sheet, cell, ind.header, text), WARNING))
    return problems


def validate_batch(subs: list[Submission]) -> tuple[list[Outcome], pd.DataFrame]:
    """Check every file of the batch at once; return each file's outcome and the loadable values."""
    outcomes = {s.sha256: Outcome(s.file_name, s.sha256, s.unit_code, s.period, list(s.problems))
                for s in subs}
    readable = [s for s in subs if s.unit_code is not None]
    values = values_frame(readable)
    for check, i in failed_rows(values_schema(), values):
        row = values.loc[i]
        outcomes[row["sha256"]].problems.append(Problem(
            row["sha256"], row["sheet"], row["cell"], row["indicator_code"], check,
            _value_message(check, row)))
    villages = villages_frame(readable)
    for check, i in failed_rows(villages_schema(), villages):
        row = villages.loc[i]
        outcomes[row["sha256"]].problems.append(Problem(
            row["sha256"], row["sheet"], row["cell"], "", check, _village_message(check, row)))
    ok = {sha for sha, o in outcomes.items() if o.ok}
    loadable = values.loc[values["sha256"].isin(ok), LOADED_COLUMNS].reset_index(drop=True)
    return list(outcomes.values()), loadable
