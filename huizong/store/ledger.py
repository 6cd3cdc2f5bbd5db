"""What a pass records in its build of the warehouse: the ledger, values, problems, warnings.

The build is a private copy of the published warehouse (see warehouse.py); nothing here touches
the published file.
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import asdict
from pathlib import Path

import duckdb
import pandas as pd

from huizong.intake.problems import Outcome, Problem
from huizong.schemas import catalog as cat
from huizong.schemas import rules
from huizong.store.versions import rules_version
from huizong.store.warehouse import build_path, connect_build, define_macros, discard_build, published_path, setup_sql


def start_build(warehouse: Path) -> Path:
    """A private copy of the published warehouse (or a new one) for this pass to write."""
    build = build_path(warehouse)
    build.parent.mkdir(parents=True, exist_ok=True)
    discard_build(warehouse)  # left by a pass that was killed
    if published_path(warehouse).exists():
        shutil.copyfile(published_path(warehouse), build)
    con = connect_build(build)
    try:
        prepare(con)
    finally:
        con.close()
    return build


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's own tables (if new), the form's macros and the catalog seeds, on any
    connection."""
    con.execute(setup_sql("warehouse.sql"))
    con.execute(setup_sql("forget_copies_of_nothing.sql"))  # left by passes before issue 28
    define_macros(con)
    load_catalog(con)


def load_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """The registry, the indicator catalog, the levels in rising order and the rule table (one
    row per rule and wording, for the warnings SQL words), as seeds the SQL joins to."""
    units = pd.DataFrame([asdict(u) for u in cat.units()]).rename(
        columns={"code": "unit_code", "name": "unit_name", "type": "unit_type"})
    # one row per indicator (its latest definition) and one per definition, each for its own
    # quarters (raw.indicator_forms; stg_indicators spans them)
    definitions = pd.DataFrame([asdict(i) for i in cat.definitions()]).rename(
        columns={"code": "indicator_code", "name": "indicator_name"})
    indicators = pd.DataFrame([asdict(i) for i in cat.indicators()]).rename(
        columns={"code": "indicator_code", "name": "indicator_name"})
    forms = definitions[["indicator_code", "indicator_name", "unit", "min", "max", "decimals", "valid_from", "valid_to"]]
    forms.insert(1, "definition", forms.groupby("indicator_code").cumcount() + 1)  # 1, 2 ... in the catalog's order
    con.register("forms_df", forms)
    con.execute("create or replace table raw.indicator_forms as select * from forms_df")
    con.unregister("forms_df")
    levels = pd.DataFrame({"level": cat.LEVELS, "level_rank": range(len(cat.LEVELS))})
    con.register("levels_df", levels)
    con.execute("create or replace table raw.levels as select * from levels_df")
    con.unregister("levels_df")
    con.register("units_df", units)
    con.register("indicators_df", indicators)
    # quarters as text even when no unit has one (a column of nulls alone would be typed NULL)
    con.execute("create or replace table raw.units as select * replace (cast(opened as varchar) as opened, "
                "cast(closed as varchar) as closed) from units_df")
    con.execute("create or replace table raw.indicators as select * from indicators_df")
    con.unregister("units_df")
    con.unregister("indicators_df")
    rule_rows = pd.DataFrame(
        [(r.id, r.severity, r.checked_in, variant, message, r.threshold)
         for r in rules.RULES for variant, message in r.messages.items()],
        columns=["rule_id", "severity", "checked_in", "variant", "message", "threshold"])
    con.register("rules_df", rule_rows)
    con.execute("create or replace table raw.rules as select * from rules_df")
    con.unregister("rules_df")


LEDGER_COLUMNS = ["sha256", "file_name", "unit_code", "period", "status", "received_at",
                  "imported_at", "archive_path", "n_values", "n_errors", "n_warnings",
                  "first_reason", "superseded_by", "feedback_path", "rules_version", "first_seen_at"]
ARRIVAL_COLUMNS = ["inbox_path", "sha256", "status", "size_bytes", "modified_at", "first_seen_at", "reason"]


