"""Run the SQL models in `sql/` in dependency order, document them, then run the checks.

A model is one file holding one `select`; its folder is its schema and its file name its relation
name (`sql/marts/county_totals.sql` -> `marts.county_totals`). Staging and intermediate models are
views, marts are tables. A model depends on the models its SQL selects from, as sqlglot parses it
(DuckDB dialect; CTE names and comments are not references).

Each model is declared once, in a YAML file beside its SQL (`sql/marts/county_totals.yml`): its
description in Chinese and English, its grain, its key and every column, with optional tests. The
warehouse's own tables (ops, raw) are declared in `sql/setup/warehouse.yml`. From these the
runner comments every relation and column (`zh / en`) and generates checks: the key unique and
not null, and each column's `not_null`, `accepted_values` and `relationships`. A built relation
with a column that is not declared, or a declared column it does not have, is a build error.

A mart whose YAML says `incremental_by: year` is built by year: a build whose models are those of
the last one (the same models_version) makes it again only for the years whose inputs changed
(`sql/setup/year_inputs.sql`: a year's versions in the ledger and their values), deleting and
inserting those years' rows; anything else builds it whole. Such a mart promises that its rows
of a year come only from that year's inputs and the catalog's seeds; that it reads nothing else
is checked here (`INCREMENTAL_SOURCES`).

A check returns the rows that break a rule: no row is a pass. Hand-written checks are
`sql/checks/assert_*.sql`; generated ones are named for their relation (`marts.county_totals:
key unique`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from huizong.store.checks import (  # noqa: F401  (re-exported: the runner's API is models.run_checks ...)
    CheckFailure, all_checks, generated_checks, run_check, run_checks)
from huizong.store.declarations import (  # noqa: F401  (re-exported, as above)
    DOCUMENTED_SCHEMAS, LAYERS, Declaration, DeclarationError, _literal, read_declarations)
from huizong.store.warehouse import SQL_DIR, define_macros

# What a mart built by year may read, through any model: what sql/setup/year_inputs.sql
# fingerprints by year, and the seeds that models_version covers.
INCREMENTAL_SOURCES = frozenset({"ops.imports", "raw.submitted_values", "raw.units", "raw.indicators",
                                 "raw.indicator_forms", "raw.levels"})


@lru_cache(maxsize=256)  # a pure function of the text: a process building many times (serve, the tests) parses once
def dependencies(sql: str) -> frozenset[str]:
    """The `schema.name` of every table or view the SQL selects from, as sqlglot parses it in
    DuckDB's dialect: CTEs, table functions and anything in comments are not dependencies."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if t.name and not (not t.db and t.name in ctes)]
    return frozenset(f"{t.db}.{t.name}" for t in tables if t.db)  # models are named with their schema


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    sql: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @cached_property
    def depends_on(self) -> frozenset[str]:  # parsed once: sqlglot takes milliseconds a model
        return dependencies(self.sql)


def discover_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model, ordered so that each comes after the models it selects from."""
    models = {m.relation: m for m in (
        Model(layer, path.stem, path.read_text(encoding="utf-8"))
        for layer in LAYERS for path in sorted((sql_dir / layer).glob("*.sql")))}
    ordered: list[Model] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(m: Model) -> None:
        if m.relation in done:
            return
        if m.relation in visiting:
            cycle = visiting[visiting.index(m.relation):] + [m.relation]
            raise ValueError(f"models refer to each other in a cycle: {' -> '.join(cycle)}")
        visiting.append(m.relation)
        for rel in sorted((m.depends_on & models.keys()) - {m.relation}):
            visit(models[rel])
        visiting.pop()
        done.add(m.relation)
        ordered.append(m)

    for m in models.values():
        visit(m)
    return ordered


def build_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Create or replace every model, then check every declaration against what was built and
    comment it; returns the relations built, in order. Raises DeclarationError when a model has
    no declaration or a relation's columns differ from its declaration's."""
    built, declarations = create_models(con, sql_dir)
    apply_docs(con, declarations)
    return built


def create_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> tuple[list[str], dict[str, Declaration]]:
    """build_models without the comments: the relations built, in order, and the declarations
    to check them against (`apply_docs`). The marts built by year are made again only for the
    years whose inputs changed, when they can be (`years_to_build`)."""
    define_macros(con)  # what the models call (sql/setup/macros.sql), in a warehouse of any age
    declarations = read_declarations(sql_dir)
    models = discover_models(sql_dir)
    for m in models:
        if m.relation not in declarations:
            raise DeclarationError(f"{m.relation} has no declaration: add {m.schema}/{m.name}.yml beside its SQL")
    relations = {m.relation for m in models}
    for d in declarations.values():
        if d.relation.split(".")[0] in LAYERS and d.relation not in relations:
            raise DeclarationError(f"{d.path} declares {d.relation}, which has no SQL model")
    by_year = [m for m in models if declarations[m.relation].incremental_by]
    _check_incremental_sources(by_year, models)
    years = years_to_build(con, by_year, declarations, sql_dir) if by_year else None
    _create_in_parallel(con, models, by_year=frozenset() if years is None else {m.relation for m in by_year},
                        years=years or frozenset())
    if by_year:  # what the marts built by year were built from, for the next build to compare
        con.execute("begin")
        con.execute("delete from ops.year_inputs")
        con.execute("insert into ops.year_inputs select year, fingerprint from year_inputs_now")
        con.execute("commit")
    return [m.relation for m in models], declarations


