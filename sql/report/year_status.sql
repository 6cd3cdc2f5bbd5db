-- Each (submitting unit, quarter) of the year's ($year) four quarters as the report tells it at
-- $now: the mart's status when a valid version is in force (on_time, late); otherwise decided
-- again at $now, since the mart's not_due is as of its build: not_due while the quarter's
-- deadline (period_due_by, sql/setup/macros.sql) has not passed, then rejected (a version was
-- rejected; one held `locked` is not) or missing. The units are the mart's of the year, or
-- every submitter (towns and departments) when it has none.
with

grid as (select * from marts.submission_status where year = $year),

units as (
    select distinct unit_code from grid
    union all
    select unit_code from staging.stg_units
    where unit_type in ('town', 'department') and not exists (select 1 from grid)
),

quarters as (select concat($year, 'Q', q) as period from range(1, 5) as r(q))

select units.unit_code, quarters.period,
    case
        when grid.status in ('on_time', 'late') then grid.status
        when period_due_by(quarters.period) > $now then 'not_due'
        when grid.rejected_versions > 0 then 'rejected'
        else 'missing'
    end as status
from units
cross join quarters
left join grid on grid.unit_code = units.unit_code and grid.period = quarters.period
order by units.unit_code, quarters.period
