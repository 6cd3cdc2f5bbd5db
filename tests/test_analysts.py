"""The analysts' questions of the docs (docs/analysts.md, "## The everyday questions"): every
```sql query of that section runs on the generated county's warehouse, and the answers of most
of them equal what the demo generator (huizong.outputs.demo.true_value, received_time) says, added up
here by hand, not by the models under test. The new marts' relations to the yearly marts are
checked too."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import LATE_TOWN, MISSING, expected_total, query, reporters_of

from huizong.core.clock import due_by
from huizong.outputs.demo import DEMO_PERIODS, received_time, true_value
from huizong.schemas import catalog as cat

ANALYSTS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "analysts.md"


def analyst_queries() -> dict[str, str]:
    """The queries of the analysts' page ("## The everyday questions"), by their first comment
    line (the question)."""
    text = ANALYSTS_PAGE.read_text(encoding="utf-8")
    section = text.split("\n## The everyday questions\n", 1)[1].split("\n## ", 1)[0]
    queries: dict[str, str] = {}
    for block in re.findall(r"```sql\n(.*?)```", section, flags=re.S):
        for statement in re.split(r";\s*\n", block):
            statement = statement.strip().rstrip(";")
            if not statement:
                continue
            question = statement.splitlines()[0].removeprefix("--").strip()
            assert statement.startswith("--"), f"an analysts' query without its question: {statement[:60]}"
            queries[question] = statement
    return queries


QUERIES = analyst_queries()


def answer(warehouse, starts: str) -> list[tuple]:
    (sql,) = [q for question, q in QUERIES.items() if question.startswith(starts)]
    return query(warehouse, sql)


def periods_of(unit_code: str, year: int) -> list[str]:
    return [p for p in DEMO_PERIODS if p.startswith(str(year)) and (unit_code, p) not in MISSING]


def test_the_section_asks_the_nine_questions_and_more():
    assert len(QUERIES) >= 13
    for starts in ("Which towns sent their files late", "Where does the county's 2019 figure",
                   "Which warnings", "What share of each town's villages", "Which villages held no",
                   "How did each town's moral lectures", "Why is a 2019 summary figure",
                   "Which villages were civilized", "The county's quarterly totals"):
        assert any(q.startswith(starts) for q in QUERIES), starts


@pytest.mark.parametrize("question", list(QUERIES))
def test_every_analysts_query_runs(county, question):
    _, warehouse, _ = county
    query(warehouse, QUERIES[question])  # no error; the answers are checked below


def test_late_towns_as_the_generator_sent_them(county):
    _, warehouse, _ = county
    expected = {}
    for town in cat.towns():
        late = sum(received_time(town.code, p) > due_by(p).timestamp() for p in periods_of(town.code, 2019))
        if late:
            expected[town.code] = late
    rows = answer(warehouse, "Which towns sent their files late")
    assert {r[0]: r[2] for r in rows} == expected
    assert {r[0]: r[4] for r in rows}.get(LATE_TOWN.code, 1) == 1  # its 2019Q4 never came


def test_tracing_a_figure_gives_every_village_quarter_and_its_cell(county):
    _, warehouse, _ = county
    rows = answer(warehouse, "Where does the county's 2019 figure")
    expected = {(v.code, p): true_value(v.code, p, "V03")
                for town in cat.towns() for p in periods_of(town.code, 2019) for v in cat.villages_of(town.code)}
    assert {(r[0], r[2]): float(r[6]) for r in rows} == expected
    assert sum(float(r[6]) for r in rows) == pytest.approx(expected_total(2019, "V03", reporters_of("V03")))
    names = {u.code: u.name for u in cat.units()}
    for _, town_code, period, file_name, sheet, cell, _ in rows:
        assert sheet == cat.VILLAGE_SHEET and re.fullmatch(r"[A-Z]+[0-9]+", cell)
        assert file_name == f"{names[town_code]}_{period}.xlsx"


def test_share_of_villages_meeting_ten_ones_per_town(county):
    _, warehouse, _ = county
    expected = {}
    for town in cat.towns():
        last = periods_of(town.code, 2019)[-1]
        villages = cat.villages_of(town.code)
        meeting = sum(true_value(v.code, last, "V05") == 1 for v in villages)
        expected[town.code] = (meeting, len(villages), 100 * meeting // len(villages))
    rows = answer(warehouse, "What share of each town's villages")
    assert {r[0]: (r[2], r[3], int(r[4])) for r in rows} == expected


def test_villages_without_moral_lectures(county):
    _, warehouse, _ = county
    expected = {v.code for town in cat.towns() for v in cat.villages_of(town.code)
                if sum(true_value(v.code, p, "V03") for p in periods_of(town.code, 2019)) == 0}
    assert {r[1] for r in answer(warehouse, "Which villages held no")} == expected


def test_quarter_on_quarter_change_per_town(county):
    _, warehouse, _ = county
    rows = answer(warehouse, "How did each town's moral lectures")
    got = {(r[0], r[2]): (r[3], r[4]) for r in rows}
    for town in cat.towns():
        previous = None
        for p in [p for p in DEMO_PERIODS if (town.code, p) not in MISSING]:
            lectures = sum(true_value(v.code, p, "V03") for v in cat.villages_of(town.code))
            value, change = got[(town.code, p)]
            assert float(value) == lectures
            assert (change is None) if previous is None else float(change) == lectures - previous
            previous = lectures
    assert len(got) == len(cat.towns()) * len(DEMO_PERIODS) - len(MISSING)


def test_why_a_figure_is_incomplete(county):
    _, warehouse, _ = county
    rows = answer(warehouse, "Why is a 2019 summary figure")
    assert [(r[3], r[5], r[6]) for r in rows] == [(LATE_TOWN.code, "2019Q4", "missing")]
    assert (rows[0][1], rows[0][2]) == (len(cat.towns()) * 4 - 1, len(cat.towns()) * 4)


def test_civilized_villages_by_level_and_name(county):
    _, warehouse, _ = county
    expected = set()
    for town in cat.towns():
        last = periods_of(town.code, 2019)[-1]
        for v in cat.villages_of(town.code):
            level = true_value(v.code, last, "V07")
            if level != "无":
                expected.add((level, town.name, v.code, v.name))
    rows = answer(warehouse, "Which villages were civilized")
    assert set(rows) == expected and len(rows) == len(expected)
    ranks = [cat.LEVELS.index(r[0]) for r in rows]
    assert ranks == sorted(ranks, reverse=True)


def test_quarterly_county_totals(county):
    _, warehouse, _ = county
    rows = answer(warehouse, "The county's quarterly totals")
    expected = {}
    for p in DEMO_PERIODS:
        towns = [t for t in cat.towns() if (t.code, p) not in MISSING]
        expected[p] = (sum(true_value(v.code, p, "V03") for t in towns for v in cat.villages_of(t.code)),
                       len(towns), len(cat.towns()))
    assert {r[0]: (float(r[1]), r[2], r[3]) for r in rows} == expected


def test_warnings_listed_are_the_ledgers(county):
    _, warehouse, summary = county
    rows = answer(warehouse, "Which warnings")
    warned = sum(f["n_warnings"] for f in summary.files)
    assert len(rows) == warned
    # the pass's grouped summary counts the same warnings, by rule and by unit alike
    for grouping in ("rule", "unit"):
        assert sum(g["warnings"] for g in summary.problems if g["grouping"] == grouping) == warned


# --- the new marts against the yearly ones and the generator -------------------------------------

def test_every_county_total_is_the_sum_of_its_lineage(county):
    _, warehouse, _ = county
    bad = query(warehouse, """
        select t.year, t.indicator_code, t.value, l.value
        from marts.county_totals t
        left join (select year, indicator_code, sum(value) as value from marts.figure_lineage
                   where slot = 1 group by all) l using (year, indicator_code)
        where t.value is distinct from coalesce(l.value, case when t.value is not null then 0 end)""")
    assert bad == []


def test_lineage_of_counted_figures_counts_what_the_summary_counts(county):
    _, warehouse, _ = county
    bad = query(warehouse, """
        select f.year, f.indicator_code, f.slot, f.value, l.n
        from marts.summary_figures f
        left join (select year, indicator_code, slot, count(distinct unit_code) as n
                   from marts.figure_lineage group by all) l using (year, indicator_code, slot)
        where f.indicator_code in ('V13', 'T18', 'V07') and f.slot <= (case f.indicator_code when 'V07' then 4 else 1 end)
          and f.value is distinct from coalesce(l.n, 0)""")
    assert bad == []


def test_village_year_values_follow_the_year_rule(county):
    _, warehouse, _ = county
    rows = query(warehouse, "select village_code, indicator_code, value from marts.village_year_values "
                            "where year = 2019 and indicator_code in ('V01', 'V03', 'V05')")
    kinds = cat.indicator_by_code()
    town_of = {v.code: t.code for t in cat.towns() for v in cat.villages_of(t.code)}
    assert len(rows) == 3 * len(town_of)
    for village, code, value in rows:
        quarters = periods_of(town_of[village], 2019)
        if kinds[code].kind == "flow":
            expected = sum(true_value(village, p, code) for p in quarters)
        else:
            expected = true_value(village, quarters[-1], code)
        assert float(value) == expected, (village, code)


def test_civilized_units_add_up_to_civilized_levels(county):
    _, warehouse, _ = county
    bad = query(warehouse, """
        select l.year, l.level from marts.civilized_levels l
        left join (select year, level, count(*) filter (where unit_type = 'village') as villages,
                          count(*) filter (where unit_type = 'town') as towns
                   from marts.civilized_units group by all) u using (year, level)
        where l.level <> '无' and (l.villages <> coalesce(u.villages, 0) or l.towns <> coalesce(u.towns, 0))""")
    assert bad == []


def test_unit_quarter_values_point_at_the_cell_holding_the_value(county):
    inbox, warehouse, _ = county
    from openpyxl import load_workbook

    rows = query(warehouse, "select file_name, sheet, cell, unit_code, period, indicator_code, value, level "
                            "from marts.unit_quarter_values using sample 40 rows (reservoir, 7)")
    for file_name, sheet, cell, unit, period, code, value, level in rows:
        expected = true_value(unit, period, code)
        assert (level if isinstance(expected, str) else float(value)) == expected
        ws = load_workbook(inbox / file_name, read_only=True)[sheet]
        assert ws[cell].value is not None or expected in (0, "无")
