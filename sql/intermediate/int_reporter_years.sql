-- grain: one row per (year, indicator, reporting unit expected to report it); key: (year,
-- indicator_code, submitter_code). Years are those with any loaded file in which the indicator is
-- on the form in some quarter (and the reporter exists in some quarter); quarters_expected counts
-- those quarters (4 for an indicator on the whole year's form, for a unit that existed all year) and quarters_valid the reporter's quarters among them with a valid submission.
with

indicators as (select * from staging.stg_indicators),
units as (select * from staging.stg_units),
imports as (select * from staging.stg_imports where status = 'loaded'),
years as (select distinct year from imports),
form_quarters as (select * from intermediate.int_form_quarters),

reporters as (
    select indicators.indicator_code, indicators.kind, indicators.is_numeric, units.unit_code as submitter_code,
        units.unit_type as submitter_type, units.opened, units.closed
    from indicators
    join units
        on (indicators.reported_by = 'town' and units.unit_type = 'town')
        or indicators.reported_by = units.unit_code
),

-- the quarters of the year the indicator is on the form and the reporter exists in (a town set
-- up or merged away that year expects fewer)
expected as (
    select years.year, form_quarters.indicator_code, reporters.submitter_code, count(*) as quarters_expected
    from years
    join form_quarters using (year)
    join reporters using (indicator_code)
    where unit_open_in(index_period(quarter_index(form_quarters.year, form_quarters.quarter)),
                       reporters.opened, reporters.closed)
    group by all
),

valid_quarters as (
    select imports.unit_code as submitter_code, imports.year, form_quarters.indicator_code,
        count(distinct imports.quarter) as quarters_valid
    from imports
    join form_quarters on form_quarters.year = imports.year and form_quarters.quarter = imports.quarter
    group by all
)

select
    expected.year,
    reporters.* exclude (opened, closed),
    coalesce(valid_quarters.quarters_valid, 0) as quarters_valid,
    expected.quarters_expected
from expected
join reporters using (indicator_code, submitter_code)
left join valid_quarters using (submitter_code, year, indicator_code)
