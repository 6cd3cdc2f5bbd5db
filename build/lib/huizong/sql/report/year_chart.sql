-- The county's figures of the year ($year) against the year before, every numeric indicator
select indicator_name || '（' || measure_unit || '）' as label, value, previous_value
from marts.county_year_over_year
where year = $year
order by indicator_code
