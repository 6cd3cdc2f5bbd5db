-- grain: one row per unit of the registry (county, towns, villages, departments); key: unit_code
select
    unit_code,
    unit_name,
    unit_type,
    nullif(parent_code, '') as parent_code,
    nullif(village_type, '') as village_type
from raw.units
