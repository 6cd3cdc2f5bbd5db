"""The form and the map change from year to year (issue 26): `huizong demo --changing-form` writes
2019 and 2020 under a catalog and registry changed for 2020 (two indicators added, V15 retired, V03
re-bounded, T17 renamed, the first town's third village merged into its second), and a real
`huizong run` with that catalog loads every file, each checked against its own quarter's form.

The expected figures are the generator's (`true_value`), added up here by the form's rules in a
second Python that reads the changed catalog (the catalog is read once, when huizong starts), with
the merged village left out of 2020 by hand. The catalog's own checks of periods are in
tests/test_rules.py's manner: one sentence naming the line.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import query
from openpyxl import load_workbook

from huizong.schemas import catalog as cat

ROOT = Path(__file__).resolve().parents[1]
TOWN = cat.towns()[0]
GONE, INTO = cat.villages_of(TOWN.code)[2], cat.villages_of(TOWN.code)[1]
CODES = ("V01", "V03", "V15", "V16", "T17", "T20")

EXPECTED = r"""
import json
from huizong.outputs.demo import true_value
from huizong.schemas import catalog as cat
town, gone = cat.towns()[0], cat.villages_of(cat.towns()[0].code)[2]
on_form = {("V15", 2020), ("V16", 2019), ("T20", 2019)}  # by hand: the changes of the demo, off the form
out = {}
for year in (2019, 2020):
    for code in %r:
        if (code, year) in on_form:
            out[f"{year}:{code}"] = None
            continue
        ind = cat.indicator_by_code()[code]
        holders = ([v for v in cat.villages_of(town.code) if not (year == 2020 and v.code == gone.code)]
                   if ind.sheet == cat.VILLAGE_SHEET else [town])
        quarters = range(1, 5) if ind.kind == "flow" else (4,)  # the year rule: flows summed, stocks Q4
        out[f"{year}:{code}"] = sum(true_value(h.code, f"{year}Q{q}", code) for h in holders for q in quarters)
county = {}
for year in (2019, 2020):
    county[year] = sum(true_value(v.code, f"{year}Q{q}", "V03") for t in cat.towns()
                       for v in cat.villages_of(t.code) if not (year == 2020 and v.code == gone.code)
                       for q in range(1, 5))
out["county_V03"] = county
# every numeric indicator on 2020's form, for the whole county: its reporters' figures by the year rule
totals = {}
for ind in cat.indicators():
    if ind.kind == "level" or not cat.indicator_on(ind.code, "2020Q4"):
        continue
    if ind.sheet == cat.VILLAGE_SHEET:
        holders = [v for t in cat.towns() for v in cat.villages_of(t.code) if v.code != gone.code]
    elif ind.sheet == cat.TOWN_SHEET:
        holders = cat.towns()
    else:
        holders = [cat.unit_by_code()[ind.reported_by]]
    quarters = range(1, 5) if ind.kind == "flow" else (4,)
    totals[ind.code] = sum(true_value(h.code, f"2020Q{q}", ind.code) for h in holders for q in quarters)