def years_to_build(con: duckdb.DuckDBPyConnection, by_year: list[Model], declarations: dict[str, Declaration],
                   sql_dir: Path = SQL_DIR) -> frozenset[int] | None:
    """The years the marts built by year are to be made again: those whose inputs differ from
    what the last build recorded (sql/setup/changed_years.sql), left in the temporary table
    year_inputs_now of `con`. None, to build them whole, when the last build was under other
    models (or recorded nothing), one of them is missing or has other columns than declared, or
    more than half the years changed."""
    from huizong.store.versions import models_version
    from huizong.store.warehouse import models_version_of, setup_sql

    con.execute(f"create or replace temp table year_inputs_now as\n{setup_sql('year_inputs.sql')}")
    built = built_columns(con)
    if sql_dir != SQL_DIR or models_version_of(con) != models_version() or any(
            set(built.get(m.relation) or ()) != set(declarations[m.relation].column_names) for m in by_year):
        return None
    recorded = con.execute("select count(*) from ops.year_inputs").fetchone()[0]
    if not recorded:
        return None
    changed = frozenset(y for (y,) in con.execute(setup_sql("changed_years.sql")).fetchall())
    # deleting and inserting most of a table's rows is slower than making it anew (0.9 s
    # against 0.7 s for all 50 years of the benchmark's warehouse)
    return None if 2 * len(changed) > recorded else changed


def _check_incremental_sources(by_year: list[Model], models: list[Model]) -> None:
    """DeclarationError for a mart built by year that reads, through any model, a table that
    is not among INCREMENTAL_SOURCES: a change to it would go unseen."""
    by_relation = {m.relation: m for m in models}
    for m in by_year:
        seen, todo, sources = set(), [m.relation], set()
        while todo:
            rel = todo.pop()
            if rel not in seen:
                seen.add(rel)
                if rel in by_relation:
                    todo.extend(by_relation[rel].depends_on)
                else:
                    sources.add(rel)
        if unseen := sources - INCREMENTAL_SOURCES:
            raise DeclarationError(
                f"{m.relation} is built by year (incremental_by) but reads {', '.join(sorted(unseen))}, which "
                "sql/setup/year_inputs.sql does not fingerprint: build it whole, or fingerprint what it reads")


def _create_in_parallel(con: duckdb.DuckDBPyConnection, models: list[Model], by_year: set[str] = frozenset(),
                        years: frozenset[int] = frozenset(), threads: int = 2) -> None:
    """Create or replace `models` (in dependency order), each as soon as the models it selects
    from are built, on `threads` cursors at once: much of a model's time is spent outside
    DuckDB's parallel operators (writing the table, the catalog), so two overlap well (a
    quarter of the models' time on two cores). A model in `by_year` keeps its table and has only
    the rows of `years` made again (none: it is left as it is)."""
    import threading
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    relations = {m.relation for m in models}
    needs = {m.relation: m.depends_on & relations for m in models}
    waiting = list(models)
    built: set[str] = set()
    local = threading.local()
    cursors = []

    def create(m: Model) -> str:
        if not hasattr(local, "cursor"):
            local.cursor = con.cursor()  # one per thread: a cursor runs one statement at a time
            cursors.append(local.cursor)
        body = m.sql.strip().rstrip(";")
        if m.relation not in by_year:
            local.cursor.execute(f"create or replace {LAYERS[m.schema]} {m.relation} as\n{body}")
        elif years:
            listed = ", ".join(str(int(y)) for y in sorted(years))
            local.cursor.execute("begin")
            try:
                local.cursor.execute(f"delete from {m.relation} where year in ({listed})")
                local.cursor.execute(f"insert into {m.relation} by name\nselect * from (\n{body}\n) where year in ({listed})")
                local.cursor.execute("commit")
            except BaseException:
                local.cursor.execute("rollback")
                raise
        return m.relation

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            running: dict = {}
            while waiting or running:
                for m in [m for m in waiting if needs[m.relation] <= built][:threads - len(running)]:
                    waiting.remove(m)
                    running[pool.submit(create, m)] = m
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    del running[future]
                    built.add(future.result())  # a failed model raises here, after the running ones
    finally:
        for cursor in cursors:
            cursor.close()


def built_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The columns of every table and view of the documented schemas, by `schema.name`."""
    rows = con.execute(
        "select schema_name || '.' || table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name in ? order by column_index",
        [list(DOCUMENTED_SCHEMAS)]).fetchall()
    columns: dict[str, list[str]] = {}
    for relation, column in rows:
        columns.setdefault(relation, []).append(column)
    return columns


def apply_docs(con: duckdb.DuckDBPyConnection, declarations: dict[str, Declaration] | None = None) -> None:
    """Comment every declared relation and column (`zh / en`), so that `DESCRIBE` and
    `duckdb_columns()` document the warehouse; a relation whose columns differ from its
    declaration's is a DeclarationError naming both."""
    declarations = read_declarations() if declarations is None else declarations
    columns = built_columns(con)
    views = {r[0] for r in con.execute(
        "select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = current_database() and not internal").fetchall()}
    for d in declarations.values():
        if d.relation not in columns:
            raise DeclarationError(f"{d.relation}, declared in {d.path}, is not in the warehouse")
        undeclared = [c for c in columns[d.relation] if c not in d.column_names]
        missing = [c for c in d.column_names if c not in columns[d.relation]]
        if undeclared:
            raise DeclarationError(f"{d.relation}: column(s) {', '.join(undeclared)} not declared in {d.path}")
        if missing:
            raise DeclarationError(f"{d.relation}: declared column(s) {', '.join(missing)} not in the built "
                                   f"relation ({d.path})")
    con.execute("begin")  # hundreds of comments in one commit: a third of their time
    try:
        for d in declarations.values():
            kind = "view" if d.relation in views else "table"
            con.execute(f"comment on {kind} {d.relation} is {_literal(f'{d.zh} / {d.en}')}")
            for c in d.columns:
                con.execute(f"comment on column {d.relation}.{c.name} is {_literal(f'{c.zh} / {c.en}')}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
