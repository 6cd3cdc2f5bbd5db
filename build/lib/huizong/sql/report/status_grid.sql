-- Who submitted what in the year ($year): one row per (submitting unit, quarter) with its status
select unit_name, period, status
from marts.submission_status
where year = $year
order by unit_code, period
