-- grain: one row per (unit, period, indicator) of the version in force (status 'loaded');
-- key: (unit_code, period, indicator_code). unit_code is the village for village indicators,
-- submitter_code the town or department whose file carried the value.
with

imports as (select * from staging.stg_imports where status = 'loaded'),
submitted as (select * from staging.stg_submitted_values),
indicators as (select * from staging.stg_indicators),

current_values as (
    select
        submitted.unit_code,
        imports.unit_code as submitter_code,
        imports.period,
        imports.year,
        imports.quarter,
        submitted.indicator_code,
        indicators.kind,
        submitted.value,
        submitted.level,
        submitted.sha256,
        submitted.sheet,
        submitted.cell
    from submitted
    join imports using (sha256)
    join indicators using (indicator_code)
)

select * from current_values
