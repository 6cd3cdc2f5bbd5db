-- grain: one row per file version received; key: sha256
select
    sha256,
    file_name,
    unit_code,
    period,
    period_year(period) as year,
    period_quarter(period) as quarter,
    status,
    received_at,
    imported_at,
    n_values,
    n_errors,
    n_warnings,
    first_reason,
    superseded_by
from ops.imports
