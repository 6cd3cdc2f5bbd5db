"""The rule table: every rule worded, every check name in use declared, warnings worded by SQL."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
from conftest import fresh_warehouse

from huizong.core import cells
from huizong.schemas import catalog as cat
from huizong.schemas import rules, submission
from huizong.schemas.rules import Rule, RuleError, check_table
from huizong.store import ledger

ROOT = Path(__file__).resolve().parent.parent
TOWN = cat.unit_by_code()["990101100"]  # 城关镇
V1 = cat.villages_of(TOWN.code)[0]


def test_every_rule_has_a_message_and_a_place():
    for rule in rules.RULES:
        assert rule.messages and all(m.strip() for m in rule.messages.values()), rule.id
        assert rule.severity in (rules.ERROR, rules.WARNING)
        assert rule.checked_in in (rules.READER, rules.PANDERA, rules.SQL)


def test_every_pandera_rule_has_its_check_and_every_check_its_rule():
    pandera_ids = {r.id for r in rules.rules_checked_in(rules.PANDERA)}
    assert set(submission.CHECKS) == pandera_ids
    schema_names = {c.name for s in (submission.values_schema(), submission.villages_schema())
                    for c in s.checks}
    assert schema_names == pandera_ids


def test_readable_is_worded_for_every_issue_a_cell_can_have():
    issues = {cells.EXCEL_ERROR, cells.CHINESE_NUMERAL, cells.APPROXIMATE, cells.NOT_A_NUMBER,
              cells.NOT_A_FLAG, cells.UNSAVED_FORMULA}
    assert set(rules.rule("readable").messages) == issues


def _names_in_source() -> set[str]:
    """Every check name the code uses: the reader's reject calls, constants naming a check,
    the SQL's check_name literals."""
    names = set()
    reject = re.compile(r'\.reject\([^)]*?"(?P<check>[a-z_]+)"', re.S)
    for path in (ROOT / "huizong").rglob("*.py"):
        names |= {m["check"] for m in reject.finditer(path.read_text(encoding="utf-8"))}
    names |= set(re.findall(r"'([a-z_]+)' as check_name", (ROOT / "sql/setup/warnings.sql").read_text()))
    from huizong.bulkheads.worker_process import UNREADABLE
    from huizong.intake import feedback
    names |= set(feedback.UNOPENABLE) | {UNREADABLE}
    return names


def test_every_check_name_used_is_in_the_table():
    used = _names_in_source()
    assert {"too_large", "missing_sheet", "flow_spike", "flag_dropped", "unreadable"} <= used
    assert used - set(rules.RULE_BY_ID) == set()


def test_an_unknown_rule_or_variant_fails_clearly():
    with pytest.raises(RuleError, match="no rule 'nope'"):
        rules.rule("nope")
    with pytest.raises(RuleError, match="variant 'x'"):
        rules.word("decimals", "x", raw="1")
    with pytest.raises(RuleError, match="needs a value for 'raw'"):
        rules.word("not_negative")


@pytest.mark.parametrize("bad, words", [
    (Rule("x", rules.ERROR, rules.READER, ""), "no message"),
    (Rule("x", rules.ERROR, rules.READER, {}), "no message"),
    (Rule("x", "fatal", rules.READER, "m"), "severity"),
    (Rule("x", rules.ERROR, "excel", "m"), "checked_in"),
    (Rule("x", rules.ERROR, rules.READER, "“{0}”"), "not names"),
    (Rule("x", rules.WARNING, rules.SQL, "“{raw}”"), "SQL fills only"),
])
def test_a_bad_declaration_fails_at_load(bad, words):
    with pytest.raises(RuleError, match=words):
        check_table((bad,))


def test_a_rule_declared_twice_fails_at_load():
    with pytest.raises(RuleError, match="declared twice"):
        check_table((Rule("x", rules.ERROR, rules.READER, "m"),) * 2)


def test_a_check_without_its_rule_fails_at_import():
    with pytest.raises(RuleError, match="no rule 'not_in_table'"):
        submission.checks("not_in_table")(lambda df: df)
    with pytest.raises(RuleError, match="not a pandera rule"):
        submission.checks("flow_spike")(lambda df: df)


# --- warnings worded by SQL -----------------------------------------------------------------

