-- Towns compared on the indicators $codes in the year ($year): one row per (indicator, town)
select
    indicators.indicator_name || '（' || indicators.measure_unit || '）' as label,
    units.unit_name,
    totals.unit_code,
    totals.value,
    totals.quarters_valid = totals.quarters_expected as complete
from marts.town_totals as totals
join staging.stg_indicators as indicators using (indicator_code)
join staging.stg_units as units using (unit_code)
where totals.year = $year and list_contains($codes, totals.indicator_code)
order by list_position($codes, totals.indicator_code), totals.unit_code
