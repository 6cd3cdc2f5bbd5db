-- grain: one row per (unit, quarter, indicator) of the version in force; key: (unit_code, period,
-- indicator_code). The valid value each unit reported for each quarter, with the file it came
-- from: the submitting town or department, the file's name, sha256, sheet, cell and received_at.
-- unit_code is the village for village indicators, else the submitter itself.
with

current_values as (select * from intermediate.int_current_values),
imports as (select * from staging.stg_imports where status = 'loaded'),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators)

select
    current_values.year,
    current_values.quarter,
    current_values.period,
    current_values.unit_code,
    holders.unit_name,
    holders.unit_type,
    current_values.submitter_code,
    submitters.unit_name as submitter_name,
    current_values.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    current_values.kind,
    current_values.value,
    current_values.level,
    imports.file_name,
    current_values.sha256,
    current_values.sheet,
    current_values.cell,
    imports.received_at
from current_values
join imports using (sha256)
join units as holders on holders.unit_code = current_values.unit_code
join units as submitters on submitters.unit_code = current_values.submitter_code
join indicators on indicators.indicator_code = current_values.indicator_code