def record_batch(build: Path, received: list[dict], outcomes: list[Outcome], values: pd.DataFrame) -> None:
    """Enter a batch of files into the ledger of the build copy, FORM.md's version rules applied.
    A pass records each batch as it is read and lets its values go: its memory follows the batch,
    not the inbox. Warnings, which compare a figure with the unit's other quarters (perhaps in a
    later batch), wait for the pass's last batch (`finish_imports`).

    received: one dict per file with sha256, file_name, received_at (datetime), archive_path
    and, for a rejected file, feedback_path. What was recorded of a version before (a rerun) is
    replaced, with the arrival time given here (`sql/setup/record_batch.sql`). Every (unit,
    period) touched is then re-decided by `resolve_versions.sql`.
    """
    by_sha = {o.sha256: o for o in outcomes}
    counts = values["sha256"].value_counts()
    now = dt.datetime.now(dt.timezone.utc)
    ledger = []
    for f in received:
        o = by_sha[f["sha256"]]
        errors = [p for p in o.problems if p.severity == "error"]
        ledger.append((o.sha256, f["file_name"], o.unit_code, o.period,
                       "valid" if o.ok else "rejected", f["received_at"], now, str(f["archive_path"]),
                       int(counts.get(o.sha256, 0)) if o.ok else None,
                       len(errors), len(o.problems) - len(errors),
                       errors[0].message if errors else None, None, f.get("feedback_path"),
                       rules_version(), f.get("first_seen_at") or now))
    ledger_df = pd.DataFrame(ledger, columns=LEDGER_COLUMNS)
    con = connect_build(build)
    try:
        con.execute("begin")
        con.register("new_ledger", ledger_df)
        con.register("new_values", values)
        con.execute(setup_sql("record_batch.sql"))
        insert_problems(con, [p for o in outcomes for p in o.problems])
        insert_explanations(con, outcomes)
        apply_version_rules(con)
        con.execute("drop table batch_files; drop table affected_keys")
        con.execute("commit")
    finally:
        con.close()


def finish_imports(build: Path, shas: list[str]) -> tuple[list[dict], list[dict]]:
    """Once every batch of a pass is recorded: the warnings of its valid versions, their counts
    in the ledger, one row per version and the pass's problems grouped by rule and unit."""
    con = connect_build(build)
    try:
        con.execute("begin")
        con.register("pass_shas", pd.DataFrame({"sha256": list(dict.fromkeys(shas))}, dtype=object))
        con.execute("create temp table batch_files as select sha256 from pass_shas")
        # the versions warnings.sql looks at: those recorded valid (in force or not)
        con.execute("create temp table new_ledger as select sha256, 'valid' as status from ops.imports "
                    "where sha256 in (select sha256 from batch_files) and status <> 'rejected'")
        _record_warnings(con)
        con.execute(setup_sql("count_warnings.sql"))
        names = ("file_name", "sha256", "unit_code", "period", "status", "first_reason", "feedback_path",
                 "n_warnings")
        results = con.execute(
            f"select {', '.join(names)} from ops.imports where sha256 in (select sha256 from batch_files) "
            "order by received_at, file_name").fetchall()
        grouped = con.execute(setup_sql("pass_problems.sql"))
        columns = [c[0] for c in grouped.description]
        problems = [dict(zip(columns, row)) for row in grouped.fetchall()]
        con.execute("drop table batch_files; drop table new_ledger")
        con.unregister("pass_shas")
        con.execute("commit")
    finally:
        con.close()
    return [dict(zip(names, r)) for r in results], problems


def apply_version_rules(con: duckdb.DuckDBPyConnection) -> None:
    """FORM.md's version rules (`resolve_versions.sql`) applied to every (unit, period) of the
    temp table `affected_keys`: which version is loaded, superseded, duplicate or held locked."""
    con.execute(f"create temp view resolved_versions as {setup_sql('resolve_versions.sql')}")
    con.execute(setup_sql("apply_versions.sql"))
    con.execute("drop view resolved_versions")


