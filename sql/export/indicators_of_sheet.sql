-- 汇总表: the numeric indicators of a sheet of the form ($sheet), reported by towns when $towns.
-- Grain: one row per indicator.
select indicator_code, indicator_name, measure_unit, kind, sheet
from staging.stg_indicators
where is_numeric and sheet = $sheet and (not $towns or reported_by = 'town')
order by indicator_code
