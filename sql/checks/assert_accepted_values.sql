-- counts hold values in their range, where the range is another column or open-ended (closed
-- lists of values are the `accepted_values` and `relationships` tests of each model's YAML)
select 'completeness.quarters_valid' as col, quarters_valid::varchar as value from marts.completeness
where quarters_valid not between 0 and quarters_expected
union all
select 'summary_figures.slot', slot::varchar from marts.summary_figures where slot < 1
union all
select 'county_totals.quarters_valid', quarters_valid::varchar from marts.county_totals
where quarters_valid not between 0 and quarters_expected
