"""pandera schemas for a batch of submitted workbooks, built from the catalog.

Two stages of the same data, each a schema:
- `values_schema`: one row per submitted cell (sha256, unit, indicator), after the filling rules
  of FORM.md turned its text into `value` or `level`; the catalog's bounds ride along as columns.
- `villages_schema`: one row per village expected or found in a town's village sheet.

Every check has a `name`; `huizong.validation` words each failure for the clerk by that name.
The checks are vectorised over the whole batch, so one `validate` call covers many files.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from huizong.schemas import catalog as cat

TEXT = pa.Column(str)
OPTIONAL_TEXT = pa.Column(str, nullable=True)
OPTIONAL_NUMBER = pa.Column(float, nullable=True)

# Checks across cells of one village (FORM.md "Checks across cells"): (left, op, right).
# "le": left <= right; "needs": left > 0 requires right > 0; "iff": left > 0 iff right > 0.
CROSS_CHECKS = (
    ("V08", "le", "V01"),
    ("V09", "le", "V01"),
    ("V14", "needs", "V13"),
    ("V15", "needs", "V13"),
    ("E02", "iff", "E03"),
)


def _numeric(df: pd.DataFrame) -> pd.Series:
    return df["kind"].isin(cat.NUMERIC_KINDS) & df["issue"].isna()


def readable(df: pd.DataFrame) -> pd.Series:
    return df["issue"].isna()


def not_negative(df: pd.DataFrame) -> pd.Series:
    return ~_numeric(df) | (df["value"] >= 0)


def within_decimals(df: pd.DataFrame) -> pd.Series:
    scaled = df["value"] * 10 ** df["decimals"].fillna(0)
    return ~_numeric(df) | ((scaled - scaled.round()).abs() < 1e-6)


def within_range(df: pd.DataFrame) -> pd.Series:
    checked = _numeric(df) & (df["value"] >= 0)
    return ~checked | ((df["value"] >= df["min"]) & (df["value"] <= df["max"]))


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


def values_schema() -> pa.DataFrameSchema:
    codes = [i.code for i in cat.indicators()]
    return pa.DataFrameSchema(
        columns={
            "sha256": TEXT, "sheet": TEXT, "cell": TEXT, "unit_code": TEXT,
            "indicator_code": pa.Column(str, pa.Check.isin(codes)),
            "kind": pa.Column(str, pa.Check.isin(cat.NUMERIC_KINDS + ("level",))),
            "raw": TEXT, "value": OPTIONAL_NUMBER, "level": OPTIONAL_TEXT, "issue": OPTIONAL_TEXT,
            "min": OPTIONAL_NUMBER, "max": OPTIONAL_NUMBER, "decimals": OPTIONAL_NUMBER,
        },
        checks=[
            pa.Check(readable, name="readable"),
            pa.Check(not_negative, name="not_negative"),
            pa.Check(within_decimals, name="decimals"),
            pa.Check(within_range, name="range"),
            pa.Check(known_level, name="level"),
            *(pa.Check(cross_cell(a, op, b), name=f"cross:{a}:{op}:{b}") for a, op, b in CROSS_CHECKS),
        ],
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
        checks=[
            pa.Check(lambda df: df["present"], name="village_missing"),
            pa.Check(lambda df: ~df["present"] | (df["registry_town"] == df["town_code"]),
                     name="village_stranger"),
            pa.Check(lambda df: df["times"] <= 1, name="village_repeated"),
        ],
        strict=True,
    )
