-- The cells each replacement of $unit's quarter $period changed, old -> new (marts.corrections),
-- for `huizong diff`: by replacement, then sheet, village (the town's own first) and indicator.
select
    replacement,
    sheet,
    cell,
    coalesce(village_code || ' ' || village_name, '') as village,
    indicator_code || ' ' || coalesce(indicator_name, '') as indicator,
    measure_unit,
    old_value,
    old_level,
    new_value,
    new_level
from marts.corrections
where unit_code = $unit and period = $period
order by replacement, sheet, village_code nulls first, indicator_code
