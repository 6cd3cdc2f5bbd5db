-- The warnings of the versions in force with their review state, for `huizong review` and its
-- 退回说明: $period and $unit limit them (null: all), $states lists the states wanted, $cell
-- a sheet!cell (null: all; a bare cell like E12 matches it on any sheet). Ordered as a clerk
-- reads a workbook: by quarter, unit, sheet, row, then column.
select state, period, unit_code, unit_name, sheet, cell, village_code, village_name,
    indicator_code, indicator_name, measure_unit, value, message, explanation, explanation_cell,
    explanation_file_name, decision, office_note, decided_by, decided_at, file_name, sha256
from marts.warning_reviews
where ($period is null or period = $period)
  and ($unit is null or unit_code = $unit)
  and list_contains($states, state)
  and ($cell is null or sheet || '!' || cell = $cell or cell = $cell)
order by period, unit_code, sheet, cast(regexp_extract(cell, '\d+$') as integer),
    length(regexp_extract(cell, '^[A-Z]+')), cell, check_name
