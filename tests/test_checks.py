"""The data checks (sql/checks) on in-memory warehouses: a valid warehouse passes every check,
whatever its shape (random ones, and the edge years FORM.md's rules make easy to get wrong); a
broken one fails the check named for what broke, and the failure names the rows."""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
from conftest import fresh_warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong.schemas import catalog as cat
from huizong.store import models

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOWNS = cat.towns()
DEPARTMENTS = cat.departments()
SUBMITTERS = cat.submitters()
VALUE_COLUMNS = ["sha256", "unit_code", "indicator_code", "value", "level", "sheet", "cell"]


@dataclass
class Version:
    """One file version in the ledger, with the values it carried (none if rejected)."""
    unit_code: str | None
    period: str | None
    status: str = "loaded"
    received_at: dt.datetime | None = None
    rows: list[tuple] = field(default_factory=list)  # (unit_code, indicator_code, value, level, sheet)


def due_by(period: str) -> dt.datetime:
    """FORM.md's deadline: the end of the 10th of the month after the quarter (Asia/Shanghai)."""
    year, quarter = int(period[:4]), int(period[-1])
    month = quarter * 3 % 12 + 1
    return dt.datetime(year + (quarter == 4), month, 10, 23, 59, tzinfo=SHANGHAI)


def figures(unit_code: str, rng: random.Random, *, levels=cat.LEVELS, drop_villages: float = 0.0,
            ) -> list[tuple]:
    """A valid file's values for `unit_code`: every indicator it reports, within the catalog's
    bounds and FORM.md's checks across cells; `drop_villages` leaves out that share of villages."""
    unit = cat.unit_by_code()[unit_code]
    rows = []
    for sheet in cat.sheets_of(unit):
        holders = cat.villages_of(unit.code) if sheet == cat.VILLAGE_SHEET else [unit]
        for holder in holders:
            if sheet == cat.VILLAGE_SHEET and rng.random() < drop_villages:
                continue
            values = {}
            for ind in cat.indicators_for(unit, sheet, "2019Q1"):
                if ind.kind == "level":
                    values[ind.code] = rng.choice(levels)
                    continue
                lo, hi = int(ind.min), int(ind.max)
                v = Decimal(rng.choice([lo, hi, rng.randint(lo, min(hi, 60)), rng.randint(lo, hi)]))
                if ind.decimals and v < hi:
                    v += Decimal(rng.randint(0, 99)) / 100
                values[ind.code] = v
            if "V01" in values:  # FORM.md's checks across cells
                values["V08"] = min(values["V08"], values["V01"])
                values["V09"] = min(values["V09"], values["V01"])
                if values["V13"] == 0:
                    values["V14"] = values["V15"] = Decimal(0)
            if "E02" in values and (values["E02"] == 0) != (values["E03"] == 0):
                values["E02"] = values["E03"] = Decimal(0)
            for code, v in values.items():
                level = isinstance(v, str)
                rows.append((holder.code, code, None if level else v, v if level else None, sheet))
    return rows


