-- grain: one row per (year, numeric indicator); key: (year, indicator_code). value adds up every
-- unit of the county by FORM.md's rules (null when no reporter has a valid submission that
-- year); quarters_valid / quarters_expected count the reporters' unit-quarters behind it.
with

reporter_years as (select * from intermediate.int_reporter_years where is_numeric),
unit_year_values as (select * from intermediate.int_unit_year_values),

sums as (
    select year, indicator_code, sum(value) as value
    from unit_year_values
    group by all
),

completeness as (
    select year, indicator_code, cast(sum(quarters_valid) as bigint) as quarters_valid,
        cast(sum(quarters_expected) as bigint) as quarters_expected
    from reporter_years
    group by all
)

select
    completeness.year,
    completeness.indicator_code,
    sums.value,
    completeness.quarters_valid,
    completeness.quarters_expected
from completeness
left join sums using (year, indicator_code)
order by year, indicator_code
