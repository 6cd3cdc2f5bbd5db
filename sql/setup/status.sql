-- Who has submitted what: one row per (submitting unit, quarter with any file received).
-- status: `loaded` if a valid version is in force, else `rejected` if only invalid versions
-- came, else `missing`; rejected_versions counts the invalid ones received. $period limits it to one quarter.
with
units as (select * from raw.units where unit_type in ('town', 'department')),
imports as (select * from ops.imports where $period is null or period = $period),
periods as (select distinct period from imports where period is not null),
per_unit_period as (
    select unit_code, period,
        case when bool_or(status = 'loaded') then 'loaded'
             when bool_or(status = 'rejected') then 'rejected' end as status,
        count(*) filter (where status = 'rejected') as rejected_versions
    from imports where unit_code is not null group by all
)
select units.unit_code, units.unit_name, periods.period,
    coalesce(per_unit_period.status, 'missing') as status,
    coalesce(per_unit_period.rejected_versions, 0) as rejected_versions
from units cross join periods
left join per_unit_period using (unit_code, period)
order by periods.period, units.unit_code
