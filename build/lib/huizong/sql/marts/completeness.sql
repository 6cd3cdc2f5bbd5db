-- grain: one row per (year, submitting unit); key: (year, unit_code). How complete a unit's year
-- is: its quarters with a valid submission (on time or late) over the 4 expected, and why the
-- others are not (rejected: only invalid versions came; missing: nothing came). Every total's
-- quarters_valid / quarters_expected add these up over the units that report its indicator.
with

status as (select * from marts.submission_status),
units as (select * from staging.stg_units)

select
    status.year,
    status.unit_code,
    status.unit_name,
    units.unit_type,
    count(*) filter (where status.status in ('on_time', 'late')) as quarters_valid,
    4 as quarters_expected,
    count(*) filter (where status.status = 'on_time') as quarters_on_time,
    count(*) filter (where status.status = 'late') as quarters_late,
    count(*) filter (where status.status = 'rejected') as quarters_rejected,
    count(*) filter (where status.status = 'missing') as quarters_missing,
    round(count(*) filter (where status.status in ('on_time', 'late')) / 4, 4) as share_valid
from status
join units using (unit_code)
group by all
order by status.year, status.unit_code
