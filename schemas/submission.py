"""pandera schemas for a batch of submitted workbooks, built from the catalog.

Two stages of the same data, each a schema:
- `values_schema`: one row per submitted cell (sha256, unit, indicator), after the filling rules
  of FORM.md turned its text into `value` or `level`; the catalog's bounds ride along as columns.
- `villages_schema`: one row per village expected or found in a town's village sheet.

Every check is a rule of `schemas/rules.py`, named by its id; `huizong.intake.validation` words each
failure for the clerk from the rule table.
The checks are vectorised over the whole batch, so one `validate` call covers many files.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd
import pandera.pandas as pa

from huizong.schemas import catalog as cat
from huizong.schemas import rules

TEXT = pa.Column(str)
OPTIONAL_TEXT = pa.Column(str, nullable=True)
OPTIONAL_NUMBER = pa.Column(float, nullable=True)

# The check function of every pandera rule of the rule table, by rule id, and the frame it
# checks: "values" (one row per cell) or "villages" (one row per village of a town's sheet).
CHECKS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {}


def checks(rule_id: str, frame: str = "values"):
    """Declare the decorated function as the check of `rule_id`, which the table must hold."""
    def register(fn):
        if rules.rule(rule_id).checked_in != rules.PANDERA:
            raise rules.RuleError(f"{fn.__name__} checks {rule_id!r}, which is not a pandera rule")
        CHECKS[rule_id] = (frame, fn)
        return fn
    return register


def _numeric(df: pd.DataFrame) -> pd.Series:
    return df["kind"].isin(cat.NUMERIC_KINDS) & df["issue"].isna()


@checks("readable")
def readable(df: pd.DataFrame) -> pd.Series:
    return df["issue"].isna()


@checks("not_negative")
def not_negative(df: pd.DataFrame) -> pd.Series:
    return ~_numeric(df) | (df["value"] >= 0)


@checks("decimals")
def within_decimals(df: pd.DataFrame) -> pd.Series:
    scaled = df["value"] * 10 ** df["decimals"].fillna(0)
    return ~_numeric(df) | ((scaled - scaled.round()).abs() < 1e-6)


@checks("range")
def within_range(df: pd.DataFrame) -> pd.Series:
    checked = _numeric(df) & (df["value"] >= 0)
    return ~checked | ((df["value"] >= df["min"]) & (df["value"] <= df["max"]))


@checks("level")
def known_level(df: pd.DataFrame) -> pd.Series:
    return (df["kind"] != "level") | ~df["issue"].isna() | df["level"].isin(cat.LEVELS)


def _other_value(df: pd.DataFrame, code: str) -> pd.Series:
    """For every row, the value of indicator `code` in the same file and unit (NaN if none)."""
    other = df.loc[df["indicator_code"] == code, ["sha256", "unit_code", "value"]]
    other = other.drop_duplicates(["sha256", "unit_code"]).set_index(["sha256", "unit_code"])["value"]
    keys = pd.MultiIndex.from_frame(df[["sha256", "unit_code"]])
    return pd.Series(other.reindex(keys).to_numpy(), index=df.index)


def cross_cell(left: str, op: str, right: str):
    """A check on `left`'s rows that compares each with `right` in the same unit and file."""
    def check(df: pd.DataFrame) -> pd.Series:
        mine = df["indicator_code"] == left
        if not mine.any():
            return pd.Series(True, index=df.index)
        a, b = df["value"], _other_value(df, right)
        if op == "le":
            ok = a <= b
        elif op == "needs":
            ok = (a <= 0) | (b > 0)
        else:
            ok = (a > 0) == (b > 0)
        return ~mine | a.isna() | b.isna() | ok
    return check


# The cross-cell rules say what they check in their id: cross:<left>:<op>:<right>.
for _rule in rules.rules_checked_in(rules.PANDERA):
    if _rule.id.startswith("cross:"):
        _, _left, _op, _right = _rule.id.split(":")
        if _op not in ("le", "needs", "iff"):
            raise rules.RuleError(f"rule {_rule.id!r}: unknown comparison {_op!r}")
        checks(_rule.id)(cross_cell(_left, _op, _right))


@checks("village_missing", "villages")
def village_present(df: pd.DataFrame) -> pd.Series:
    return df["present"]


@checks("village_stranger", "villages")
def village_of_this_town(df: pd.DataFrame) -> pd.Series:
    return ~df["present"] | (df["registry_town"] == df["town_code"])


@checks("village_repeated", "villages")
def village_once(df: pd.DataFrame) -> pd.Series:
    return df["times"] <= 1


_unchecked = [r.id for r in rules.rules_checked_in(rules.PANDERA) if r.id not in CHECKS]
if _unchecked:
    raise rules.RuleError(f"pandera rules with no check function in schemas/submission.py: {_unchecked}")


def _checks_of(frame: str) -> list[pa.Check]:
    """The pandera checks of `frame`, in the rule table's order."""
    return [pa.Check(fn, name=rule_id) for rule_id, (of, fn) in
            sorted(CHECKS.items(), key=lambda kv: list(rules.RULE_BY_ID).index(kv[0])) if of == frame]


def values_schema() -> pa.DataFrameSchema:
    codes = [i.code for i in cat.indicators()]
    return pa.DataFrameSchema(
        columns={
            "sha256": TEXT, "period": OPTIONAL_TEXT, "sheet": TEXT, "cell": TEXT, "unit_code": TEXT,
            "indicator_code": pa.Column(str, pa.Check.isin(codes)),
            "kind": pa.Column(str, pa.Check.isin(cat.NUMERIC_KINDS + ("level",))),
            "raw": TEXT, "value": OPTIONAL_NUMBER, "level": OPTIONAL_TEXT, "issue": OPTIONAL_TEXT,
            "min": OPTIONAL_NUMBER, "max": OPTIONAL_NUMBER, "decimals": OPTIONAL_NUMBER,
            "shown": OPTIONAL_TEXT,  # a percentage as the clerk sees it (5% for 0.05), for messages
        },
        checks=_checks_of("values"),
        strict=True,
    )


def villages_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        columns={
            "sha256": TEXT, "town_code": TEXT, "sheet": TEXT, "cell": TEXT,
            "village_code": TEXT, "village_name": TEXT,
            "registry_town": OPTIONAL_TEXT, "registry_name": OPTIONAL_TEXT,
            "present": pa.Column(bool), "times": pa.Column(int),
        },
        checks=_checks_of("villages"),
        strict=True,
    )
