-- huizong explain: a figure of the year, from the summary's figures, or the county total of an
-- indicator the summary does not phrase. Grain: one row for ($year, $code, $slot), or none.
select f.value, f.figure, f.quarters_valid, f.quarters_expected, i.indicator_name, i.measure_unit
from (select year, indicator_code, slot, value, figure, quarters_valid, quarters_expected
      from marts.summary_figures
      union all by name
      select year, indicator_code, 1 as slot, value, '全县合计' as figure, quarters_valid, quarters_expected
      from marts.county_totals t
      where not exists (select 1 from marts.summary_figures s
                        where s.year = t.year and s.indicator_code = t.indicator_code)) f
join staging.stg_indicators i using (indicator_code)
where f.year = $year and f.indicator_code = $code and f.slot = $slot
