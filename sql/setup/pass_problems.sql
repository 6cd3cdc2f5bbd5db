-- The problems of a pass's versions (temp table batch_files) grouped for people, as DHIS2's
-- import summary does: by rule and by unit, each with its counts and its first few cells.
-- grain: one row per grouping ('rule' | 'unit') and key (a rule id, or a unit's code)
with

problems as (
    select errors.check_name, errors.severity, imports.file_name,
        coalesce(imports.unit_code, '') as unit_code,
        coalesce(units.unit_name, imports.unit_code, '?') as unit_name,
        errors.sheet, errors.cell, errors.message,
        -- cells in reading order: E2 before E11
        coalesce(try_cast(regexp_extract(errors.cell, '[0-9]+') as integer), 0) as cell_row
    from ops.import_errors as errors
    join ops.imports as imports using (sha256)
    left join raw.units as units on units.unit_code = imports.unit_code
    where errors.sha256 in (select sha256 from batch_files)
)

select
    if(grouping(check_name) = 0, 'rule', 'unit') as grouping,
    if(grouping(check_name) = 0, check_name, unit_code) as key,
    if(grouping(check_name) = 0, check_name, unit_name || ' ' || unit_code) as label,
    count(*) filter (where severity = 'error') as errors,
    count(*) filter (where severity = 'warning') as warnings,
    count(distinct file_name) as files,
    -- where a clerk looks first: the first three cells ('' cell: the whole sheet or file)
    list({'file': file_name, 'sheet': sheet, 'cell': cell} order by file_name, sheet, cell_row, cell)[1:3]
        as first_cells,
    arg_min(message, (file_name, sheet, cell_row, cell)) as example
from problems
group by grouping sets ((check_name), (unit_code, unit_name))
order by grouping, errors desc, warnings desc, key
