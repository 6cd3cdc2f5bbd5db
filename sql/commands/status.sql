-- Who has submitted what, for `huizong status`: the mart, limited to one quarter by $period.
select unit_code, unit_name, period, status, rejected_versions
from marts.submission_status
where $period is null or period = $period
order by period, unit_code
