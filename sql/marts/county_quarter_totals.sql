-- grain: one row per (quarter with any loaded file, numeric indicator); key: (period,
-- indicator_code). The county's figure of one quarter: flows as reported for that quarter, stocks
-- and flags as they stood at its end, each summed over the units (null when no reporter has a
-- valid submission that quarter). units_valid / units_expected: the reporters behind it.
with

reporter_years as (select * from intermediate.int_reporter_years where is_numeric),
loaded as (select * from staging.stg_imports where status = 'loaded'),
unit_quarter_values as (select * from marts.unit_quarter_values where kind <> 'level'),
indicators as (select * from staging.stg_indicators),

quarters as (select distinct year, quarter, period from loaded),

reporters as (
    select quarters.year, quarters.quarter, quarters.period, reporter_years.indicator_code,
        reporter_years.submitter_code
    from quarters
    join reporter_years using (year)
),

completeness as (
    select reporters.year, reporters.quarter, reporters.period, reporters.indicator_code,
        count(loaded.sha256) as units_valid,
        count(*) as units_expected
    from reporters
    left join loaded
        on loaded.unit_code = reporters.submitter_code and loaded.period = reporters.period
    group by all
),

sums as (
    select period, indicator_code, sum(value) as value
    from unit_quarter_values
    group by all
)

select
    completeness.year,
    completeness.quarter,
    completeness.period,
    completeness.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    indicators.kind,
    sums.value,
    completeness.units_valid,
    completeness.units_expected
from completeness
join indicators using (indicator_code)
left join sums using (period, indicator_code)
order by completeness.period, completeness.indicator_code
