"""MkDocs hook: pages made at build time from the files they describe, so that the site holds no
hand copy of them.

- `reference/warehouse.md`, the warehouse reference: every relation declared in `sql/**/*.yml`
  (the models' YAML beside their SQL, and the warehouse's own tables in `sql/setup/warehouse.yml`)
  with its description, grain, key and columns, as the model runner reads them to comment the
  warehouse and generate its checks.
- `contract.md` and `form.md`: the repository's CONTRACT.md and FORM.md as they are.

Plain PyYAML, no plugin: the hook reads the declarations itself (the runner validates them on
every build; a test checks every declared relation is on the page).
"""
from __future__ import annotations

from pathlib import Path

import yaml
from mkdocs.structure.files import File, Files

REFERENCE_PAGE = "reference/warehouse.md"
INCLUDED = {"contract.md": "CONTRACT.md", "form.md": "FORM.md"}  # page -> file at the top
SCHEMAS = ("ops", "raw", "staging", "intermediate", "marts")  # the order a pass fills them
SCHEMA_ROLES = {
    "ops": "the ledger: files, problems, the office's decisions and sign-offs (`sql/setup/warehouse.yml`)",
    "raw": "the values as read, and the catalog's seeds (`sql/setup/warehouse.yml`)",
    "staging": "views: the ledger and seeds, cleaned (`sql/staging/`)",
    "intermediate": "views: the steps between (`sql/intermediate/`)",
    "marts": "tables: what analysts, the summary and the commands read (`sql/marts/`)",
}


def declared_relations(sql_dir: Path) -> list[dict]:
    """Every relation declared under `sql_dir`, as its YAML gives it, with `relation`
    (schema.name) and `path` added: a model's schema is its folder, a source's the schema it is
    listed under."""
    relations = []
    for path in sorted(sql_dir.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        where = path.relative_to(sql_dir.parent).as_posix()
        for model in doc.get("models") or []:
            relations.append({**model, "relation": f"{path.parent.name}.{model['name']}", "path": where})
        for source in doc.get("sources") or []:
            for table in source.get("tables") or []:
                relations.append({**table, "relation": f"{source['name']}.{table['name']}", "path": where})
    order = {s: i for i, s in enumerate(SCHEMAS)}
    return sorted(relations, key=lambda r: (order.get(r["relation"].split(".")[0], len(order)), r["relation"]))


def _cell(text: object) -> str:
    """Text for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _test_text(test: object) -> str:
    if isinstance(test, str):
        return test.replace("_", " ")
    ((name, arg),) = test.items()
    if name == "accepted_values":
        return "one of " + ", ".join(f"`{v}`" for v in arg)
    if name == "relationships":
        return f"in `{arg['to']}.{arg['field']}`"
    return f"{name}: {arg}"


def relation_section(r: dict) -> list[str]:
    en = _cell(r["en"])
    lines = [f"### {r['relation']} {{#{r['relation']}}}", "", f"{en}{'' if en.endswith(('.', '?', '!')) else '.'} {_cell(r['zh'])}", "",
             f"**Grain.** {_cell(r['grain'])}", ""]
    key = r.get("key") or []
    lines.append("**Key:** " + (", ".join(f"`{k}`" for k in key) if key else "none declared"))
    if r.get("nullable_key"):
        lines[-1] += " (null is a value of " + ", ".join(f"`{k}`" for k in r["nullable_key"]) + ")"
    if r.get("incremental_by"):
        lines[-1] += f" · built by {r['incremental_by']}"
    lines[-1] += f" · declared in `{r['path']}`"
    lines += ["", "| column | English | 中文 | tests |", "| --- | --- | --- | --- |"]
    for c in r.get("columns") or []:
        tests = "; ".join(_test_text(t) for t in c.get("tests") or [])
        lines.append(f"| `{c['name']}` | {_cell(c['en'])} | {_cell(c['zh'])} | {tests} |")
    return lines + [""]


def reference_markdown(relations: list[dict]) -> str:
    lines = [
        "# Warehouse reference",
        "",
        "*Generated at build time from the models' declarations, `sql/**/*.yml`: each model's YAML "
        "beside its SQL and the warehouse's own tables in `sql/setup/warehouse.yml`. The same text "
        "comments every relation and column in the warehouse (`duckdb_columns()`), and its keys and "
        "tests are the checks every build runs. Edit the YAML, not this page.*",
        "",
    ]
    for schema in dict.fromkeys(r["relation"].split(".")[0] for r in relations):
        members = [r for r in relations if r["relation"].startswith(schema + ".")]
        lines += [f"## {schema} {{#schema-{schema}}}", "", f"`{schema}`: {SCHEMA_ROLES.get(schema, '')}", "",
                  "| relation | what it holds |", "| --- | --- |"]
        lines += [f"| [`{r['relation']}`](#{r['relation']}) | {_cell(r['en'])} |" for r in members]
        lines.append("")
        for r in members:
            lines += relation_section(r)
    return "\n".join(lines)


def on_files(files: Files, config) -> Files:
    root = Path(config["config_file_path"]).resolve().parent
    files.append(File.generated(config, REFERENCE_PAGE, content=reference_markdown(declared_relations(root / "sql"))))
    for page, source in INCLUDED.items():
        files.append(File.generated(config, page, content=(root / source).read_text(encoding="utf-8")))
    return files
