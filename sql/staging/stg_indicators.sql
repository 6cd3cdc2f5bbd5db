-- grain: one row per indicator of the catalog; key: indicator_code. Its latest definition (name,
-- bounds); valid_from and valid_to span every quarter it is on the form, over all its definitions
-- (stg_indicator_forms: each definition for its own quarters; null: an open end)
with

forms as (
    select indicator_code, nullif(cast(valid_from as varchar), '') as valid_from,
        nullif(cast(valid_to as varchar), '') as valid_to
    from raw.indicator_forms
),

spans as (
    select indicator_code,
        case when bool_or(valid_from is null) then null else min(valid_from) end as valid_from,
        case when bool_or(valid_to is null) then null else max(valid_to) end as valid_to
    from forms
    group by indicator_code
)

select
    indicators.indicator_code,
    indicators.indicator_name,
    indicators.unit as measure_unit,
    indicators.sheet,
    indicators.reported_by,
    indicators.kind,
    indicators.kind in ('flow', 'stock', 'flag') as is_numeric,
    indicators.min as min_value,
    indicators.max as max_value,
    indicators.decimals,
    nullif(indicators.summary_phrase, '') as summary_phrase,
    spans.valid_from,
    spans.valid_to
from raw.indicators as indicators
join spans using (indicator_code)
