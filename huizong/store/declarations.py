"""The models' and the warehouse's declarations: each model's YAML beside its SQL
(`sql/marts/county_totals.yml`) and the ops and raw tables' (`sql/setup/warehouse.yml`): its
description in Chinese and English, its grain, its key and every column, with optional tests.
Read by the model runner (huizong/store/models.py, which comments every relation from them) and
the checks (huizong/store/checks.py, which generates a check from each key and test)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from huizong.core.errors import HuizongError
from huizong.store.warehouse import SQL_DIR

LAYERS = {"staging": "view", "intermediate": "view", "marts": "table"}
SOURCES_FILE = Path("setup") / "warehouse.yml"  # ops and raw: the warehouse's own tables
DOCUMENTED_SCHEMAS = ("ops", "raw", *LAYERS)
COLUMN_TESTS = ("not_null", "accepted_values", "relationships")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when built with it


class DeclarationError(HuizongError, ValueError):
    """A model's or table's YAML declaration is missing, malformed, or disagrees with what was built."""


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


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
