"""Validate a batch of submissions with the pandera schemas and word every failure for the clerk.

`validate_batch` is pure: submissions in, an `Outcome` per file out. A file with any error is
rejected whole; the values of the others come back ready to load.
"""
from __future__ import annotations

import pandas as pd
import pandera.errors

from huizong.core.cells import Percent, cell_text, parse_cell, shown_visibly
from huizong.intake.problems import Outcome, Problem, located  # noqa: F401  (Outcome: re-exported)
from huizong.intake.submission import Submission
from huizong.schemas import catalog as cat
from huizong.schemas import rules
from huizong.schemas.submission import values_schema, villages_schema

LOADED_COLUMNS = ["sha256", "unit_code", "indicator_code", "value", "level", "sheet", "cell"]


def values_frame(subs: list[Submission]) -> pd.DataFrame:
    """Every submitted cell, one row each, with the filling rules applied and the bounds of its
    indicator on the form of the file's quarter joined."""
    rows = []
    for sub in subs:
        form = {i.code: i for i in cat.form_of(sub.period)} if sub.period else cat.indicator_by_code()
        for sheet, cell, unit_code, code, raw in sub.values:
            ind = form[code]  # the reader read only the indicators of this form
            parsed = parse_cell(raw, ind.kind)
            rows.append((sub.sha256, sub.period, sheet, cell, unit_code, code, ind.kind, cell_text(raw),
                         parsed.value, parsed.level, parsed.issue, ind.min, ind.max, ind.decimals,
                         raw.shown if isinstance(raw, Percent) else None))
    df = pd.DataFrame(rows, columns=["sha256", "period", "sheet", "cell", "unit_code", "indicator_code",
                                     "kind", "raw", "value", "level", "issue", "min", "max",
                                     "decimals", "shown"])
    for col in ("value", "min", "max", "decimals"):
        df[col] = df[col].astype("float64")
    return df


def villages_frame(subs: list[Submission]) -> pd.DataFrame:
    """The villages each town file lists, plus a row for every village of the town in the file's
    quarter that it left out. A listed village the registry has, but not in that quarter (merged
    away, or not yet set up), has no registry town: it is not one to list."""
    registry = cat.unit_by_code()
    rows = []
    for sub in subs:
        if sub.unit_code is None or registry[sub.unit_code].type != "town":
            continue
        listed = [v[2] for v in sub.villages]
        for sheet, cell, code, name in sub.villages:
            known = registry.get(code)
            now = known is not None and (sub.period is None or known.exists_in(sub.period))
            rows.append((sub.sha256, sub.unit_code, sheet, cell, code, name,
                         known.parent_code if now else None, known.name if known else None,
                         True, listed.count(code)))
        for v in cat.villages_of(sub.unit_code, sub.period):
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
    """A failed value check, worded from the rule table: which wording (variant) and the
    values its placeholders take both come from the row and its indicator."""
    code, period = row["indicator_code"], row["period"]
    ind = (cat.indicator_on(code, period) if isinstance(period, str) else None) or cat.indicator_by_code()[code]
    variant, values = "", {"raw": shown_visibly(row["raw"])}
    if check == "readable":
        variant = row["issue"]
    elif check == "decimals" and ind.decimals:
        variant, values["decimals"] = "places", ind.decimals
    elif check == "range":
        if ind.kind == "flag":
            variant = "flag"
        values.update(min=f"{ind.min:g}", max=f"{ind.max:g}")
    elif check.startswith("cross:"):  # cross:<left>:<op>:<right>
        values["other"] = cat.indicator_by_code()[check.split(":")[3]].name
    text = rules.word(check, variant, **values)
    if isinstance(row["shown"], str):  # the clerk sees 5%, not 0.05
        text = rules.PERCENT_SHOWN.format(shown=row["shown"], raw=row["raw"]) + text
    return located(row["sheet"], row["cell"], ind.header, text)


def _village_message(check: str, row: pd.Series) -> str:
    values = {"code": shown_visibly(row["village_code"]), "name": shown_visibly(row["village_name"])}
    if check == "village_missing":
        return located(row["sheet"], "", "", rules.word(check, **values))
    variant = ""
    if check == "village_stranger":
        town = row["registry_town"]
        known = cat.unit_by_code().get(row["village_code"])
        if (town is None or pd.isna(town)) and known is not None:  # the registry's, not in this quarter
            variant = "closed" if known.closed else "not_opened"
            values.update(closed=known.closed or "", opened=known.opened or "", name=known.name,
                          successor=cat.unit_by_code()[known.successor].name if known.successor else "其他村（社区）")
        elif town is None or pd.isna(town):
            variant = "unregistered"
        else:
            values["town"] = cat.unit_by_code()[town].name
    return located(row["sheet"], row["cell"], "村（社区）代码", rules.word(check, variant, **values))


def validate_batch(subs: list[Submission]) -> tuple[list[Outcome], pd.DataFrame]:
    """Check every file of the batch at once; return each file's outcome and the loadable values."""
    outcomes = {s.sha256: Outcome(s.file_name, s.sha256, s.unit_code, s.period, list(s.problems),
                                  list(s.explanations))
                for s in subs}
    readable = [s for s in subs if s.unit_code is not None]
    values = values_frame(readable)
    for check, i in failed_rows(values_schema(), values):
        row = values.loc[i]
        outcomes[row["sha256"]].problems.append(Problem(
            row["sha256"], row["sheet"], row["cell"], row["indicator_code"], check,
            _value_message(check, row), rules.rule(check).severity))
    villages = villages_frame(readable)
    for check, i in failed_rows(villages_schema(), villages):
        row = villages.loc[i]
        outcomes[row["sha256"]].problems.append(Problem(
            row["sha256"], row["sheet"], row["cell"], "", check, _village_message(check, row),
            rules.rule(check).severity))
    ok = {sha for sha, o in outcomes.items() if o.ok}
    loadable = values.loc[values["sha256"].isin(ok), LOADED_COLUMNS].reset_index(drop=True)
    return list(outcomes.values()), loadable
