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

-- the year rule (macros.sql): a unit has a year's value where some quarter counts for it
unit_year_values as (
    select current_values.year, current_values.unit_code, current_values.submitter_code,
        current_values.indicator_code, current_values.kind,
        sum(current_values.value) filter (where counts_for_year(
            current_values.kind, current_values.quarter, latest_quarter.latest_quarter)) as value,
        any_value(current_values.level) filter (
            where current_values.quarter = latest_quarter.latest_quarter) as level
    from current_values
    join latest_quarter using (submitter_code, year)
    group by current_values.year, current_values.unit_code, current_values.submitter_code,
        current_values.indicator_code, current_values.kind
    having count(*) filter (where counts_for_year(
        current_values.kind, current_values.quarter, latest_quarter.latest_quarter)) > 0
)

select
    unit_year_values.*,
    latest_quarter.latest_quarter,
    latest_quarter.quarters_valid
from unit_year_values
join latest_quarter using (submitter_code, year)
