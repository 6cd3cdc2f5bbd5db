-- Every version of $unit's quarter $period, for `huizong diff`, in the ledger's order of arrival
-- (received_at, first_seen_at, file name, sha256): its status and, for a valid version that
-- replaced an earlier one, which replacement it was and how many cells it changed
-- (intermediate.int_replacements, marts.corrections). Rejected versions are listed, unchained.
with

changes as (
    select new_sha256, count(*) as cells_changed from marts.corrections group by new_sha256
)

select
    imports.sha256,
    imports.file_name,
    imports.status,
    imports.received_at,
    imports.first_reason,
    replacements.replacement,
    replacements.old_file,
    coalesce(changes.cells_changed, 0) as cells_changed
from ops.imports as imports
left join intermediate.int_replacements as replacements on replacements.new_sha256 = imports.sha256
left join changes on changes.new_sha256 = imports.sha256
where imports.unit_code = $unit and imports.period = $period
order by imports.received_at, coalesce(imports.first_seen_at, imports.imported_at), imports.file_name,
    imports.sha256
