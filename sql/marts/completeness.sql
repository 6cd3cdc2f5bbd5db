-- grain: one row per (year, submitting unit); key: (year, unit_code). How complete a unit's year
-- is: its quarters with a valid submission (on time or late) over those expected (the year's four,
-- or those it existed in: a town opened or merged away mid-year), and why the
-- others are not (rejected: only invalid versions came; missing: nothing came). Every total's
-- quarters_valid / quarters_expected add these up over the units that report its indicator.
with

status as (select * from marts.submission_status),
units as (select * from staging.stg_units),

-- the quarters of each year that a unit exists in (all four, but in the year it opens or closes)
open_quarters as (
    select units.unit_code, years.year, count(*) as quarters_expected
    from units
    cross join (select distinct year from status) as years
    cross join range(1, 5) as q(quarter)
    where unit_open_in(concat(years.year, 'Q', q.quarter), units.opened, units.closed)
    group by all
),

per_year as (
    select
        status.year,
        status.unit_code,
        status.unit_name,
        units.unit_type,
        count(*) filter (where status.status in ('on_time', 'late')) as quarters_valid,
        coalesce(any_value(open_quarters.quarters_expected), 0) as quarters_expected,
        count(*) filter (where status.status = 'on_time') as quarters_on_time,
        count(*) filter (where status.status = 'late') as quarters_late,
        count(*) filter (where status.status = 'rejected') as quarters_rejected,
        count(*) filter (where status.status = 'missing') as quarters_missing
    from status
    join units using (unit_code)
    left join open_quarters using (unit_code, year)
    group by status.year, status.unit_code, status.unit_name, units.unit_type
)

select
    *,
    round(quarters_valid / nullif(quarters_expected, 0), 4) as share_valid
from per_year
order by year, unit_code
