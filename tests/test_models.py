"""The model runner (huizong/store/models.py): the models build and pass their checks on an empty
warehouse, every relation and column is documented from its YAML, dependencies come from parsing
the SQL (never from a comment), and a declaration that disagrees with its model stops the build."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import fresh_warehouse

from huizong.store import models
from huizong.store.warehouse import SQL_DIR

SCHEMAS = ("ops", "raw", "staging", "intermediate", "marts")


@pytest.fixture(scope="module")
def built() -> duckdb.DuckDBPyConnection:
    con = fresh_warehouse()
    models.build_models(con)
    return con


def test_every_model_and_check_builds_on_an_empty_warehouse(built):
    assert models.run_checks(built) == []
    relations = {m.relation for m in models.discover_models()}
    built_relations = {r[0] for r in built.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "union all select schema_name || '.' || view_name from duckdb_views() where not internal").fetchall()}
    assert relations <= built_relations


def test_every_relation_and_column_carries_a_comment_in_chinese_and_english(built):
    relations = built.execute(
        "select schema_name, table_name, comment from duckdb_tables() where schema_name in ? "
        "union all select schema_name, view_name, comment from duckdb_views() where schema_name in ?",
        [list(SCHEMAS), list(SCHEMAS)]).fetchall()
    columns = built.execute("select schema_name, table_name, column_name, comment from duckdb_columns() "
                            "where schema_name in ?", [list(SCHEMAS)]).fetchall()
    assert {r[0] for r in relations} == set(SCHEMAS)
    assert len(relations) >= 20 and len(columns) >= 150
    undocumented = [r[:-1] for r in relations + columns if " / " not in (r[-1] or "")]
    assert undocumented == []
    comment = built.execute("select comment from duckdb_columns() where schema_name = 'marts' "
                            "and table_name = 'county_totals' and column_name = 'quarters_valid'").fetchone()[0]
    assert comment == "已有效报送的单位季度数 / Unit-quarters with a valid submission behind the value"


def test_every_model_has_a_declaration_with_grain_and_key_and_generated_key_checks():
    declarations = models.read_declarations()
    checks = models.all_checks()
    for m in models.discover_models():
        d = declarations[m.relation]
        assert d.path == SQL_DIR / m.schema / f"{m.name}.yml"
        assert d.grain and d.key and d.zh and d.en
        assert f"{m.relation}: key unique" in checks
    assert "marts.submission_status: status in accepted values" in checks
    assert "models: no HUGEINT column" in checks
    assert {"assert_mart_keys_unique", "assert_mart_keys_not_null", "assert_marts_documented"}.isdisjoint(checks)


def test_models_come_after_the_models_they_select_from():
    order = [m.relation for m in models.discover_models()]
    for i, m in enumerate(models.discover_models()):
        assert {d for d in m.depends_on if d in order} <= set(order[:i]), m.relation
    deps = {m.relation: m.depends_on for m in models.discover_models()}
    assert deps["marts.completeness"] == {"marts.submission_status", "staging.stg_units"}
    assert deps["staging.stg_units"] == {"raw.units"}
    assert order.index("marts.county_totals") < order.index("marts.county_year_over_year")
    assert order.index("marts.civilized_levels") < order.index("marts.summary_figures")


def test_dependencies_are_parsed_not_searched():
    sql = textwrap.dedent("""\
        -- built after marts.town_totals?  No: a comment is not a reference
        with
        county_totals as (select * from marts.county_totals),  /* staging.stg_levels */
        sums as (select year, count(*) as n from county_totals group by all)
        select sums.*, 'marts.level_counts' as note
        from sums join staging.stg_units on true, range(3) as r(i)
        """)
    assert models.dependencies(sql) == {"marts.county_totals", "staging.stg_units"}


def write_model(sql_dir: Path, relation: str, sql: str, columns: list[str], key: list[str] | None = None,
                tests: dict[str, str] | None = None) -> None:
    schema, name = relation.split(".")
    (sql_dir / schema).mkdir(parents=True, exist_ok=True)
    (sql_dir / schema / f"{name}.sql").write_text(sql, encoding="utf-8")
    key = key or columns[:1]
    lines = ["models:", f"  - name: {name}", "    zh: 测试模型", "    en: A test model",
             "    grain: One row per test.", f"    key: [{', '.join(key)}]", "    columns:"]
    for c in columns:
        lines += [f"      - name: {c}", f"        zh: 列{c}", f"        en: Column {c}"]
        if tests and c in tests:
            lines.append(f"        tests: {tests[c]}")
    (sql_dir / schema / f"{name}.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def synthetic(tmp_path: Path) -> tuple[Path, duckdb.DuckDBPyConnection]:
    sql_dir = tmp_path / "sql"
    (sql_dir / "checks").mkdir(parents=True)
    con = duckdb.connect()
    for schema in models.LAYERS:
        con.execute(f"create schema {schema}")
    return sql_dir, con


def test_a_model_whose_comment_mentions_another_model_builds(tmp_path):
    """A regex over the text saw staging.stg_things depend on marts.things (its comment names
    it) and marts.things on staging.stg_things: a false cycle."""
    sql_dir, con = synthetic(tmp_path)
    write_model(sql_dir, "staging.stg_things",
                "-- grain: one row per thing; summed up in marts.things\nselect 1 as thing_id, 2 as size\n",
                ["thing_id", "size"])
    write_model(sql_dir, "marts.things",
                "-- grain: one row per thing\nselect thing_id, size from staging.stg_things\n", ["thing_id", "size"])
    assert models.build_models(con, sql_dir) == ["staging.stg_things", "marts.things"]
    assert models.run_checks(con, sql_dir) == []
    assert con.execute("select comment from duckdb_tables() where table_name = 'things'").fetchall() == [
        ("测试模型 / A test model",)]


def test_a_real_cycle_is_still_an_error(tmp_path):
    sql_dir, con = synthetic(tmp_path)
    write_model(sql_dir, "marts.a", "select x from marts.b", ["x"])
    write_model(sql_dir, "marts.b", "select x from marts.a", ["x"])
    with pytest.raises(ValueError, match=r"cycle: marts.a -> marts.b -> marts.a"):
        models.build_models(con, sql_dir)


def test_an_integer_sum_is_not_left_hugeint(tmp_path, built):
    """sum() of integers is HUGEINT in DuckDB, which pandas reads as a float (3.0)."""
    sql_dir, con = synthetic(tmp_path)
    write_model(sql_dir, "marts.sums", "select 1 as k, sum(x) as n from (values (1), (2)) as t(x)", ["k", "n"])
    models.build_models(con, sql_dir)
    (f,) = models.run_checks(con, sql_dir)
    assert f.name == "models: no HUGEINT column" and f.rows == (("marts", "sums", "n"),)
    # the project's models: no HUGEINT anywhere, and the counts reach pandas as integers
    assert built.execute("select count(*) from duckdb_columns() where data_type = 'HUGEINT' "
                         "and schema_name in ('staging', 'intermediate', 'marts')").fetchall() == [(0,)]
    frame = built.execute("select quarters_valid, quarters_expected from marts.county_totals "
                          "union all select 3, 4").df()
    assert str(frame.dtypes["quarters_valid"]) == "int64" and frame["quarters_valid"].tolist() == [3]


def test_generated_checks_name_their_relation(tmp_path):
    sql_dir, con = synthetic(tmp_path)
    write_model(sql_dir, "marts.rows", "select * from (values (1, 'a', 'x'), (1, 'b', null), (null, 'z', 'y')) "
                "as t(k, status, code)", ["k", "status", "code"],
                tests={"status": "[not_null, {accepted_values: [a, b]}]",
                       "code": "[{relationships: {to: marts.codes, field: code}}]"})
    write_model(sql_dir, "marts.codes", "select 'x' as code", ["code"])
    models.build_models(con, sql_dir)
    failed = {f.name: f for f in models.run_checks(con, sql_dir)}
    assert sorted(failed) == ["marts.rows: code in marts.codes.code", "marts.rows: key not null",
                              "marts.rows: key unique", "marts.rows: status in accepted values"]
    assert failed["marts.rows: key unique"].rows == ((1, 2),)
    assert failed["marts.rows: status in accepted values"].rows == ((None, "z"),)
    assert failed["marts.rows: code in marts.codes.code"].rows == ((None, "y"),)


def copy_of_sql(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SQL_DIR, tmp_path / "sql", ignore=shutil.ignore_patterns("__pycache__")))


def test_a_column_missing_from_the_yaml_fails_the_build_naming_it(tmp_path):
    sql_dir = copy_of_sql(tmp_path)
    yml = sql_dir / "marts" / "county_totals.yml"
    text = yml.read_text(encoding="utf-8")
    cut = text.index("      - name: quarters_expected")
    yml.write_text(text[:cut], encoding="utf-8")
    with pytest.raises(models.DeclarationError,
                       match=r"marts\.county_totals: column\(s\) quarters_expected not declared in .*county_totals\.yml"):
        models.build_models(fresh_warehouse(), sql_dir)


def test_a_declared_column_the_model_lacks_fails_the_build_naming_it(tmp_path):
    sql_dir = copy_of_sql(tmp_path)
    yml = sql_dir / "staging" / "stg_levels.yml"
    yml.write_text(yml.read_text(encoding="utf-8") + "      - name: level_colour\n        zh: 颜色\n        en: Colour\n",
                   encoding="utf-8")
    with pytest.raises(models.DeclarationError,
                       match=r"staging\.stg_levels: declared column\(s\) level_colour not in the built relation"):
        models.build_models(fresh_warehouse(), sql_dir)


def test_a_model_without_yaml_fails_the_build(tmp_path):
    sql_dir = copy_of_sql(tmp_path)
    (sql_dir / "marts" / "level_counts.yml").unlink()
    with pytest.raises(models.DeclarationError, match=r"marts\.level_counts has no declaration"):
        models.build_models(fresh_warehouse(), sql_dir)


def test_a_source_table_column_not_declared_fails_the_build(tmp_path):
    sql_dir = copy_of_sql(tmp_path)
    con = fresh_warehouse()
    con.execute("alter table ops.builds add column built_by varchar")
    with pytest.raises(models.DeclarationError, match=r"ops\.builds: column\(s\) built_by not declared"):
        models.build_models(con, sql_dir)


@pytest.mark.parametrize("bad, message", [
    ("    key: [year, nowhere]\n", "key column nowhere is not among its columns"),
    ("    colour: red\n", "unknown field"),
    ("    key: [year, indicator_code]\n    incremental_by: quarter\n", "may only be `year`"),
])
def test_a_malformed_declaration_is_refused(tmp_path, bad, message):
    sql_dir = copy_of_sql(tmp_path)
    yml = sql_dir / "marts" / "county_totals.yml"
    text = yml.read_text(encoding="utf-8").replace("    key: [year, indicator_code]\n", bad)
    yml.write_text(text, encoding="utf-8")
    with pytest.raises(models.DeclarationError, match=message):
        models.read_declarations(sql_dir)


def test_the_declarations_are_part_of_the_models_version(tmp_path, monkeypatch):
    from huizong.store import versions
    sql_dir = copy_of_sql(tmp_path)
    monkeypatch.setattr(versions, "_SQL", sql_dir)
    versions.models_version.cache_clear()
    before = versions.models_version()
    for yml in (sql_dir / "marts" / "county_totals.yml", sql_dir / "setup" / "warehouse.yml"):
        yml.write_text(yml.read_text(encoding="utf-8").replace("zh: 年度\n", "zh: 年份\n")
                       .replace("zh: 等级\n", "zh: 级别\n"), encoding="utf-8")
        versions.models_version.cache_clear()
        assert versions.models_version() != before
        before = versions.models_version()
    versions.models_version.cache_clear()


def test_a_mart_built_by_year_may_read_only_what_is_fingerprinted_by_year(tmp_path):
    """A mart built again only for the years whose inputs changed must not read what those
    inputs leave out (the office's reviews, say): a change there would go unseen."""
    sql_dir, con = synthetic(tmp_path)
    write_model(sql_dir, "staging.stg_reviews", "select 2019 as year, decision from ops.reviews", ["year", "decision"])
    write_model(sql_dir, "marts.reviewed", "select year, count(*) as n from staging.stg_reviews group by all",
                ["year", "n"])
    yml = sql_dir / "marts" / "reviewed.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("    key: [year]\n", "    key: [year]\n    incremental_by: year\n"),
                   encoding="utf-8")
    with pytest.raises(models.DeclarationError, match=r"marts\.reviewed is built by year .* reads ops\.reviews"):
        models.build_models(con, sql_dir)
