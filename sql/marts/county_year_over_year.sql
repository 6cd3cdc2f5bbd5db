-- grain: one row per (year, numeric indicator); key: (year, indicator_code). The county's figure
-- against the same quarters of the year before (like with like): through_quarter is the latest
-- quarter of the year with a loaded file (4 for a whole year; 2 for a year known to June), and
-- previous_value last year's figure over its quarters 1..through_quarter by FORM.md's year rule
-- (flows summed over them, stocks and flags each reporter's latest valid quarter among them).
-- change = value - previous_value, change_pct in percent (null when there is no earlier figure or
-- it is 0). complete / previous_complete: whether every expected unit-quarter of those quarters
-- was valid behind each figure: compare two complete figures only. comparable: whether the
-- indicator was on the form in each of those quarters of both years (the same code is the same
-- meaning: schemas/indicators.csv); where it was not, there is no previous figure to compare.
with

totals as (select * from marts.county_totals),
indicators as (select * from staging.stg_indicators),
current_values as (select * from intermediate.int_current_values),
loaded as (select * from staging.stg_imports where status = 'loaded'),
reporters as (select * from intermediate.int_reporter_years where is_numeric),

reach as (select year, max(quarter) as through_quarter from loaded group by all),
form_quarters as (select * from intermediate.int_form_quarters),

comparable as (
    select reach.year, form_quarters.indicator_code,
        count(*) = 2 * any_value(reach.through_quarter) as comparable
    from reach
    join form_quarters
        on form_quarters.year in (reach.year, reach.year - 1) and form_quarters.quarter <= reach.through_quarter
    group by all
),

previous_part as (
    select reach.year, cv.indicator_code, cv.submitter_code, cv.kind, cv.quarter, cv.value
    from reach
    join current_values as cv on cv.year = reach.year - 1 and cv.quarter <= reach.through_quarter
),

previous_latest as (
    select year, submitter_code, max(quarter) as latest_quarter from previous_part group by all
),

previous as (
    select previous_part.year, previous_part.indicator_code, sum(previous_part.value) as value
    from previous_part
    join previous_latest using (year, submitter_code)
    where counts_for_year(previous_part.kind, previous_part.quarter, previous_latest.latest_quarter)
    group by all
),

valid_quarters as (
    select reach.year, loaded.year - reach.year as offset, loaded.unit_code as submitter_code,
        count(distinct loaded.quarter) as quarters_valid
    from reach
    join loaded on loaded.year in (reach.year, reach.year - 1) and loaded.quarter <= reach.through_quarter
    group by all
),

completeness as (
    select reporters.year, reporters.indicator_code,
        bool_and(coalesce(this_year.quarters_valid, 0) = reach.through_quarter) as complete,
        bool_and(coalesce(last_year.quarters_valid, 0) = reach.through_quarter) as previous_complete
    from reporters
    join reach using (year)
    left join valid_quarters as this_year
        on this_year.year = reporters.year and this_year.offset = 0
        and this_year.submitter_code = reporters.submitter_code
    left join valid_quarters as last_year
        on last_year.year = reporters.year and last_year.offset = -1
        and last_year.submitter_code = reporters.submitter_code
    group by all
)

select
    this.year,
    this.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    reach.through_quarter,
    this.value,
    previous.value as previous_value,
    this.value - previous.value as change,
    case when previous.value <> 0 then round(100 * (this.value - previous.value) / previous.value, 1) end
        as change_pct,
    coalesce(completeness.complete, false) as complete,
    coalesce(completeness.previous_complete, false) and previous.value is not null as previous_complete,
    coalesce(comparable.comparable, false) as comparable
from totals as this
join reach using (year)
left join comparable on comparable.indicator_code = this.indicator_code and comparable.year = this.year
left join previous on previous.indicator_code = this.indicator_code and previous.year = this.year
    and comparable.comparable
left join completeness on completeness.indicator_code = this.indicator_code and completeness.year = this.year
join indicators on indicators.indicator_code = this.indicator_code
order by this.year, this.indicator_code
