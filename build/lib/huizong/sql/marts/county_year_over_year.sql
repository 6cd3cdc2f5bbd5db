-- grain: one row per (year, numeric indicator); key: (year, indicator_code). The county's figure
-- against the year before: change = value - previous_value, change_pct in percent (null when
-- there is no earlier figure or it is 0). complete / previous_complete say whether every
-- expected unit-quarter was valid behind each figure: compare two complete years only.
with

totals as (select * from marts.county_totals),
indicators as (select * from staging.stg_indicators)

select
    this.year,
    this.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    this.value,
    last.value as previous_value,
    this.value - last.value as change,
    case when last.value <> 0 then round(100 * (this.value - last.value) / last.value, 1) end
        as change_pct,
    this.quarters_valid = this.quarters_expected as complete,
    last.quarters_valid = last.quarters_expected as previous_complete
from totals as this
left join totals as last
    on last.indicator_code = this.indicator_code and last.year = this.year - 1
join indicators on indicators.indicator_code = this.indicator_code
order by this.year, this.indicator_code
