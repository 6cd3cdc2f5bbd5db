-- Set every affected version's status from `resolved_versions` (resolve_versions.sql).
update ops.imports
set status = resolved_versions.status, superseded_by = resolved_versions.superseded_by
from resolved_versions
where ops.imports.sha256 = resolved_versions.sha256
