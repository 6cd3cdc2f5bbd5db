-- every unit and indicator code of the marts is in the registry (units.csv) or the catalog
-- (indicators.csv), and of the right kind of unit
select 'town_totals' as mart, unit_code as code from marts.town_totals
where unit_code not in (select unit_code from raw.units where unit_type = 'town')
union all
select 'village_latest_values', village_code from marts.village_latest_values
where village_code not in (select unit_code from raw.units where unit_type = 'village')
union all
select 'submission_status', unit_code from marts.submission_status
where unit_code not in (select unit_code from raw.units where unit_type in ('town', 'department'))
union all
select 'county_totals', indicator_code from marts.county_totals
where indicator_code not in (select indicator_code from raw.indicators)
union all
select 'summary_figures', indicator_code from marts.summary_figures
where indicator_code not in (select indicator_code from raw.indicators)
