-- 汇总表, 各村 of a year. Grain: one row per village and numeric indicator of
-- marts.village_year_values.
select town_name, village_code, village_name, indicator_code, value, quarters_valid, quarters_expected
from marts.village_year_values where year = $year and kind <> 'level'
order by village_code, indicator_code
