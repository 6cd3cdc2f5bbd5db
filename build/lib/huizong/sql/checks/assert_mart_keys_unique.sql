-- every mart has one row per its key (the grain stated at the top of its model)
select 'county_totals' as mart, count(*) as n from marts.county_totals group by year, indicator_code having n > 1
union all
select 'town_totals', count(*) as n from marts.town_totals group by year, unit_code, indicator_code having n > 1
union all
select 'level_counts', count(*) as n from marts.level_counts group by year, indicator_code, level having n > 1
union all
select 'submission_status', count(*) as n from marts.submission_status group by unit_code, period having n > 1
union all
select 'village_latest_values', count(*) as n from marts.village_latest_values
group by village_code, indicator_code having n > 1
union all
select 'completeness', count(*) as n from marts.completeness group by year, unit_code having n > 1
union all
select 'county_year_over_year', count(*) as n from marts.county_year_over_year
group by year, indicator_code having n > 1
union all
select 'civilized_levels', count(*) as n from marts.civilized_levels group by year, level having n > 1
union all
select 'summary_figures', count(*) as n from marts.summary_figures
group by year, indicator_code, slot having n > 1