def _warehouse_with(history: dict[str, float], code: str, new_period: str,
                    new_value: float) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse where the town's village V1 reported `code` in the periods of
    `history`, and a new version (sha256 'new') for `new_period` waits to be checked."""
    con = fresh_warehouse()
    ind = cat.indicator_by_code()[code]
    cell = "E2"
    at = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    for period, value in [*history.items(), (new_period, new_value)]:
        sha = "new" if period == new_period else f"old{period}"
        con.execute("insert into ops.imports (sha256, file_name, unit_code, period, status, received_at, "
                    "imported_at, archive_path, n_errors, n_warnings) values (?, ?, ?, ?, ?, ?, ?, '', 0, 0)",
                    [sha, f"{sha}.xlsx", TOWN.code, period, "loaded" if sha != "new" else "valid", at, at])
        con.execute("insert into raw.submitted_values values (?, ?, ?, ?, null, ?, ?)",
                    [sha, V1.code, ind.code, value, ind.sheet, cell])
    con.execute("create temp table new_ledger as select 'new' as sha256, 'valid' as status")
    con.execute(ledger.setup_sql("warning_candidates.sql"))
    return con


def test_flow_spike_is_worded_by_sql():
    v03 = cat.indicator_by_code()["V03"]
    con = _warehouse_with({"2019Q1": 4, "2019Q2": 3, "2019Q3": 5}, "V03", "2019Q4", 21)
    (warning,) = ledger.find_warnings(con)
    assert (warning.check, warning.severity) == ("flow_spike", "warning")
    assert warning.message == (f"村级指标!E2 {v03.header}: “21”超过本单位以往季度中位数 4 的 5 倍，请核实是否填错")


def test_flow_spike_against_a_fractional_median():
    con = _warehouse_with({"2019Q1": 0, "2019Q2": 1}, "V03", "2019Q3", 3)
    (warning,) = ledger.find_warnings(con)
    assert "“3”超过本单位以往季度中位数 0.5 的 5 倍" in warning.message


def test_flag_dropped_back_to_no_is_worded_by_sql():
    v02 = cat.indicator_by_code()["V02"]
    con = _warehouse_with({"2019Q1": 1}, "V02", "2019Q2", 0)
    (warning,) = ledger.find_warnings(con)
    assert warning.check == "flag_dropped"
    assert warning.message == f"村级指标!E2 {v02.header}: 上季度为“是”，本季度为“否”，请核实"


def test_warnings_are_stored_set_based_and_returned_per_file():
    con = _warehouse_with({"2019Q1": 4, "2019Q2": 3, "2019Q3": 5}, "V03", "2019Q4", 21)
    con.execute("drop table warning_candidates")
    by_sha = ledger._record_warnings(con)
    stored = con.execute("select check_name, severity, message from ops.import_errors").fetchall()
    assert [(c, s) for c, s, _ in stored] == [("flow_spike", "warning")]
    assert by_sha == {"new": [stored[0][2]]}


def test_a_warning_without_its_rule_in_the_warehouse_fails_clearly():
    con = _warehouse_with({"2019Q1": 1}, "V02", "2019Q2", 0)
    con.execute("delete from raw.rules where rule_id = 'flag_dropped'")
    with pytest.raises(RuleError, match="flag_dropped"):
        ledger.find_warnings(con)


def test_rule_table_is_seeded_with_every_wording(memory_warehouse):
    con = memory_warehouse
    n = con.execute("select count(*) from raw.rules").fetchone()[0]
    assert n == sum(len(r.messages) for r in rules.RULES)


# --- the catalog and the registry, checked on load ------------------------------------------

def _typo(tmp_path: Path, source: Path, line: int, old: str, new: str) -> Path:
    """A copy of `source` with `old` replaced by `new` on `line` (1-based, as an editor shows)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    out = tmp_path / source.name
    out.write_text("".join(lines), encoding="utf-8")
    return out


