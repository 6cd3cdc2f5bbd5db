-- grain: one row per (year, village, village indicator); key: (year, village_code,
-- indicator_code). FORM.md's year rule per village: flows summed over the quarters of the year
-- its town submitted validly; stocks, flags and levels from the town's latest valid quarter.
with

unit_year_values as (select * from intermediate.int_unit_year_values),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators)

select
    unit_year_values.year,
    villages.parent_code as town_code,
    towns.unit_name as town_name,
    unit_year_values.unit_code as village_code,
    villages.unit_name as village_name,
    unit_year_values.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    unit_year_values.kind,
    unit_year_values.value,
    unit_year_values.level,
    unit_year_values.latest_quarter,
    cast(unit_year_values.quarters_valid as bigint) as quarters_valid,
    4 as quarters_expected
from unit_year_values
join units as villages on villages.unit_code = unit_year_values.unit_code and villages.unit_type = 'village'
join units as towns on towns.unit_code = villages.parent_code
join indicators on indicators.indicator_code = unit_year_values.indicator_code
