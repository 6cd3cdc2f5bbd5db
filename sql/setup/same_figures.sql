-- Whether a new valid version ($new, in the pass's temp table `batch`) carries exactly the
-- figures of the loaded version ($old): then it is recorded as a duplicate, not loaded again.
with
new_values as (select unit_code, indicator_code, value, level from batch where sha256 = $new),
old_values as (
    select unit_code, indicator_code, value, level from raw.submitted_values where sha256 = $old
),
differences as (
    (select * from new_values except select * from old_values)
    union all
    (select * from old_values except select * from new_values)
)
select count(*) = 0 as same_figures from differences
