-- grain: one row per (year, village or town holding a civilized title that year); key: (year,
-- unit_code). Each unit at its latest level of the year (V07 for villages, T19 for towns), from
-- 县级 up to 全国; units at 无 (none) are left out. Counted per level, they are
-- marts.civilized_levels.
with

unit_levels as (
    select * from intermediate.int_unit_year_values where kind = 'level'
),
units as (select * from staging.stg_units),
levels as (select * from staging.stg_levels)

select
    unit_levels.year,
    unit_levels.unit_code,
    holders.unit_name,
    holders.unit_type,
    unit_levels.submitter_code as town_code,
    towns.unit_name as town_name,
    unit_levels.indicator_code,
    unit_levels.level,
    levels.level_rank,
    concat(unit_levels.year, 'Q', unit_levels.latest_quarter) as period
from unit_levels
join levels using (level)
join units as holders on holders.unit_code = unit_levels.unit_code
join units as towns on towns.unit_code = unit_levels.submitter_code
where levels.level_rank > 0
order by unit_levels.year, levels.level_rank desc, unit_levels.unit_code
