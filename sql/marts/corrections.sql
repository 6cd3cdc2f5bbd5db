-- grain: one row per cell whose value differs between a valid version and the valid version that
-- replaced it (intermediate.int_replacements: each against the one it followed, in order of
-- arrival); key: (new_sha256, indicator_code, village_code), village_code null for a town's or
-- department's own value. A value is matched across the two files by its unit and indicator, not
-- by its cell (a clerk may move columns or rows); a value in only one of the two counts as changed,
-- its other side null. A replacement with the same figures (a duplicate) has no row.
with

replacements as (select * from intermediate.int_replacements),
submitted as (select * from staging.stg_submitted_values),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators),

old_values as (
    select replacements.new_sha256, submitted.*
    from replacements
    join submitted on submitted.sha256 = replacements.old_sha256
),

new_values as (
    select replacements.new_sha256, submitted.*
    from replacements
    join submitted on submitted.sha256 = replacements.new_sha256
),

changed_cells as (
    select
        coalesce(new_values.new_sha256, old_values.new_sha256) as new_sha256,
        coalesce(new_values.unit_code, old_values.unit_code) as holder_code,
        coalesce(new_values.indicator_code, old_values.indicator_code) as indicator_code,
        coalesce(new_values.sheet, old_values.sheet) as sheet,
        coalesce(new_values.cell, old_values.cell) as cell,
        old_values.cell as old_cell,
        old_values.value as old_value,
        new_values.value as new_value,
        old_values.level as old_level,
        new_values.level as new_level
    from old_values
    full join new_values
        on new_values.new_sha256 = old_values.new_sha256
        and new_values.unit_code = old_values.unit_code
        and new_values.indicator_code = old_values.indicator_code
    where old_values.sha256 is null
        or new_values.sha256 is null
        or old_values.value is distinct from new_values.value
        or old_values.level is distinct from new_values.level
)

select
    -- whose quarter, and which replacement
    replacements.unit_code,
    submitters.unit_name,
    replacements.period,
    replacements.year,
    replacements.replacement,
    -- the two versions
    replacements.old_sha256,
    replacements.new_sha256,
    replacements.old_file,
    replacements.new_file,
    replacements.replaced_at,
    replacements.new_status,
    -- the cell
    changed_cells.sheet,
    changed_cells.cell,
    changed_cells.old_cell,
    changed_cells.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    indicators.kind,
    case when changed_cells.holder_code <> replacements.unit_code then changed_cells.holder_code end as village_code,
    case when changed_cells.holder_code <> replacements.unit_code then villages.unit_name end as village_name,
    -- old -> new
    changed_cells.old_value,
    changed_cells.new_value,
    changed_cells.old_level,
    changed_cells.new_level
from changed_cells
join replacements using (new_sha256)
join units as submitters on submitters.unit_code = replacements.unit_code
left join units as villages on villages.unit_code = changed_cells.holder_code
left join indicators on indicators.indicator_code = changed_cells.indicator_code
order by replacements.unit_code, replacements.period, replacements.replacement,
    changed_cells.sheet, village_code nulls first, changed_cells.indicator_code
