-- grain: one row per (year, village, village indicator); key: (year, village_code,
-- indicator_code). FORM.md's year rule per village: flows summed over the quarters of the year
-- its town submitted validly; stocks, flags and levels from the town's latest valid quarter.
-- Made from marts.unit_quarter_values, already built, in one aggregation.
with

unit_quarter_values as (select * from marts.unit_quarter_values where unit_type = 'village'),
loaded as (select * from staging.stg_imports where status = 'loaded'),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators),

town_years as (
    select unit_code as submitter_code, year, max(quarter) as latest_quarter,
        count(distinct quarter) as quarters_valid
    from loaded
    group by all
),

village_years as (
    select
        unit_quarter_values.year,
        unit_quarter_values.unit_code,
        unit_quarter_values.submitter_code,
        unit_quarter_values.indicator_code,
        sum(unit_quarter_values.value) filter (where counts_for_year(
            unit_quarter_values.kind, unit_quarter_values.quarter, town_years.latest_quarter)) as value,
        any_value(unit_quarter_values.level) filter (
            where unit_quarter_values.quarter = town_years.latest_quarter) as level,
        town_years.latest_quarter,
        town_years.quarters_valid
    from unit_quarter_values
    join town_years using (submitter_code, year)
    group by all
)

select
    village_years.year,
    village_years.submitter_code as town_code,
    towns.unit_name as town_name,
    village_years.unit_code as village_code,
    villages.unit_name as village_name,
    villages.lineage_code,
    village_years.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    indicators.kind,
    case when indicators.kind <> 'level' then village_years.value end as value,
    village_years.level,
    village_years.latest_quarter,
    village_years.quarters_valid,
    4 as quarters_expected
from village_years
join units as villages on villages.unit_code = village_years.unit_code
join units as towns on towns.unit_code = village_years.submitter_code
join indicators on indicators.indicator_code = village_years.indicator_code