def build(versions: list[Version]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding `versions`, with every model built."""
    con = fresh_warehouse()
    imports, values = [], []
    for i, v in enumerate(versions):
        sha = hashlib.sha256(f"version {i}".encode()).hexdigest()
        received = v.received_at or (due_by(v.period) if v.period else dt.datetime(2019, 1, 1, tzinfo=SHANGHAI))
        imports.append((sha, f"{i}.xlsx", v.unit_code, v.period, v.status, received, received,
                        f"files/{sha[:2]}/{sha}.xlsx", len(v.rows), int(v.status == "rejected"), 0))
        values += [(sha, unit, code, None if value is None else str(value), level, sheet, f"D{n + 2}")
                   for n, (unit, code, value, level, sheet) in enumerate(v.rows)]
    if imports:
        con.executemany("insert into ops.imports (sha256, file_name, unit_code, period, status, received_at, "
                        "imported_at, archive_path, n_values, n_errors, n_warnings) "
                        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", imports)
    values_df = pd.DataFrame(values, columns=VALUE_COLUMNS, dtype=object)
    con.register("values_df", values_df)
    con.execute("insert into raw.submitted_values select sha256, unit_code, indicator_code, "
                "cast(value as decimal(18, 2)), level, sheet, cell from values_df")
    con.unregister("values_df")
    models.build_models(con)
    return con


def loaded(unit_code: str, period: str, rng: random.Random | None = None, **kw) -> Version:
    return Version(unit_code, period, rows=figures(unit_code, rng or random.Random(f"{unit_code}{period}"), **kw))


def assert_passes(con: duckdb.DuckDBPyConnection) -> None:
    failed = models.run_checks(con)
    assert not failed, "; ".join(map(str, failed))


def one(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()


# --- random valid warehouses --------------------------------------------------------------------

@st.composite
def warehouses(draw) -> list[Version]:
    """Random subsets of units x quarters over 1-3 years (gaps allowed), valid values within the
    catalog's bounds, levels from the five, on-time and late arrivals, older versions superseded by
    newer ones, later duplicates of the version in force, and rejected files."""
    first = draw(st.integers(2017, 2020))
    years = sorted(draw(st.sets(st.integers(first, first + 3), min_size=1, max_size=3)))
    periods = [f"{y}Q{q}" for y in years for q in range(1, 5)]
    units = draw(st.lists(st.sampled_from(SUBMITTERS), min_size=1, max_size=6, unique=True))
    keys = draw(st.lists(st.tuples(st.sampled_from(units), st.sampled_from(periods)),
                         min_size=1, max_size=16, unique=True))
    levels = draw(st.sampled_from([cat.LEVELS, ("无",), ("全国",), cat.LEVELS[1:]]))
    drop = draw(st.sampled_from([0.0, 0.0, 0.0, 0.4, 1.0]))
    # the figures themselves come from a seeded generator: thousands of values per warehouse would
    # overrun hypothesis's buffer, and the checks' edge cases lie in the shape, not in the numbers
    rng = random.Random(draw(st.integers(0, 2**32)))

    def arrival(period: str) -> dt.datetime:
        return due_by(period) + dt.timedelta(days=rng.randint(-9, 40), minutes=rng.randint(0, 59))

    versions = []
    for unit, period in keys:
        times = sorted(arrival(period) for _ in range(4))
        older, duplicates, rejected = (draw(st.integers(0, n)) for n in (2, 1, 1))
        in_force = Version(unit.code, period, "loaded", times[older],
                           figures(unit.code, rng, levels=levels, drop_villages=drop))
        versions += [Version(unit.code, period, "superseded", times[i],
                             figures(unit.code, rng, levels=levels, drop_villages=drop)) for i in range(older)]
        versions.append(in_force)
        versions += [Version(unit.code, period, "duplicate", times[older] + dt.timedelta(hours=i + 1),
                             in_force.rows) for i in range(duplicates)]
        versions += [Version(unit.code, period, "rejected", arrival(period)) for _ in range(rejected)]
    # units whose every file of a quarter was rejected, and files too broken to name unit or period
    for unit, period in draw(st.lists(st.tuples(st.sampled_from(SUBMITTERS), st.sampled_from(periods)),
                                      max_size=3, unique=True)):
        if (unit, period) not in keys:
            versions.append(Version(unit.code, period, "rejected", arrival(period)))
    if draw(st.booleans()):
        versions.append(Version(None, None, "rejected", arrival(periods[0])))
    rng.shuffle(versions)  # the ledger's order means nothing
    return versions


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(versions=warehouses())
def test_a_valid_warehouse_passes_every_check(versions):
    con = build(versions)
    assert_passes(con)
    # the warehouse held what was drawn: one version in force per (unit, period)
    keys = {(v.unit_code, v.period) for v in versions if v.status == "loaded"}
    assert one(con, "select count(distinct (unit_code, period)) from ops.imports where status = 'loaded'")[0][0] == len(keys)


# --- edge years, one by one ---------------------------------------------------------------------

def test_a_department_only_year_passes():
    """The bug found by trying the product: a department's file for a year no town has reported
    yet made assert_civilized_levels_add_up compare 0 with NULL and blocked every pass."""
    con = build([loaded(TOWNS[0].code, "2019Q4"), loaded(DEPARTMENTS[0].code, "2020Q1")])
    assert_passes(con)
    assert one(con, "select sum(units) from marts.civilized_levels where year = 2020") == [(0,)]
    assert one(con, "select count(*) from marts.county_totals where year = 2020 and value is not null") == [
        (len(cat.indicators_for(DEPARTMENTS[0], cat.COUNTY_SHEET, "2019Q1")),)]


def test_a_warehouse_of_departments_only_passes():
    con = build([loaded(d.code, "2019Q1") for d in DEPARTMENTS])
    assert_passes(con)
    assert one(con, "select count(*), sum(units) from marts.civilized_levels") == [(len(cat.LEVELS), 0)]


def test_a_town_only_year_passes():
    con = build([loaded(t.code, "2019Q2") for t in TOWNS[:3]] + [loaded(DEPARTMENTS[1].code, "2020Q1")])
    assert_passes(con)
    assert one(con, "select count(*) from marts.county_totals where year = 2019 and indicator_code = 'C01' "
                    "and value is null") == [(1,)]


def test_a_year_with_one_quarter_passes():
    con = build([loaded(u.code, "2019Q3") for u in SUBMITTERS])
    assert_passes(con)
    assert one(con, "select distinct quarters_valid, quarters_expected from marts.completeness") == [(1, 4)]


def test_a_town_without_village_data_passes():
    con = build([loaded(TOWNS[0].code, "2019Q1", drop_villages=1.0), loaded(TOWNS[1].code, "2019Q1")])
    assert_passes(con)
    assert one(con, "select towns from marts.civilized_levels where year = 2019") != []


def test_villages_missing_values_pass():
    rng = random.Random(7)
    first = loaded(TOWNS[2].code, "2019Q1", rng, drop_villages=0.5)
    second = loaded(TOWNS[2].code, "2019Q2", rng, drop_villages=0.5)  # stocks: other villages than Q1
    # values left empty in the warehouse: numbers and levels
    second.rows = [(u, c, None, None, s) if i % 7 == 0 else (u, c, v, l, s)
                   for i, (u, c, v, l, s) in enumerate(second.rows)]
    con = build([first, second, loaded(TOWNS[3].code, "2019Q2")])
    assert_passes(con)


def test_a_year_where_one_of_several_towns_reported_passes():
    versions = [loaded(t.code, f"2019Q{q}") for t in TOWNS for q in (1, 2)]
    versions += [loaded(TOWNS[5].code, "2020Q1")]
    versions += [Version(t.code, "2020Q1", "rejected") for t in TOWNS[:5]]  # came, but invalid
    con = build(versions)
    assert_passes(con)
    assert one(con, "select sum(towns) from marts.civilized_levels where year = 2020") == [(1,)]
    assert one(con, "select count(distinct unit_code) from marts.town_totals "
                    "where year = 2020 and value is not null") == [(1,)]


def test_levels_all_none_pass():
    con = build([loaded(t.code, "2019Q4", levels=("无",)) for t in TOWNS[:4]])
    assert_passes(con)
    assert one(con, "select sum(units) from marts.civilized_levels where level <> '无'") == [(0,)]
    assert one(con, "select count(*) from marts.summary_figures where indicator_code = 'V07'") == [(4,)]


def test_years_with_gaps_pass():
    con = build([loaded(TOWNS[0].code, "2017Q2"), loaded(DEPARTMENTS[2].code, "2019Q4"),
                 loaded(TOWNS[1].code, "2021Q1"), Version(TOWNS[4].code, "2018Q3", "rejected")])
    assert_passes(con)
    assert one(con, "select count(*) from marts.county_year_over_year where previous_value is not null") == [(0,)]


def test_resubmissions_pass():
    rng = random.Random(3)
    old = loaded(TOWNS[0].code, "2019Q1", rng)
    old.status = "superseded"
    new = loaded(TOWNS[0].code, "2019Q1", rng)
    new.received_at = due_by("2019Q1") + dt.timedelta(days=3)
    dup = Version(TOWNS[0].code, "2019Q1", "duplicate", new.received_at + dt.timedelta(days=1), new.rows)
    con = build([old, new, dup])
    assert_passes(con)


def test_an_empty_warehouse_passes():
    assert_passes(build([]))
    assert_passes(build([Version(None, None, "rejected")]))


# --- broken warehouses fail the named check, naming the rows ------------------------------------

def test_a_loaded_value_of_an_unknown_indicator_fails_codes_in_registry():
    town = loaded(TOWNS[0].code, "2019Q1")
    town.rows.append((TOWNS[0].code, "X99", Decimal(3), None, cat.TOWN_SHEET))
    failed = models.run_checks(build([town]))
    assert [f.name for f in failed] == ["assert_codes_in_registry"]
    (f,) = failed
    assert (f.count, f.columns, f.rows) == (1, ("unit_code", "indicator_code"), ((TOWNS[0].code, "X99"),))
    assert str(f) == f"assert_codes_in_registry: 1 row(s), e.g. unit_code={TOWNS[0].code}, indicator_code=X99"


def test_a_level_outside_the_five_fails_the_level_checks():
    town = loaded(TOWNS[0].code, "2019Q1", levels=("县级",))
    town.rows = [(u, c, v, "国家级" if c == "T19" else l, s) for u, c, v, l, s in town.rows]
    names = {f.name for f in models.run_checks(build([town]))}
    assert {"marts.level_counts: level in staging.stg_levels.level", "assert_civilized_levels_add_up"} <= names


def test_two_versions_in_force_fail_one_loaded_version():
    a, b = loaded(TOWNS[0].code, "2019Q1"), loaded(TOWNS[0].code, "2019Q1", random.Random(9))
    names = {f.name for f in models.run_checks(build([a, b]))}
    assert "assert_one_loaded_version" in names


def test_a_failure_keeps_five_rows_and_says_there_are_more():
    town = loaded(TOWNS[0].code, "2019Q1")
    town.rows += [(TOWNS[0].code, f"X{i:02}", Decimal(1), None, cat.TOWN_SHEET) for i in range(8)]
    (f,) = models.run_checks(build([town]))
    assert f.count == 8 and len(f.rows) == 5
    assert str(f).startswith("assert_codes_in_registry: 8 row(s), e.g. unit_code=") and str(f).endswith("; ...")
    with pytest.raises(Exception):
        f.count = 0  # frozen


def test_no_failure_is_falsy():
    failed = models.run_checks(build([loaded(TOWNS[0].code, "2019Q1")]))
    assert failed == [] and not failed


def test_a_valid_version_not_in_force_fails_completeness_adds_up():
    """A (unit, quarter) whose only valid version is superseded by nothing: the status table
    counts it valid, the totals have nothing of it."""
    orphan = loaded(TOWNS[1].code, "2019Q2")
    orphan.status = "superseded"
    failed = models.run_checks(build([loaded(TOWNS[0].code, "2019Q1"), orphan]))
    assert "assert_completeness_adds_up" in {f.name for f in failed}


def test_a_year_without_towns_leaves_the_towns_figures_of_the_summary_unknown():
    """Not 0 villages with reviews, nor 0 civilized villages of every level: no town reported."""
    con = build([loaded(TOWNS[0].code, "2019Q4"), loaded(DEPARTMENTS[0].code, "2020Q1")])
    rows = one(con, "select indicator_code, slot, value from marts.summary_figures "
                    "where year = 2020 and indicator_code in ('V05', 'V07', 'V13', 'T18') order by all")
    assert [r[:2] for r in rows] == [("T18", 1), ("V05", 1), ("V07", 1), ("V07", 2), ("V07", 3), ("V07", 4),
                                     ("V13", 1), ("V13", 2)]
    assert {r[2] for r in rows} == {None}
    town_year = one(con, "select count(*) from marts.summary_figures where year = 2019 and value is null "
                         "and indicator_code in ('V05', 'V07', 'V13', 'T18')")
    assert town_year == [(0,)]


def test_a_town_is_expected_only_while_it_exists():
    """A town merged away after 2019Q2 and one set up in 2019Q3 (the registry's `closed` and
    `opened`): neither is missing outside its own quarters, in the status, the completeness or
    the reminders; what the merged town sent after it closed is still shown."""
    from huizong.office.remind import read_reminders
    from huizong.office.status import read_status
    from huizong.outputs.report import read_report_data
    from huizong.store.versions import models_version

    gone, new, other = TOWNS[0], TOWNS[1], TOWNS[2]
    con = build([loaded(gone.code, "2019Q1"), Version(gone.code, "2019Q4", "rejected"),
                 loaded(new.code, "2019Q3"), loaded(other.code, "2019Q1"), loaded(other.code, "2019Q4")])
    con.execute("update raw.units set closed = '2019Q2', successor = ? where unit_code = ?", [other.code, gone.code])
    con.execute("update raw.units set opened = '2019Q3' where unit_code = ?", [new.code])
    models.build_models(con)
    assert_passes(con)
    status = {(u, p): s for u, p, s in one(con, "select unit_code, period, status from marts.submission_status")}
    assert sorted(p for u, p in status if u == gone.code) == ["2019Q1", "2019Q2", "2019Q4"]  # Q4: it sent a file
    assert status[(gone.code, "2019Q4")] == "rejected"
    assert sorted(p for u, p in status if u == new.code) == ["2019Q3", "2019Q4"]
    assert sorted(p for u, p in status if u == other.code) == ["2019Q1", "2019Q2", "2019Q3", "2019Q4"]
    completeness = {u: (valid, expected, missing) for u, valid, expected, missing in one(
        con, "select unit_code, quarters_valid, quarters_expected, quarters_missing from marts.completeness "
             "where year = 2019")}
    assert completeness[gone.code] == (1, 2, 1)
    assert completeness[new.code] == (1, 2, 1)
    assert completeness[other.code] == (2, 4, 2)
    assert completeness[TOWNS[3].code] == (0, 4, 4)
    chased = {s.unit_code for s in read_reminders(con, "2019Q3").standings}
    assert new.code in chased and other.code in chased and gone.code not in chased
    chased = {s.unit_code for s in read_reminders(con, "2019Q1").standings}
    assert gone.code in chased and new.code not in chased
    # the office's grid: every unit's every quarter, 无需报送 where it did not exist
    grid = read_status(con)
    assert grid.cells[(new.code, "2019Q1")] == ("not_open", 0) and grid.cells[(gone.code, "2019Q3")] == ("not_open", 0)
    assert grid.cells[(gone.code, "2019Q4")] == ("rejected", 1)
    # the summary's table and completeness, written after the year's last deadline (of a build a
    # pass would have recorded)
    con.execute("insert into ops.builds values (now(), ?)", [models_version()])
    data = read_report_data(con, 2019, now=dt.datetime(2020, 3, 1, tzinfo=SHANGHAI))
    table = {(name, period): status for name, period, status in data.status}
    assert [table[(gone.name, f"2019Q{q}")] for q in range(1, 5)] == ["on_time", "missing", "not_open", "not_open"]
    assert [table[(new.name, f"2019Q{q}")] for q in range(1, 5)] == ["not_open", "not_open", "on_time", "missing"]
    assert (data.quarters_valid, data.quarters_expected) == (4, len(SUBMITTERS) * 4 - 2 - 2)
    assert f"{gone.name}（1/2）" in data.units_short and f"{new.name}（1/2）" in data.units_short
