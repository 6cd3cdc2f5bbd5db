-- The warnings on the figures of a year ($year) with their review state (marts.warning_reviews),
-- for the summary's data notes: the figure, where it is, and the town's and the office's reasons.
select state, unit_name, period, village_name, indicator_name, measure_unit, value, explanation,
    office_note
from marts.warning_reviews
where year = $year
order by period, unit_code, sheet, cast(regexp_extract(cell, '\d+$') as integer), cell
