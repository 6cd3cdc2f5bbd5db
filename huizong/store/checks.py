"""The checks of a build: a check returns the rows that break a rule; no row is a pass.
Hand-written checks are `sql/checks/assert_*.sql`; generated ones come from the declarations
(huizong/store/declarations.py) and are named for their relation (`marts.county_totals: key
unique`): the key unique and not null, and each column's `not_null`, `accepted_values` and
`relationships`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from huizong.store.declarations import LAYERS, Declaration, _literal, read_declarations
from huizong.store.warehouse import SQL_DIR

SHOWN_ROWS = 5  # offending rows a CheckFailure keeps to name


@dataclass(frozen=True)
class CheckFailure:
    """A check that found offending rows: how many, and the first few of them."""
    name: str
    count: int
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]  # at most SHOWN_ROWS

    def __str__(self) -> str:
        shown = "; ".join(", ".join(f"{c}={v}" for c, v in zip(self.columns, row)) for row in self.rows)
        more = "; ..." if self.count > len(self.rows) else ""
        return f"{self.name}: {self.count} row(s), e.g. {shown}{more}"


def generated_checks(declarations: dict[str, Declaration]) -> dict[str, str]:
    """The checks the declarations imply, by name: each relation's key unique and not null, each
    column's tests, and no HUGEINT column in the models (an integer count must reach pandas as an
    integer, not as a float)."""
    checks: dict[str, str] = {}
    for d in declarations.values():
        key = ", ".join(d.key)
        if d.key:
            checks[f"{d.relation}: key unique"] = (
                f"select {key}, count(*) as n from {d.relation} group by all having count(*) > 1")
        if not_null := [k for k in d.key if k not in d.nullable_key]:
            checks[f"{d.relation}: key not null"] = (
                f"select {key} from {d.relation} where " + " or ".join(f"{k} is null" for k in not_null))
        for c in d.columns:
            shown = ", ".join(dict.fromkeys([*d.key, c.name]))
            for test, arg in c.tests:
                if test == "not_null":
                    checks[f"{d.relation}: {c.name} not null"] = (
                        f"select {shown} from {d.relation} where {c.name} is null")
                elif test == "accepted_values":
                    values = ", ".join(_literal(v) for v in arg)
                    checks[f"{d.relation}: {c.name} in accepted values"] = (
                        f"select {shown} from {d.relation} where {c.name} not in ({values})")
                else:
                    to, field = arg
                    checks[f"{d.relation}: {c.name} in {to}.{field}"] = (
                        f"select {shown} from {d.relation} as child where {c.name} is not null "
                        f"and not exists (select 1 from {to} as parent where parent.{field} = child.{c.name})")
    layers = ", ".join(_literal(s) for s in LAYERS)
    checks["models: no HUGEINT column"] = (
        "select schema_name, table_name, column_name from duckdb_columns() "
        f"where database_name = current_database() and schema_name in ({layers}) and data_type = 'HUGEINT'")
    return checks


def run_check(con: duckdb.DuckDBPyConnection, check: Path | str, sql: str | None = None) -> CheckFailure | None:
    """Run one check, a file `sql/checks/assert_*.sql` or a name and its SQL; None when it
    returns no row."""
    if sql is None:
        name, sql = check.stem, check.read_text(encoding="utf-8")
    else:
        name = str(check)
    body = sql.strip().rstrip(";")
    n = con.execute(f"select count(*) from ({body})").fetchall()[0][0]
    if not n:
        return None
    cur = con.execute(f"select * from ({body}) limit {SHOWN_ROWS}")
    columns = tuple(d[0] for d in cur.description)
    return CheckFailure(name, n, columns, tuple(tuple(r) for r in cur.fetchall()))


def all_checks(sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """Every check by name, hand-written (`assert_*`) and generated, in name order."""
    checks = {path.stem: path.read_text(encoding="utf-8")
              for path in (sql_dir / "checks").glob("assert_*.sql")}
    checks.update(generated_checks(read_declarations(sql_dir)))
    return dict(sorted(checks.items()))


def run_checks(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR, threads: int = 2) -> list[CheckFailure]:
    """Run every check; returns one CheckFailure per check that found offending rows, in name
    order (an empty list, falsy, when every check passed). Checks only read: they run on
    `threads` cursors of the connection at once (most are small queries, each waiting on
    DuckDB more than on its cores)."""
    from concurrent.futures import ThreadPoolExecutor

    checks = list(all_checks(sql_dir).items())

    def run_share(share: int) -> list[tuple[str, CheckFailure | None]]:
        cursor = con.cursor()  # one per thread: a cursor runs one query at a time
        try:
            return [(name, run_check(cursor, name, sql)) for name, sql in checks[share::threads]]
        finally:
            cursor.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        found = dict(pair for share in pool.map(run_share, range(threads)) for pair in share)
    return [f for name, _ in checks if (f := found[name]) is not None]
