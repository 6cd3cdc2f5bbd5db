-- Who has submitted what, for `huizong status` and the office's page: the mart as a full grid of
-- its units and quarters, limited to one quarter by $period; not_open where the mart has no row (a
-- quarter before the unit was set up or after it was merged away: nothing expected of it).
with

status as (select * from marts.submission_status where $period is null or period = $period),
units as (select distinct unit_code, unit_name from status),
periods as (select distinct period from status)

select units.unit_code, units.unit_name, periods.period, coalesce(status.status, 'not_open') as status,
    coalesce(status.rejected_versions, 0) as rejected_versions
from units
cross join periods
left join status using (unit_code, period)
order by periods.period, units.unit_code
