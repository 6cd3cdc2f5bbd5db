-- Append the office's decision on the warnings of one unit and quarter to ops.reviews. Expects
-- the temp table `decided_cells` (sheet, cell): the warned cells decided, found beforehand in
-- marts.warning_reviews. Each cell's indicator, version in force (sha256) and figure come from
-- the mart; review_id continues the ledger's numbering.
insert into ops.reviews
select (select coalesce(max(review_id), 0) from ops.reviews)
        + row_number() over (order by w.sheet, cast(regexp_extract(w.cell, '\d+$') as integer), w.cell),
    w.unit_code, w.period, w.indicator_code, w.sheet, w.cell, $decision, $note, $decided_by,
    $decided_at, w.sha256, w.value
from (
    select distinct unit_code, period, indicator_code, sheet, cell, sha256, value
    from marts.warning_reviews
    where unit_code = $unit and period = $period
) as w
join decided_cells using (sheet, cell)
