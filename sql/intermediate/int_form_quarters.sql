-- grain: one row per (indicator, year, quarter) in which the indicator is on the form, for every
-- year with a loaded file and the year before it; key: (indicator_code, year, quarter). What a
-- year expects of an indicator, and which years compare like with like (county_year_over_year).
with

forms as (select * from staging.stg_indicator_forms),
loaded as (select distinct year from staging.stg_imports where status = 'loaded'),
years as (select year from loaded union select year - 1 from loaded),
quarters as (select * from (values (1), (2), (3), (4)) as q (quarter))

select forms.indicator_code, years.year, quarters.quarter, forms.indicator_name
from years
cross join quarters
join forms on quarter_index(years.year, quarters.quarter) between forms.from_index and forms.to_index
