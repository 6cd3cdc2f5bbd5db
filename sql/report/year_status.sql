-- Each (submitting unit, quarter) of the year's ($year) four quarters as the report tells it at
-- $now: the mart's status when a valid version is in force (on_time, late); otherwise decided
-- again at $now, since the mart's not_due is as of its build: not_due while the quarter's
-- deadline (period_due_by, sql/setup/macros.sql) has not passed, then rejected (a version was
-- rejected; one held `locked` is not) or missing; not_open in a quarter before the unit was set
-- up or after it was merged away (registry's opened, closed). The units are the mart's of the
-- year, or every submitter (towns and departments) existing in the year when it has none.
with

grid as (select * from marts.submission_status where year = $year),

quarters as (select concat($year, 'Q', q) as period from range(1, 5) as r(q)),

units as (
    select distinct unit_code from grid
    union all
    select unit_code from staging.stg_units
    where unit_type in ('town', 'department') and not exists (select 1 from grid)
        and exists (select 1 from quarters where unit_open_in(quarters.period, opened, closed))
),

registry as (select unit_code, opened, closed from staging.stg_units)

select units.unit_code, quarters.period,
    case
        when grid.status in ('on_time', 'late') then grid.status
        when not unit_open_in(quarters.period, registry.opened, registry.closed) then 'not_open'
        when period_due_by(quarters.period) > $now then 'not_due'
        when grid.rejected_versions > 0 then 'rejected'
        else 'missing'
    end as status
from units
cross join quarters
left join grid on grid.unit_code = units.unit_code and grid.period = quarters.period
left join registry on registry.unit_code = units.unit_code
order by units.unit_code, quarters.period
