"""Each rule of the form once: period arithmetic and the deadline as DuckDB macros
(sql/setup/macros.sql), the same as huizong/core/clock.py's; the spike factor and the county's name
in one place each."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import fresh_warehouse

from huizong.core import clock
from huizong.schemas import catalog as cat
from huizong.schemas import rules
from huizong.store import ledger
from huizong.store import warehouse as wh

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    wh.define_macros(con)
    yield con
    con.close()


@pytest.mark.parametrize("period, year, quarter, index", [
    ("2019Q1", 2019, 1, 8076), ("2019Q4", 2019, 4, 8079), ("2020Q1", 2020, 1, 8080), ("2018Q3", 2018, 3, 8074),
])
def test_period_macros_by_hand(con, period, year, quarter, index):
    got = con.execute("select period_year($p), period_quarter($p), period_index($p), quarter_index($y, $q), "
                      "index_period($i), index_year($i), index_quarter($i)",
                      {"p": period, "y": year, "q": quarter, "i": index}).fetchone()
    assert got == (year, quarter, index, index, period, year, quarter)


@pytest.mark.parametrize("period, due", [
    ("2019Q1", dt.datetime(2019, 4, 11, tzinfo=SHANGHAI)),   # the end of 10 April
    ("2019Q2", dt.datetime(2019, 7, 11, tzinfo=SHANGHAI)),
    ("2019Q3", dt.datetime(2019, 10, 11, tzinfo=SHANGHAI)),
    ("2019Q4", dt.datetime(2020, 1, 11, tzinfo=SHANGHAI)),   # next year's January
])
def test_deadline_macro_by_hand(con, period, due):
    assert con.execute("select period_due_by(?)", [period]).fetchone()[0] == due
    assert clock.due_by(period) == due


def test_the_deadline_is_the_same_in_python_and_sql(con):
    periods = [f"{y}Q{q}" for y in range(1990, 2101) for q in range(1, 5)]
    sql = dict(con.execute("select p, period_due_by(p) from unnest(?) as t(p)", [periods]).fetchall())
    assert {p: clock.due_by(p) for p in periods} == sql
    indices = dict(con.execute("select p, period_index(p) from unnest(?) as t(p)", [periods]).fetchall())
    assert indices == {p: clock.quarter_index(p) for p in periods}
    assert all(clock.period_of(i) == p for p, i in indices.items())


def test_null_and_malformed_periods_give_null(con):
    assert con.execute("select period_year(null), period_index(null), period_year('abcd')").fetchone() == (
        None, None, None)


def test_the_published_warehouse_carries_the_macros_read_only(tmp_path: Path):
    """An analyst opening the published file read-only calls them, without setting anything up."""
    (tmp_path / "wh").mkdir()
    path = wh.published_path(tmp_path / "wh")
    con = duckdb.connect(str(path))
    ledger.prepare(con)
    con.close()
    ro = duckdb.connect(str(path), read_only=True)
    try:
        assert ro.execute("select period_year('2019Q2'), index_period(8077)").fetchone() == (2019, "2019Q2")
    finally:
        ro.close()


def test_an_older_warehouse_read_only_gains_them_for_the_connection(tmp_path: Path):
    (tmp_path / "wh").mkdir()
    duckdb.connect(str(wh.published_path(tmp_path / "wh"))).close()  # a warehouse without macros
    ro = wh.connect_read_only(tmp_path / "wh")
    try:
        assert ro.execute("select period_quarter('2019Q2')").fetchone() == (2,)
    finally:
        ro.close()


def test_a_warehouse_older_than_one_macro_gains_it_read_only(tmp_path: Path):
    (tmp_path / "wh").mkdir()
    con = duckdb.connect(str(wh.published_path(tmp_path / "wh")))
    wh.define_macros(con)
    con.execute("drop macro counts_for_year")  # as a warehouse built before the year rule's macro
    con.close()
    ro = wh.connect_read_only(tmp_path / "wh")
    try:
        assert ro.execute("select counts_for_year('stock', 2, 3), period_quarter('2019Q2')").fetchone() == (False, 2)
    finally:
        ro.close()


SQL_DIR = Path(wh.SQL_DIR)
SPELLED = re.compile(r"left\(\s*[\w.]*period|right\(\s*[\w.]*period|\*\s*4\s*\+|//\s*4|%\s*4\b", re.I)


def test_no_sql_file_but_macros_spells_the_period_arithmetic():
    spelled = {str(p.relative_to(SQL_DIR)): m.group(0)
               for p in SQL_DIR.rglob("*.sql") if p.name != "macros.sql"
               for m in [SPELLED.search(p.read_text(encoding="utf-8"))] if m}
    assert spelled == {}
    assert SPELLED.search((SQL_DIR / "setup" / "macros.sql").read_text(encoding="utf-8"))  # the pattern bites


def test_the_deadline_is_spelled_in_macros_only():
    others = [p for p in SQL_DIR.rglob("*.sql") if p.name != "macros.sql"
              and re.search(r"make_date|\(\s*quarter\s*\*\s*3\s*\)", p.read_text(encoding="utf-8"))]
    assert others == []


def test_the_year_rule_is_a_macro_and_spelled_there_only():
    """FORM.md's year rule by hand: a flow counts every quarter, anything else its latest valid."""
    con = duckdb.connect()
    wh.define_macros(con)
    rows = con.execute("select kind, quarter, counts_for_year(kind, quarter, 3) from (values "
                       "('flow', 1), ('flow', 3), ('stock', 2), ('stock', 3), ('flag', 1), ('level', 3)) "
                       "as t(kind, quarter) order by all").fetchall()
    assert rows == [("flag", 1, False), ("flow", 1, True), ("flow", 3, True), ("level", 3, True),
                    ("stock", 2, False), ("stock", 3, True)]
    spelled = [p.name for p in SQL_DIR.rglob("*.sql") if p.name != "macros.sql"
               and re.search(r"kind\s*=\s*'flow'\s+or", p.read_text(encoding="utf-8"))]
    assert spelled == []


