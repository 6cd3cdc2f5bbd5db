-- Every file version held `locked` (valid, not in force: its year was signed off when it came),
-- for `huizong status`; still_locked is false once its year has been unlocked (the next pass
-- lets it in). $period limits it to one quarter.
select coalesce(units.unit_name, imports.unit_code) as unit_name, imports.period, imports.file_name,
    imports.received_at,
    period_year(imports.period) in (select year from ops.locked_years) as still_locked
from ops.imports as imports
left join raw.units as units using (unit_code)
where imports.status = 'locked' and ($period is null or imports.period = $period)
order by imports.period, imports.unit_code, imports.received_at
