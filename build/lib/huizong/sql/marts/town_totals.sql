-- grain: one row per (year, town, numeric indicator that towns report); key: (year, unit_code,
-- indicator_code). value adds up the town's villages and its own figures by FORM.md's rules;
-- it is null when the town has no valid submission that year. quarters_valid / quarters_expected
-- tell how complete the figure is.
with

reporter_years as (
    select * from intermediate.int_reporter_years
    where submitter_type = 'town' and is_numeric
),
unit_year_values as (select * from intermediate.int_unit_year_values),

town_sums as (
    select year, submitter_code, indicator_code, sum(value) as value
    from unit_year_values
    group by all
)

select
    reporter_years.year,
    reporter_years.submitter_code as unit_code,
    reporter_years.indicator_code,
    town_sums.value,
    reporter_years.quarters_valid,
    reporter_years.quarters_expected
from reporter_years
left join town_sums using (year, submitter_code, indicator_code)
order by year, unit_code, indicator_code
