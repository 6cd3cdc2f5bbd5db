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
from functools import cached_property
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp

from huizong.core.errors import HuizongError
from huizong.store.warehouse import SQL_DIR, define_macros

LAYERS = {"staging": "view", "intermediate": "view", "marts": "table"}
# What a mart built by year may read, through any model: what sql/setup/year_inputs.sql
# fingerprints by year, and the seeds that models_version covers.
INCREMENTAL_SOURCES = frozenset({"ops.imports", "raw.submitted_values", "raw.units", "raw.indicators", "raw.indicator_forms", "raw.levels"})
SOURCES_FILE = Path("setup") / "warehouse.yml"  # ops and raw: the warehouse's own tables
DOCUMENTED_SCHEMAS = ("ops", "raw", *LAYERS)
COLUMN_TESTS = ("not_null", "accepted_values", "relationships")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when built with it


class DeclarationError(HuizongError, ValueError):
    """A model's or table's YAML declaration is missing, malformed, or disagrees with what was built."""


# --- declarations -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    en: str
    tests: tuple[tuple[str, object], ...] = ()  # (test, argument): ("not_null", None) ...


@dataclass(frozen=True)
class Declaration:
    """One relation as its YAML declares it."""
    relation: str
    zh: str
    en: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    path: Path
    nullable_key: tuple[str, ...] = ()  # key columns where null is one value of the grain
    incremental_by: str | None = None  # "year": built again only for the years whose inputs changed

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _text(entry: dict, field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise DeclarationError(f"{where}: `{field}` is missing or empty")
    return value.strip()


def _column(entry: object, where: str) -> Column:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise DeclarationError(f"{where}: every column needs a `name`")
    where = f"{where}, column {entry['name']}"
    unknown = set(entry) - {"name", "zh", "en", "tests"}
    if unknown:
        raise DeclarationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if not isinstance(entry.get("tests") or [], list):
        raise DeclarationError(f"{where}: `tests` must be a list")
    tests = []
    for test in entry.get("tests") or []:
        if isinstance(test, str):
            name, arg = test, None
        elif isinstance(test, dict) and len(test) == 1:
            ((name, arg),) = test.items()
        else:
            name, arg = None, None
        if name not in COLUMN_TESTS:
            raise DeclarationError(f"{where}: unknown test {test!r} (known: {', '.join(COLUMN_TESTS)})")
        if name == "accepted_values":
            if not (isinstance(arg, list) and arg):
                raise DeclarationError(f"{where}: accepted_values needs a list of values")
            arg = tuple(arg)
        elif name == "relationships":
            if not (isinstance(arg, dict) and isinstance(arg.get("to"), str) and isinstance(arg.get("field"), str)):
                raise DeclarationError(f"{where}: relationships needs `to` (schema.relation) and `field`")
            arg = (arg["to"], arg["field"])
        tests.append((name, arg))
    return Column(entry["name"], _text(entry, "zh", where), _text(entry, "en", where), tuple(tests))


def _declaration(entry: object, schema: str, path: Path, *, key_required: bool) -> Declaration:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise DeclarationError(f"{path}: every model or table needs a `name`")
    relation = f"{schema}.{entry['name']}"
    where = f"{relation} ({path})"
    unknown = set(entry) - {"name", "zh", "en", "grain", "key", "nullable_key", "incremental_by", "columns"}
    if unknown:
        raise DeclarationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    key = entry.get("key") or []
    if not isinstance(key, list) or (key_required and not key):
        raise DeclarationError(f"{where}: `key` must be a list of columns")
    columns = tuple(_column(c, where) for c in entry.get("columns") or [])
    if not columns:
        raise DeclarationError(f"{where}: no `columns` declared")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise DeclarationError(f"{where}: a column is declared twice")
    for k in key:
        if k not in names:
            raise DeclarationError(f"{where}: key column {k} is not among its columns")
    nullable_key = entry.get("nullable_key") or []
    if not isinstance(nullable_key, list) or not set(nullable_key) <= set(key):
        raise DeclarationError(f"{where}: `nullable_key` must be a list of key columns")
    incremental_by = entry.get("incremental_by")
    if incremental_by is not None and (incremental_by != "year" or "year" not in names or schema != "marts"):
        raise DeclarationError(f"{where}: `incremental_by` may only be `year`, for a mart with a year column")
    return Declaration(relation, _text(entry, "zh", where), _text(entry, "en", where),
                       _text(entry, "grain", where), tuple(key), columns, path, tuple(nullable_key), incremental_by)


def _load_yaml(path: Path) -> dict:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as e:
        raise DeclarationError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise DeclarationError(f"{path}: expected a mapping with `models:` or `sources:`")
    return doc


def read_declarations(sql_dir: Path = SQL_DIR) -> dict[str, Declaration]:
    """Every declared relation by `schema.name`: the models' YAML files (`models:`, one model,
    named as its file) and the sources' (`sources:` of `sql/setup/warehouse.yml`)."""
    found: dict[str, Declaration] = {}

    def add(d: Declaration) -> None:
        if d.relation in found:
            raise DeclarationError(f"{d.relation} is declared twice ({found[d.relation].path}, {d.path})")
        found[d.relation] = d

    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.yml")):
            entries = _load_yaml(path).get("models")
            if not isinstance(entries, list) or len(entries) != 1:
                raise DeclarationError(f"{path}: expected `models:` with the one model of {path.stem}.sql")
            d = _declaration(entries[0], layer, path, key_required=True)
            if d.relation != f"{layer}.{path.stem}":
                raise DeclarationError(f"{path}: declares {d.relation}, not {layer}.{path.stem}")
            add(d)
    sources = sql_dir / SOURCES_FILE
    if sources.exists():
        for schema in _load_yaml(sources).get("sources") or []:
            if not isinstance(schema, dict) or schema.get("name") not in ("ops", "raw"):
                raise DeclarationError(f"{sources}: each source is a schema, ops or raw, with `tables:`")
            for table in schema.get("tables") or []:
                add(_declaration(table, schema["name"], sources, key_required=False))
    return found


# --- models -------------------------------------------------------------------------------------

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


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# --- checks -------------------------------------------------------------------------------------

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
