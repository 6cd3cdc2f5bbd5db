-- grain: one row per (year, unit, indicator); key: (year, unit_code, indicator_code).
-- FORM.md's year rule per unit: flows summed over the year's quarters; stocks, flags and levels
-- taken from the latest quarter of that year in which the submitter has a valid submission.
with

current_values as (select * from intermediate.int_current_values),

latest_quarter as (
    select submitter_code, year, max(quarter) as latest_quarter, count(distinct quarter) as quarters_valid
    from current_values
    group by all
),

flows as (
    select year, unit_code, submitter_code, indicator_code, kind, sum(value) as value, null as level
    from current_values
    where kind = 'flow'
    group by all
),

point_in_time as (
    select current_values.year, unit_code, current_values.submitter_code, indicator_code, kind,
        value, level
    from current_values
    join latest_quarter
        on current_values.submitter_code = latest_quarter.submitter_code
        and current_values.year = latest_quarter.year
        and current_values.quarter = latest_quarter.latest_quarter
    where kind in ('stock', 'flag', 'level')
),

unit_year_values as (
    select * from flows
    union all by name
    select * from point_in_time
)

select
    unit_year_values.*,
    latest_quarter.latest_quarter,
    latest_quarter.quarters_valid
from unit_year_values
join latest_quarter using (submitter_code, year)
