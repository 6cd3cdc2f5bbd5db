-- The versions held `locked` whose year is no longer locked (unlocked since): the next pass lets
-- them in by FORM.md's version rules (huizong/signoff.py let_in). Columns as rerun_selection.sql.
select sha256, file_name, unit_code, period, status, received_at, archive_path, rules_version,
    coalesce(first_seen_at, imported_at) as first_seen_at
from ops.imports
where status = 'locked'
    and period_year(period) not in (select year from ops.locked_years)
order by received_at, file_name
