-- Every rejected file version with its first reason and its feedback for the town, newest
-- first; $period limits it to one quarter (files whose quarter is unknown are always shown).
select coalesce(units.unit_name, '(单位不明)') as unit_name, imports.period, imports.file_name,
    imports.received_at, imports.n_errors, imports.first_reason, imports.feedback_path
from ops.imports as imports
left join raw.units as units using (unit_code)
where imports.status = 'rejected' and ($period is null or imports.period = $period or imports.period is null)
order by imports.received_at desc