def record_arrivals(build: Path, arrivals: list[dict]) -> None:
    """Enter the pass's arrivals (received versions, copies, refused files) into the build."""
    if not arrivals:
        return
    frame = pd.DataFrame([[a.get(c) for c in ARRIVAL_COLUMNS] for a in arrivals], columns=ARRIVAL_COLUMNS)
    frame["modified_at"] = pd.to_datetime(frame["modified_at"], utc=True)
    frame["first_seen_at"] = pd.to_datetime(frame["first_seen_at"], utc=True)
    con = connect_build(build)
    try:
        con.register("new_arrivals", frame)
        # an arrival recorded again (a copy of nothing, read now) replaces what was recorded of it
        con.execute("delete from ops.arrivals using new_arrivals where ops.arrivals.inbox_path = "
                    "new_arrivals.inbox_path and ops.arrivals.sha256 = new_arrivals.sha256")
        con.execute("insert into ops.arrivals by name select * from new_arrivals")
    finally:
        con.close()


def forget_copies_of_nothing(build: Path) -> None:
    """Forget every `copy` arrival of a version the ledger does not hold (its original went,
    changed or was not read): the next pass reads that file as itself."""
    con = connect_build(build)
    try:
        con.execute(setup_sql("forget_copies_of_nothing.sql"))
    finally:
        con.close()


PROBLEM_COLUMNS = ["sha256", "sheet", "cell", "indicator_code", "check_name", "severity", "message"]


def insert_problems(con: duckdb.DuckDBPyConnection, problems: list[Problem]) -> None:
    if problems:
        frame = pd.DataFrame([[p.sha256, p.sheet, p.cell, p.indicator_code, p.check, p.severity,
                               p.message] for p in problems], columns=PROBLEM_COLUMNS)
        con.register("new_problems", frame)
        con.execute("insert into ops.import_errors by name select * from new_problems")
        con.unregister("new_problems")


EXPLANATION_COLUMNS = ["sha256", "sheet", "cell", "indicator_code", "explanation", "source_cell"]


def insert_explanations(con: duckdb.DuckDBPyConnection, outcomes: list[Outcome]) -> None:
    """The figures each version of the batch explains in its 情况说明 sheet, replacing what a
    version recorded before said (a rerun reads the same sheet again)."""
    con.execute("delete from ops.explanations where sha256 in (select sha256 from batch_files)")
    rows = [(o.sha256, *e) for o in outcomes for e in o.explanations]
    if rows:
        con.register("new_explanations", pd.DataFrame(rows, columns=EXPLANATION_COLUMNS))
        con.execute("insert into ops.explanations by name select * from new_explanations")
        con.unregister("new_explanations")


def _worded_warnings(con: duckdb.DuckDBPyConnection) -> None:
    """FORM.md's warnings for the relation `warning_candidates`, worded by the SQL, into the temp
    table `found_warnings`; RuleError if one names a rule the seeded table lacks."""
    con.execute(f"create or replace temp table found_warnings as {setup_sql('warnings.sql')}")
    unworded = [r[0] for r in con.execute(
        "select distinct check_name from found_warnings where message is null").fetchall()]
    if unworded:
        con.execute("drop table found_warnings")
        raise rules.RuleError(f"warnings.sql found {unworded}, which raw.rules does not word")


def find_warnings(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """FORM.md's warnings for the values in the relation `warning_candidates` (see the SQL)."""
    _worded_warnings(con)
    rows = con.execute(f"select {', '.join(PROBLEM_COLUMNS)} from found_warnings "
                       "order by sha256, sheet, cell").fetchall()
    con.execute("drop table found_warnings")
    return [Problem(sha, sheet, cell, code, check, message, severity)
            for sha, sheet, cell, code, check, severity, message in rows]


def _record_warnings(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Store the warnings of the batch's valid versions, set-based (a night raises tens of
    thousands); returns their messages by sha256 (for tests: a pass reports them grouped,
    `pass_problems.sql`)."""
    con.execute(setup_sql("warning_candidates.sql"))
    _worded_warnings(con)
    con.execute("insert into ops.import_errors by name select * from found_warnings")
    by_sha = dict(con.execute(
        "select sha256, list(message order by sheet, cell) from found_warnings group by sha256").fetchall())
    con.execute("drop table found_warnings; drop table warning_candidates")
    return by_sha
