-- The recorded versions a rerun imports again: every rejected one ($failed), or every version of
-- a unit ($unit) and/or a quarter ($period) or a year ($year), or the versions with these hashes ($shas).
select sha256, file_name, unit_code, period, status, received_at, archive_path, rules_version,
    coalesce(first_seen_at, imported_at) as first_seen_at
from ops.imports
where ($failed and status = 'rejected')
   or (($unit is not null or $period is not null or $year is not null)
       and ($unit is null or unit_code = $unit)
       and ($period is null or period = $period)
       and ($year is null or period_year(period) = $year))
   or list_contains($shas, sha256)
order by received_at, file_name
