-- grain: one row per definition of an indicator (schemas/indicators.csv: a code renamed or
-- re-bounded has several rows, each for its own quarters); key: (indicator_code, definition).
-- from_index and to_index bound its quarters as period_index does (open ends as far as they go).
select
    indicator_code,
    definition,
    indicator_name,
    unit as measure_unit,
    min as min_value,
    max as max_value,
    nullif(cast(valid_from as varchar), '') as valid_from,
    nullif(cast(valid_to as varchar), '') as valid_to,
    coalesce(period_index(nullif(cast(valid_from as varchar), '')), 0) as from_index,
    coalesce(period_index(nullif(cast(valid_to as varchar), '')), 2147483647) as to_index
from raw.indicator_forms
