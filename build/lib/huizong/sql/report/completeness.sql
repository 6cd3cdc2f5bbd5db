-- How complete the year ($year) is, over every submitting unit: valid unit-quarters, expected,
-- and the units with a quarter not valid
select
    sum(quarters_valid) as quarters_valid,
    sum(quarters_expected) as quarters_expected,
    string_agg(unit_name || '（' || quarters_valid || '/' || quarters_expected || '）', '、'
               order by unit_code) filter (where quarters_valid < quarters_expected) as units_short
from marts.completeness
where year = $year
