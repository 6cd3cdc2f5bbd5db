-- grain: one row per (submitting unit, quarter) from the earliest to the latest quarter in the
-- ledger, while the unit exists (or sent something); key: (unit_code, period). FORM.md's timeliness: a quarter is due on the 10th of the
-- month after it ends, by the end of that day in Asia/Shanghai (period_due_by, sql/setup/macros.sql); it is on time when its first
-- valid version arrived by then. status: on_time | late | rejected (only invalid versions came)
-- | missing (nothing came, or only versions held `locked`) | not_due (no valid version yet, and
-- the deadline had not passed at as_of: 未到报送期, not 未报). deadline_passed says whether due_by had passed at as_of, the moment
-- the mart was built for: the DuckDB variable huizong_today (a date, set by whoever builds with
-- `set variable huizong_today = date '2020-08-01'`), else the last moment a pass saw a file
-- (ops.imports.first_seen_at, written from huizong.clock). A mart is a snapshot of its build:
-- the report decides not_due again from huizong.clock at the time it is written.
with

imports as (select * from staging.stg_imports where period is not null),
units as (select * from staging.stg_units where unit_type in ('town', 'department')),

quarter_range as (
    select min(quarter_index(year, quarter)) as first_q, max(quarter_index(year, quarter)) as last_q from imports
),

quarters as (
    select index_year(q) as year, index_quarter(q) as quarter, index_period(q) as period
    from quarter_range, range(first_q, last_q + 1) as r(q)
),

deadlines as (select *, period_due_by(period) as due_by from quarters),

as_of as (
    select coalesce(
        timezone('Asia/Shanghai', cast(try_cast(getvariable('huizong_today') as date) as timestamp)),
        (select max(first_seen_at) from ops.imports),
        now()) as as_of
),

per_unit_quarter as (
    select unit_code, period,
        -- a `locked` version (its year signed off) is held, not in force: not yet valid here
        min(received_at) filter (where status not in ('rejected', 'locked')) as first_valid_received_at,
        any_value(sha256) filter (where status = 'loaded') as loaded_sha256,
        count(*) as versions,
        count(*) filter (where status = 'rejected') as rejected_versions
    from imports
    group by all
)

select
    units.unit_code,
    units.unit_name,
    deadlines.period,
    deadlines.year,
    deadlines.quarter,
    deadlines.due_by,
    per_unit_quarter.first_valid_received_at,
    case
        when per_unit_quarter.first_valid_received_at <= deadlines.due_by then 'on_time'
        when per_unit_quarter.first_valid_received_at is not null then 'late'
        when deadlines.due_by > as_of.as_of then 'not_due'
        when per_unit_quarter.rejected_versions > 0 then 'rejected'
        else 'missing'
    end as status,
    as_of.as_of,
    deadlines.due_by <= as_of.as_of as deadline_passed,
    coalesce(per_unit_quarter.versions, 0) as versions,
    coalesce(per_unit_quarter.rejected_versions, 0) as rejected_versions,
    per_unit_quarter.loaded_sha256
from units
cross join deadlines
cross join as_of
left join per_unit_quarter using (unit_code, period)
-- a unit is expected only while it exists (opened, closed: a town merged away is not chased);
-- what it sent outside that is shown all the same
where unit_open_in(deadlines.period, units.opened, units.closed) or per_unit_quarter.versions > 0
order by deadlines.period, units.unit_code