out["county_2020"] = totals
print(json.dumps(out))
""" % (CODES,)


def huizong(*args: str, catalog: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    env.pop("HUIZONG_CATALOG", None)
    if catalog is not None:
        env["HUIZONG_CATALOG"] = str(catalog)
    done = subprocess.run([sys.executable, "-m", "huizong.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert not check or done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def settle(inbox: Path) -> None:
    settled = time.time() - 3600
    for p in inbox.iterdir():
        os.utime(p, (settled, settled))


@pytest.fixture(scope="module")
def changed(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("changing")
    huizong("demo", "--changing-form", "--out", str(root))
    catalog, inbox, warehouse = root / "catalog", root / "inbox", root / "warehouse"
    settle(inbox)
    huizong("run", "--inbox", str(inbox), "--warehouse", str(warehouse), catalog=catalog)
    env = {**os.environ, "HUIZONG_CATALOG": str(catalog)}
    expected = json.loads(subprocess.run([sys.executable, "-c", EXPECTED], env=env, capture_output=True,
                                         text=True, check=True, timeout=300).stdout)
    return root, catalog, inbox, warehouse, expected


def test_every_file_loads_against_its_own_quarters_form(changed):
    _, _, inbox, warehouse, _ = changed
    assert len(list(inbox.glob("*.xlsx"))) == len(cat.submitters()) * 8
    assert query(warehouse, "select status, count(*) from ops.imports group by all") == [("loaded", 104)]
    # 2019's files hold V15 and no V16; 2020's the other way round: each read as its form says
    held = query(warehouse, "select left(period, 4), indicator_code, count(*) from marts.unit_quarter_values "
                            "where indicator_code in ('V15', 'V16') group by all order by all")
    assert [(y, c) for y, c, _ in held] == [("2019", "V15"), ("2020", "V16")]


def test_the_towns_totals_are_the_generators_by_each_years_form(changed):
    _, _, _, warehouse, expected = changed
    for year in (2019, 2020):
        for code in CODES:
            got = query(warehouse, "select value from marts.town_totals where year = ? and unit_code = ? "
                                   "and indicator_code = ?", [year, TOWN.code, code])
            want = expected[f"{year}:{code}"]
            assert got == ([] if want is None else [(pytest.approx(want),)]), (year, code)


def test_a_retired_indicator_keeps_its_years_and_a_new_one_is_not_compared(changed):
    _, _, _, warehouse, expected = changed
    yoy = {(y, c): (v, p, comparable) for y, c, v, p, comparable in query(
        warehouse, "select year, indicator_code, value, previous_value, comparable from marts.county_year_over_year")}
    assert (2020, "V15") not in yoy and (2019, "V15") in yoy  # retired: its 2019 stays queryable
    assert yoy[(2020, "V16")][1:] == (None, False)  # new in 2020: nothing to compare with
    value, previous, comparable = yoy[(2020, "V03")]  # re-bounded: the same meaning, compared
    assert comparable and (value, previous) == (pytest.approx(expected["county_V03"]["2020"]),
                                                 pytest.approx(expected["county_V03"]["2019"]))
    assert yoy[(2020, "T17")][2] is True  # renamed: compared
    name = query(warehouse, "select indicator_name from marts.town_totals join staging.stg_indicators "
                            "using (indicator_code) where indicator_code = 'T17' limit 1")
    assert name == [("群众性文化体育活动",)]  # its name now


def test_every_county_figure_of_the_changed_year_is_the_generators(changed):
    """2020: the new indicators, the re-bounded and renamed ones, without the merged village and V15."""
    _, _, _, warehouse, expected = changed
    got = dict(query(warehouse, "select indicator_code, value from marts.county_totals where year = 2020"))
    want = expected["county_2020"]
    assert set(got) == set(want) and "V15" not in got and {"V16", "T20"} <= set(got)
    for code, value in want.items():
        assert float(got[code]) == pytest.approx(value), code


def test_a_merged_villages_history_reads_under_its_successor_without_double_counting(changed):
    _, _, _, warehouse, expected = changed
    rows = query(warehouse, "select year, village_code from marts.village_year_values where lineage_code = ? "
                            "and indicator_code = 'V01' order by all", [INTO.code])
    assert rows == sorted([(2019, GONE.code), (2019, INTO.code), (2020, INTO.code)])
    for year in (2019, 2020):
        villages = query(warehouse, "select sum(value) from marts.village_year_values where year = ? and "
                                    "town_code = ? and indicator_code = 'V01'", [year, TOWN.code])
        assert villages == [(pytest.approx(expected[f"{year}:V01"]),)]


def test_the_summary_says_what_the_years_form_did_not_hold(changed):
    root, catalog, _, warehouse, _ = changed
    huizong("report", "--warehouse", str(warehouse), "--year", "2020", "--out", str(root / "s2020.md"),
            catalog=catalog)
    text = (root / "s2020.md").read_text(encoding="utf-8")
    assert "（本年度未列入报表）人通过“黑榜”受到了教育" in text and "增长" not in text
    assert "| V15 | 黑榜 | （本年度未列入报表） |  | — |" in text  # the figures' table: nothing expected


def test_a_file_listing_the_merged_village_is_told_so(changed, tmp_path):
    _, catalog, _, warehouse, _ = changed
    write = ("import sys; from pathlib import Path; from huizong.outputs.demo import write_unit_workbook\n"
             "from huizong.schemas import catalog as cat\n"
             "town = cat.towns()[0]\n"
             "write_unit_workbook(Path(sys.argv[1]), town, '2020Q2', villages=[(v.code, v.name) for v in "
             "cat.villages_of(town.code)])\n")
    path = tmp_path / "with_the_merged_village.xlsx"
    subprocess.run([sys.executable, "-c", write, str(path)], env={**os.environ, "HUIZONG_CATALOG": str(catalog)},
                   check=True, timeout=300)
    done = huizong("check", "--warehouse", str(warehouse), str(path), catalog=catalog, check=False)
    assert done.returncode == 2  # rejected (CONTRACT.md)
    assert f"“{GONE.code}”{GONE.name}已于 2019Q4 后并入{INTO.name}" in " ".join(done.stdout.split())


def test_a_forced_rerun_under_a_changed_catalog_changes_no_figure_of_an_old_year(changed, tmp_path):
    """2019 loaded under the shipped catalog, then checked again under the changed one."""
    _, catalog, inbox, _, _ = changed
    old, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    old.mkdir()
    for p in inbox.glob("*_2019Q*.xlsx"):
        shutil.copy2(p, old / p.name)
    huizong("run", "--inbox", str(old), "--warehouse", str(warehouse))
    figures = "select unit_code, period, indicator_code, value, level from marts.unit_quarter_values order by all"
    before, rules_before = query(warehouse, figures), query(warehouse, "select distinct rules_version from ops.imports")
    huizong("rerun", "--force", "--year", "2019", "--inbox", str(old), "--warehouse", str(warehouse), catalog=catalog)
    assert query(warehouse, "select status, count(*) from ops.imports group by all") == [("loaded", 52)]
    assert query(warehouse, "select distinct rules_version from ops.imports") != rules_before  # read again
    assert query(warehouse, figures) == before


def test_the_quick_start_loads_after_an_indicator_is_added_for_a_later_year(tmp_path):
    """One line of the catalog for next year: the demo inbox, of 2018 and 2019, loads as before."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(cat.CATALOG_DIR / "units.csv", catalog / "units.csv")
    lines = (cat.CATALOG_DIR / "indicators.csv").read_text(encoding="utf-8")
    (catalog / "indicators.csv").write_text(lines + "V17,移风易俗红白理事会,是否,村级指标,town,flag,0,1,0,,2027Q1,\n",
                                            encoding="utf-8")
    inbox = tmp_path / "inbox"
    shutil.copytree(ROOT / "inbox", inbox)
    settle(inbox)
    huizong("run", "--inbox", str(inbox), "--warehouse", str(tmp_path / "warehouse"), catalog=catalog, check=False)
    statuses = dict(query(tmp_path / "warehouse", "select status, count(*) from ops.imports group by all"))
    # 104 quarters' files, one superseded by the correct correction, and the two clerks' mistakes
    assert statuses == {"loaded": 104, "superseded": 1, "rejected": 2}


