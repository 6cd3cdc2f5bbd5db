-- grain: one row per indicator of the catalog; key: indicator_code. Its latest definition (name,
-- bounds); valid_from and valid_to span every quarter it is on the form (stg_indicator_forms: each
-- definition for its own quarters)
select
    indicator_code,
    indicator_name,
    unit as measure_unit,
    sheet,
    reported_by,
    kind,
    kind in ('flow', 'stock', 'flag') as is_numeric,
    min as min_value,
    max as max_value,
    decimals,
    nullif(summary_phrase, '') as summary_phrase,
    nullif(cast(valid_from as varchar), '') as valid_from,
    nullif(cast(valid_to as varchar), '') as valid_to
from raw.indicators
