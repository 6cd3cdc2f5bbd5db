-- grain: one row per (unit, quarter, indicator) of the version in force; key: (unit_code, period,
-- indicator_code). The valid value each unit reported for each quarter, with the file it came
-- from: the submitting town or department, the file's name, sha256, sheet, cell and received_at.
-- unit_code is the village for village indicators, else the submitter itself.
with

submitted as (select * from staging.stg_submitted_values),
imports as (select * from staging.stg_imports where status = 'loaded'),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators)

select
    imports.year,
    imports.quarter,
    imports.period,
    submitted.unit_code,
    holders.unit_name,
    holders.unit_type,
    imports.unit_code as submitter_code,
    submitters.unit_name as submitter_name,
    submitted.indicator_code,
    indicators.kind,
    submitted.value,
    submitted.level,
    imports.file_name,
    submitted.sha256,
    submitted.sheet,
    submitted.cell,
    imports.received_at
from submitted
join imports using (sha256)
join units as holders on holders.unit_code = submitted.unit_code
join units as submitters on submitters.unit_code = imports.unit_code
join indicators on indicators.indicator_code = submitted.indicator_code
