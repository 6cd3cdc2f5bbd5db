-- The county's figures of the year ($year) against the year before over the same quarters, the
-- first $through of each year (like with like: 1—6月 against 1—6月): flows summed over those
-- quarters, stocks and flags each reporter's value in its latest valid quarter among them.
-- complete / previous_complete: every reporter of the indicator valid in every one of them.
-- Not read from marts.county_year_over_year: that mart compares through the latest quarter with
-- data when it was built, this through the quarters the clock says are due when the report is
-- written (a due quarter with no file yet counts, and is incomplete).
with

indicators as (select * from staging.stg_indicators where is_numeric),
current_values as (
    select * from intermediate.int_current_values
    where quarter <= $through and year in ($year, $year - 1)
),
reporters as (
    select * from intermediate.int_reporter_years where is_numeric and year in ($year, $year - 1)
),

latest as (
    select submitter_code, year, max(quarter) as latest_quarter from current_values group by all
),

totals as (
    select current_values.year, current_values.indicator_code, sum(current_values.value) as value
    from current_values
    join latest using (submitter_code, year)
    where counts_for_year(current_values.kind, current_values.quarter, latest.latest_quarter)
    group by all
),

valid_quarters as (
    select unit_code as submitter_code, year, count(distinct quarter) as quarters_valid
    from staging.stg_imports
    where status = 'loaded' and quarter <= $through and year in ($year, $year - 1)
    group by all
),

complete as (
    select reporters.year, reporters.indicator_code,
        bool_and(coalesce(valid_quarters.quarters_valid, 0) = $through) as complete
    from reporters
    left join valid_quarters using (submitter_code, year)
    group by all
)

select
    indicators.indicator_name || '（' || indicators.measure_unit || '）' as label,
    this.value,
    last.value as previous_value,
    coalesce(this_complete.complete, false) as complete,
    coalesce(last_complete.complete, false) as previous_complete
from indicators
left join totals as this on this.indicator_code = indicators.indicator_code and this.year = $year
left join totals as last on last.indicator_code = indicators.indicator_code and last.year = $year - 1
left join complete as this_complete
    on this_complete.indicator_code = indicators.indicator_code and this_complete.year = $year
left join complete as last_complete
    on last_complete.indicator_code = indicators.indicator_code and last_complete.year = $year - 1
where this.value is not null
order by indicators.indicator_code
