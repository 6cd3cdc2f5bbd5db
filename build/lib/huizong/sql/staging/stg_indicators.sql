-- grain: one row per indicator of the catalog; key: indicator_code
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
    nullif(summary_phrase, '') as summary_phrase
from raw.indicators
