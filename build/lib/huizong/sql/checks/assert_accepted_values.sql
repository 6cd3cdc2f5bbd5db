-- columns with a closed set of values hold only those values
select 'submission_status.status' as col, status as value from marts.submission_status
where status not in ('on_time', 'late', 'rejected', 'missing')
union all
select 'submission_status.quarter', quarter::varchar from marts.submission_status where quarter not between 1 and 4
union all
select 'level_counts.level', level from marts.level_counts where level not in (select level from raw.levels)
union all
select 'village_latest_values.level', level from marts.village_latest_values
where level is not null and level not in (select level from raw.levels)
union all
select 'completeness.quarters_valid', quarters_valid::varchar from marts.completeness
where quarters_valid not between 0 and quarters_expected
union all
select 'summary_figures.slot', slot::varchar from marts.summary_figures where slot < 1
union all
select 'county_totals.quarters_valid', quarters_valid::varchar from marts.county_totals
where quarters_valid not between 0 and quarters_expected
