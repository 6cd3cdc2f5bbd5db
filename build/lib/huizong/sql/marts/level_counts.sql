-- grain: one row per (year, level indicator, level); key: (year, indicator_code, level).
-- units counts the villages (V07) or towns (T19) whose latest level that year is `level`.
with

unit_year_values as (
    select * from intermediate.int_unit_year_values where kind = 'level'
)

select year, indicator_code, level, count(*) as units
from unit_year_values
group by all
order by year, indicator_code, level