def test_the_spike_factor_is_the_rule_tables(tmp_path: Path):
    """warnings.sql reads the factor from raw.rules; the wording and the form's notes say it."""
    code = re.sub(r"--.*", "", (SQL_DIR / "setup" / "warnings.sql").read_text(encoding="utf-8"))
    assert not re.search(r"\b5\b", code)
    spike = next(r for r in rules.RULES if r.id == "flow_spike")
    assert spike.threshold == rules.SPIKE_FACTOR == 5
    assert "的 5 倍" in spike.messages[""]
    con = fresh_warehouse()
    assert con.execute("select threshold from raw.rules where rule_id = 'flow_spike'").fetchone() == (5,)


def _registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_county_name_comes_from_the_registry(tmp_path: Path):
    assert cat.county().name == "云岭县"
    assert cat.office_name() == "云岭县精神文明建设办公室"
    from huizong.outputs import word
    assert word.OFFICE == cat.office_name()


@pytest.mark.parametrize("rows, words", [
    ("990101100,城关镇,town,990101,\n", "no line"),
    ("990101,云岭县,county,,\n990102,云山县,county,,\n", "lines 2, 3"),
])
def test_a_registry_needs_exactly_one_county(tmp_path: Path, rows, words):
    path = _registry(tmp_path, "unit_code,unit_name,unit_type,parent_code,village_type\n" + rows)
    with pytest.raises(cat.CatalogError, match=f"exactly one county row \\({words}"):
        cat.load_units(path)


def test_year_status_is_decided_in_sql_at_the_moment_given(con):
    """sql/report/year_status.sql: a valid quarter keeps the mart's status; another is not_due
    until its deadline passes at `now`, then rejected (a version was rejected) or missing; a quarter
    after the unit was merged away is not_open."""
    from huizong.outputs import report

    con.execute("create schema if not exists marts; create schema if not exists staging")
    con.execute("create or replace table marts.submission_status as select * from (values "
                "('A', '2019Q1', 2019, 'late', 0), ('A', '2019Q2', 2019, 'missing', 2), "
                "('A', '2019Q3', 2019, 'not_due', 1), ('B', '2019Q1', 2019, 'on_time', 0), "
                "('D', '2019Q1', 2019, 'on_time', 0)) "
                "as t(unit_code, period, year, status, rejected_versions)")
    # C: a unit of the registry with no row; D: merged away after 2019Q2
    con.execute("create or replace table staging.stg_units as select * from (values "
                "('C', 'town', null, null), ('D', 'town', null, '2019Q2')) as t(unit_code, unit_type, opened, closed)")
    at = dt.datetime(2019, 10, 11, 0, 0, 1, tzinfo=SHANGHAI)  # a second after 2019Q3's deadline
    assert report.year_status(con, 2019, at) == {
        ("A", "2019Q1"): "late", ("A", "2019Q2"): "rejected", ("A", "2019Q3"): "rejected",
        ("A", "2019Q4"): "not_due", ("B", "2019Q1"): "on_time", ("B", "2019Q2"): "missing",
        ("B", "2019Q3"): "missing", ("B", "2019Q4"): "not_due", ("D", "2019Q1"): "on_time",
        ("D", "2019Q2"): "missing", ("D", "2019Q3"): "not_open", ("D", "2019Q4"): "not_open"}
    before = report.year_status(con, 2019, at - dt.timedelta(seconds=2))
    assert (before[("A", "2019Q3")], before[("B", "2019Q3")]) == ("not_due", "not_due")
    assert set(report.year_status(con, 2020, at)) == {("C", f"2020Q{q}") for q in range(1, 5)}  # no row: every submitter


@pytest.mark.parametrize("period, opened, closed, exists", [
    ("2019Q3", None, None, True), ("2019Q3", "", "", True), ("2019Q3", "2019Q3", None, True),
    ("2019Q2", "2019Q3", None, False), ("2019Q4", None, "2019Q4", True), ("2020Q1", None, "2019Q4", False),
    ("2018Q1", "2018Q2", "2019Q4", False), ("2019Q1", "2018Q2", "2019Q4", True)])
def test_a_unit_exists_from_its_opening_to_its_closing_quarter(con, period, opened, closed, exists):
    from huizong.schemas.catalog import Unit

    assert con.execute("select unit_open_in($1, $2, $3)", [period, opened, closed]).fetchone()[0] is exists
    unit = Unit("990101199", "某镇", "town", "990101", "", opened=opened or None, closed=closed or None)
    assert unit.exists_in(period) is exists
