-- the civilized villages and towns of every level add up, year by year and level by level, to
-- the villages (V07) and towns (T19) whose latest level that year is that level. A year in which
-- no town has a valid submission (a department-only year) has rows of 0 on both sides, never a
-- 0 against a missing count. A unit without a level value reported no level.
with

civilized_levels as (select * from marts.civilized_levels),
unit_levels as (
    select year, unit_code, level
    from intermediate.int_unit_year_values
    where kind = 'level' and level is not null
),
units as (select * from staging.stg_units),

reported as (
    select unit_levels.year, unit_levels.level,
        count(*) filter (where units.unit_type = 'village') as villages,
        count(*) filter (where units.unit_type = 'town') as towns,
        count(*) as units
    from unit_levels
    left join units using (unit_code)
    group by all
)

select
    coalesce(civilized_levels.year, reported.year) as year,
    coalesce(civilized_levels.level, reported.level) as level,
    civilized_levels.villages,
    civilized_levels.towns,
    civilized_levels.units,
    reported.villages as reported_villages,
    reported.towns as reported_towns,
    reported.units as reported_units
from civilized_levels
full join reported
    on reported.year = civilized_levels.year and reported.level = civilized_levels.level
where coalesce(civilized_levels.villages, 0) <> coalesce(reported.villages, 0)
   or coalesce(civilized_levels.towns, 0) <> coalesce(reported.towns, 0)
   or coalesce(civilized_levels.units, 0) <> coalesce(reported.units, 0)
