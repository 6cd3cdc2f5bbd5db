-- no mart has a key column that is null
select 'county_totals' as mart from marts.county_totals where year is null or indicator_code is null
union all
select 'town_totals' from marts.town_totals where year is null or unit_code is null or indicator_code is null
union all
select 'submission_status' from marts.submission_status
where unit_code is null or period is null or status is null or due_by is null
union all
select 'village_latest_values' from marts.village_latest_values
where village_code is null or indicator_code is null or period is null or town_code is null
union all
select 'completeness' from marts.completeness where year is null or unit_code is null
union all
select 'county_year_over_year' from marts.county_year_over_year where year is null or indicator_code is null
union all
select 'civilized_levels' from marts.civilized_levels where year is null or level is null
union all
select 'summary_figures' from marts.summary_figures where year is null or indicator_code is null or slot is null
