-- 汇总表, 全县汇总 and 县直部门 of a year: the county's figure of every numeric indicator
-- (marts.county_totals) with what the form says of it. Grain: one row per indicator.
select t.indicator_code, i.indicator_name, i.measure_unit, t.value, t.quarters_valid,
    t.quarters_expected, i.reported_by, i.kind, i.sheet, u.unit_name
from marts.county_totals t join staging.stg_indicators i using (indicator_code)
left join staging.stg_units u on u.unit_code = i.reported_by
where t.year = $year order by t.indicator_code
