-- grain: one row per (village, village indicator); key: (village_code, indicator_code).
-- Each village's latest value of every indicator: the one from the latest quarter in which its
-- town's valid submission carried it (any year). period tells which quarter that was.
with

current_values as (select * from intermediate.int_current_values),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators),

latest as (
    select *
    from current_values
    qualify row_number() over (
        partition by unit_code, indicator_code order by year desc, quarter desc) = 1
)

select
    latest.unit_code as village_code,
    villages.unit_name as village_name,
    villages.lineage_code,
    villages.parent_code as town_code,
    towns.unit_name as town_name,
    latest.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    latest.period,
    latest.value,
    latest.level
from latest
join units as villages on villages.unit_code = latest.unit_code and villages.unit_type = 'village'
join units as towns on towns.unit_code = villages.parent_code
join indicators using (indicator_code)
order by village_code, indicator_code
