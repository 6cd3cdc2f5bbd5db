-- grain: one row per (year, indicator, reporting unit expected to report it); key: (year,
-- indicator_code, submitter_code). Years are those with any loaded file. quarters_valid counts
-- the reporter's quarters with a valid submission that year, of 4 expected.
with

indicators as (select * from staging.stg_indicators),
units as (select * from staging.stg_units),
imports as (select * from staging.stg_imports where status = 'loaded'),

years as (select distinct year from imports),

reporters as (
    select indicators.indicator_code, indicators.kind, indicators.is_numeric, units.unit_code as submitter_code,
        units.unit_type as submitter_type
    from indicators
    join units
        on (indicators.reported_by = 'town' and units.unit_type = 'town')
        or indicators.reported_by = units.unit_code
),

valid_quarters as (
    select unit_code as submitter_code, year, count(distinct quarter) as quarters_valid
    from imports
    group by all
)

select
    years.year,
    reporters.*,
    coalesce(valid_quarters.quarters_valid, 0) as quarters_valid,
    4 as quarters_expected
from years
cross join reporters
left join valid_quarters using (submitter_code, year)
