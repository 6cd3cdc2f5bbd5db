-- The rules of the form that many statements use, once: period arithmetic and the deadline
-- (FORM.md). Created in the warehouse file (schema main) by every build before its models
-- (huizong.ledger.prepare, models.create_models), so the published warehouse carries them: an
-- analyst's read-only connection and sql/commands/*.sql call them as period_year(period) and so
-- on. No SQL file outside this one spells the arithmetic (tests/test_macros.py). huizong/clock.py
-- is the Python side (the clock of "today"); tests/test_macros.py holds the two to the same
-- values. Idempotent.

-- '2019Q3' -> 2019; null for null (or for text that is not a period)
create or replace macro period_year(period) as try_cast(left(period, 4) as integer);

-- '2019Q3' -> 3
create or replace macro period_quarter(period) as try_cast(right(period, 1) as integer);

-- (2019, 1) -> 2019 * 4 + 0: consecutive quarters are consecutive integers (clock.quarter_index)
create or replace macro quarter_index(year, quarter) as year * 4 + quarter - 1;

-- '2019Q1' -> 8076
create or replace macro period_index(period) as quarter_index(period_year(period), period_quarter(period));

-- 8076 -> 2019, 1, '2019Q1' (clock.period_of)
create or replace macro index_year(q) as q // 4;
create or replace macro index_quarter(q) as q % 4 + 1;
create or replace macro index_period(q) as concat(index_year(q), 'Q', index_quarter(q));

-- a unit of the registry exists in the quarter: from `opened` to `closed`, both quarters and
-- either null (or empty) for always (raw.units, whose columns may be typed from nulls alone;
-- catalog.Unit.exists_in)
create or replace macro unit_open_in(period, opened, closed) as
    coalesce(period_index(period) >= period_index(nullif(cast(opened as varchar), '')), true)
    and coalesce(period_index(period) <= period_index(nullif(cast(closed as varchar), '')), true);

-- FORM.md's year rule: a quarter's value counts toward its year when the indicator is a flow
-- (summed over the year's quarters) or when it is of the latest quarter of the year in which
-- the submitter has a valid submission (stocks, flags and levels: that quarter's value). Every
-- model that makes a year's value from quarters filters by it.
create or replace macro counts_for_year(kind, quarter, latest_quarter) as kind = 'flow' or quarter = latest_quarter;

-- FORM.md's deadline: the end of the 10th day of the month after the quarter, in Asia/Shanghai
-- (2019Q1 is due by 2019-04-11 00:00+08; 2019Q4 by 2020-01-11 00:00+08), as a timestamptz
-- (clock.due_by)
create or replace macro period_due_by(period) as timezone('Asia/Shanghai', cast(
    make_date(period_year(period) + (period_quarter(period) = 4)::int, (period_quarter(period) * 3) % 12 + 1, 10)
        + interval 1 day as timestamp));
