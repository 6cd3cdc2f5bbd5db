-- grain: one row per (year, level of civilized village or town); key: (year, level). FORM.md's
-- derived figure: villages (V07) and towns (T19) at each level, counted together, each unit at
-- its latest level that year. '无' (none) is counted too, so that a year's rows add up to the
-- units that reported a level. quarters_valid / quarters_expected: the reporters' quarters.
with

unit_levels as (
    select year, unit_code, level
    from intermediate.int_unit_year_values where kind = 'level'
),
units as (select * from staging.stg_units),
levels as (select * from staging.stg_levels),

reporter_quarters as (
    select year, cast(sum(quarters_valid) as bigint) as quarters_valid,
        cast(sum(quarters_expected) as bigint) as quarters_expected
    from (select distinct year, submitter_code, quarters_valid, quarters_expected
          from intermediate.int_reporter_years where kind = 'level')
    group by all
),

per_level as (
    select year, level,
        count(*) filter (where units.unit_type = 'village') as villages,
        count(*) filter (where units.unit_type = 'town') as towns
    from unit_levels
    join units using (unit_code)
    group by all
)

select
    reporter_quarters.year,
    levels.level,
    levels.level_rank,
    coalesce(per_level.villages, 0) as villages,
    coalesce(per_level.towns, 0) as towns,
    coalesce(per_level.villages, 0) + coalesce(per_level.towns, 0) as units,
    reporter_quarters.quarters_valid,
    reporter_quarters.quarters_expected
from reporter_quarters
cross join levels
left join per_level using (year, level)
order by reporter_quarters.year, levels.level_rank desc
