-- 汇总表, 各村 of a quarter. Grain: one row per village and numeric indicator of the quarter's
-- versions in force.
select submitter_name, unit_code, unit_name, indicator_code, value, 1, 1
from marts.unit_quarter_values where period = $period and unit_type = 'village' and kind <> 'level'
order by unit_code, indicator_code
