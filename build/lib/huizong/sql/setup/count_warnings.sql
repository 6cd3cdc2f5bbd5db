-- Each batch version's number of warnings, from the problems stored for it.
update ops.imports
set n_warnings = counted.n
from (
    select sha256, count(*) as n from ops.import_errors
    where severity = 'warning' and sha256 in (select sha256 from batch_files)
    group by sha256
) as counted
where ops.imports.sha256 = counted.sha256