@pytest.mark.parametrize("line, old, new, words", [
    (14, ",flow,", ",flw,", 'line 14, column kind: "flw" is not one of flow, stock, flag, level'),
    (14, "村级指标", "村级表", 'line 14, column sheet: "村级表" is not one of'),
    (14, ",town,", ",990101999,", 'line 14, column reported_by: "990101999" is not one of town'),
    (14, ",town,", ",990101901,", "line 14, column reported_by: \"990101901\" does not report on sheet 村级指标"),
    (14, ",0,50,", ",0,5O,", 'line 14, column max: "5O" is not a number'),
    (14, ",0,50,", ",50,0,", "line 14, column max: 0 is below min 50"),
    (14, ",0,50,", ",0,,", "line 14, column max: is empty, but a flow needs bounds"),
    (14, ",50,0,", ",50,1.5,", 'line 14, column decimals: "1.5" is not a whole number'),
    (14, ",50,0,", ",50,-1,", 'line 14, column decimals: "-1" is not a whole number'),
    (14, "V13,", "V12,", 'line 14, column code: "V12" is a duplicate of line 13'),
    (14, "评议活动", "", "line 14, column name: is empty"),
    (14, "场次,,", "场次,2020Q5,", 'line 14, column valid_from: "2020Q5" is not a quarter like 2020Q1'),
    (14, "场次,,", "场次,2021Q1,2020Q4", "line 14, column valid_to: 2020Q4 is before valid_from 2021Q1"),
    (14, "V13,", "V12,", "for the same quarters"),  # a second definition must not overlap the first
])
def test_an_indicator_typo_names_file_line_and_column(tmp_path: Path, line, old, new, words):
    path = _typo(tmp_path, cat.INDICATORS_CSV, line, old, new)
    with pytest.raises(cat.CatalogError, match=re.escape(words)) as raised:
        cat.load_indicators(path)
    assert str(path) in str(raised.value)


def test_the_shipped_catalog_is_named_as_in_the_repository():
    assert cat._shown(cat.INDICATORS_CSV) == "schemas/indicators.csv"


def test_a_missing_column_is_named(tmp_path: Path):
    path = _typo(tmp_path, cat.INDICATORS_CSV, 1, ",decimals,", ",places,")
    with pytest.raises(cat.CatalogError, match="line 1: missing column\\(s\\) decimals"):
        cat.load_indicators(path)


@pytest.mark.parametrize("line, old, new, words", [
    (3, ",town,", ",twon,", 'line 3, column unit_type: "twon" is not one of county, town, village, department'),
    (4, "990101100001,", "99010110001,", 'line 4, column unit_code: "99010110001" is not a village code of 12 digits'),
    (4, "990101100001,", "990101100002,", 'line 5, column unit_code: "990101100002" is a duplicate of line 4'),
    (167, "990101901,", "990101904,", 'line 167, column unit_code: "990101904" is a department code but does not end 901–903'),
    (4, ",990101100,", ",990101,", 'line 4, column parent_code: "990101" is not a town of this registry'),
    (3, ",990101,", ",990102,", 'line 3, column parent_code: "990102" is not a county of this registry'),
    (4, "东街社区", "", "line 4, column unit_name: is empty"),
    (4, "社区,,,", "社区,,2019Q4,990101999999", 'line 4, column successor: "990101999999" is not a village of this registry'),
    (4, "社区,,,", "社区,,,990101100002", "line 4, column closed: is empty, but a unit with a successor has closed"),
    (4, "社区,,,", "社区,2020Q9,,", 'line 4, column opened: "2020Q9" is not a quarter like 2020Q1'),
])
def test_a_registry_typo_names_file_line_and_column(tmp_path: Path, line, old, new, words):
    path = _typo(tmp_path, cat.UNITS_CSV, line, old, new)
    with pytest.raises(cat.CatalogError, match=re.escape(words)):
        cat.load_units(path)


def test_a_second_definition_of_a_code_is_for_other_quarters_with_the_same_meaning(tmp_path: Path):
    lines = cat.INDICATORS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    v13 = lines[13]
    renamed = v13.replace("评议活动", "评议会").replace("场次,,", "场次,2020Q1,")
    path = tmp_path / "indicators.csv"
    path.write_text("".join(lines[:13] + [v13.replace("场次,,", "场次,,2019Q4"), renamed] + lines[14:]), encoding="utf-8")
    loaded = cat.load_indicators(path)
    assert [(i.name, i.valid_from, i.valid_to) for i in loaded if i.code == "V13"] == [
        ("评议活动", None, "2019Q4"), ("评议会", "2020Q1", None)]
    path.write_text("".join(lines[:13] + [v13.replace("场次,,", "场次,,2019Q4"),
                                          renamed.replace(",flow,", ",stock,")] + lines[14:]), encoding="utf-8")
    with pytest.raises(cat.CatalogError, match=re.escape('line 15, column kind: "stock" differs from line 14')):
        cat.load_indicators(path)


def test_the_shipped_catalog_and_registry_load():
    assert len(cat.load_units(cat.UNITS_CSV)) == len(cat.units())
    assert cat.load_indicators(cat.INDICATORS_CSV) == cat.definitions() == cat.indicators()