@pytest.mark.parametrize("with_v01, errors", [(None, []), (100, ["cross:V08:le:V01"])])
def test_a_rule_across_cells_applies_only_where_both_are_on_the_form(with_v01, errors):
    """V08 (families) may not exceed V01 (households): a form without V01 cannot break the rule."""
    from huizong.intake.submission import Submission
    from huizong.intake.validation import validate_batch

    village = cat.villages_of(TOWN.code)[0]
    sub = Submission("x.xlsx", "0" * 64, unit_code=TOWN.code, period="2019Q1",
                     values=[("村级指标", "J2", village.code, "V08", 500)])
    if with_v01 is not None:
        sub.values.append(("村级指标", "C2", village.code, "V01", with_v01))
    (outcome,), _ = validate_batch([sub])
    assert [p.check for p in outcome.problems if p.check.startswith("cross:")] == errors


def test_a_template_is_its_quarters_form(changed, tmp_path):
    _, catalog, _, _, _ = changed
    for period, has_v16, has_gone in (("2019Q4", False, True), ("2020Q1", True, False)):
        out = tmp_path / f"{period}.xlsx"
        huizong("template", "--unit", TOWN.code, "--period", period, "--out", str(out), catalog=catalog)
        sheet = load_workbook(out)[cat.VILLAGE_SHEET]
        headers = [c.value for c in sheet[1]]
        codes = [row[0].value for row in sheet.iter_rows(min_row=2)]
        assert ("志愿服务时长（小时）" in headers, GONE.code in codes) == (has_v16, has_gone), period
