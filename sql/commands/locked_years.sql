-- The years signed off and locked, for `huizong status`, with how many versions each holds.
select locked.year, locked.signed_by, locked.signed_at, locked.archive_path,
    count(imports.sha256) as held
from ops.locked_years as locked
left join ops.imports as imports
    on imports.status = 'locked' and period_year(imports.period) = locked.year
group by all
order by locked.year
