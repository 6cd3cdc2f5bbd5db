-- grain: one row per value of every loaded file version; key: (sha256, unit_code, indicator_code)
select
    sha256,
    unit_code,
    indicator_code,
    value,
    level,
    sheet,
    cell
from raw.submitted_values
