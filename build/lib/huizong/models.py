"""Run the SQL models in `sql/` in dependency order, then the checks in `sql/checks/`.

A model is one file holding one `select`; its folder is its schema and its file name its relation
name (`sql/marts/county_totals.sql` -> `marts.county_totals`). Staging and intermediate models are
views, marts are tables. A model depends on every other model whose `schema.name` it mentions.
A check (`sql/checks/assert_*.sql`) returns the rows that break a rule: no row is a pass.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from huizong.warehouse import SQL_DIR

LAYERS = {"staging": "view", "intermediate": "view", "marts": "table"}


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    sql: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


def discover_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model, ordered so that each comes after the models it selects from."""
    models = {m.relation: m for m in (
        Model(layer, path.stem, path.read_text(encoding="utf-8"))
        for layer in LAYERS for path in sorted((sql_dir / layer).glob("*.sql")))}
    ordered: list[Model] = []
    visiting: set[str] = set()

    def visit(m: Model) -> None:
        if m in ordered:
            return
        if m.relation in visiting:
            raise ValueError(f"models refer to each other in a cycle at {m.relation}")
        visiting.add(m.relation)
        for rel in sorted(models):
            if rel != m.relation and re.search(rf"\b{re.escape(rel)}\b", m.sql):
                visit(models[rel])
        ordered.append(m)

    for m in models.values():
        visit(m)
    return ordered


def build_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Create or replace every model; returns the relations built, in order."""
    built = []
    for m in discover_models(sql_dir):
        body = m.sql.strip().rstrip(";")
        con.execute(f"create or replace {LAYERS[m.schema]} {m.relation} as\n{body}")
        built.append(m.relation)
    apply_docs(con, sql_dir)
    return built


def apply_docs(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """Comment every documented relation and column (sql/docs.csv), in Chinese and English, so
    that `DESCRIBE` and `duckdb_columns()` document the marts."""
    with (sql_dir / "docs.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text = f"{row['zh']} / {row['en']}".replace("'", "''")
            target = f"column {row['relation']}.{row['column']}" if row["column"] else f"table {row['relation']}"
            con.execute(f"comment on {target} is '{text}'")


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


def run_check(con: duckdb.DuckDBPyConnection, path: Path) -> CheckFailure | None:
    """Run one check (`sql/checks/assert_*.sql`); None when it returns no row."""
    body = path.read_text(encoding="utf-8").strip().rstrip(";")
    n = con.execute(f"select count(*) from ({body})").fetchall()[0][0]
    if not n:
        return None
    cur = con.execute(f"select * from ({body}) limit {SHOWN_ROWS}")
    columns = tuple(d[0] for d in cur.description)
    return CheckFailure(path.stem, n, columns, tuple(tuple(r) for r in cur.fetchall()))


def run_checks(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[CheckFailure]:
    """Run every check; returns one CheckFailure per check that found offending rows, in name
    order (an empty list, falsy, when every check passed)."""
    return [f for path in sorted((sql_dir / "checks").glob("assert_*.sql"))
            if (f := run_check(con, path)) is not None]
