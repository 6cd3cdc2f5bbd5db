-- 汇总表, 各镇 of a year (long; pivoted by huizong.outputs.export). Grain: one row per town and
-- indicator of marts.town_totals.
select t.unit_code, u.unit_name, t.indicator_code, t.value, t.quarters_valid, t.quarters_expected
from marts.town_totals t join staging.stg_units u using (unit_code)
where t.year = $year order by t.unit_code, t.indicator_code
