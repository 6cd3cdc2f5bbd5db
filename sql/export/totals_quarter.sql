-- 汇总表 of a quarter: as totals_year.sql, from marts.county_quarter_totals. Grain: one row per
-- indicator.
select t.indicator_code, i.indicator_name, i.measure_unit, t.value, t.units_valid,
    t.units_expected, i.reported_by, i.kind, i.sheet, u.unit_name
from marts.county_quarter_totals t join staging.stg_indicators i using (indicator_code)
left join staging.stg_units u on u.unit_code = i.reported_by
where t.period = $period order by t.indicator_code
