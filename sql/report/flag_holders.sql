-- The villages whose flag $code (e.g. V04 核心价值观宣传长廊) is 1 in the year ($year) by the year
-- rule (their town's latest valid quarter of the year), each with since when it has held the
-- flag without a break (the first quarter after its latest 0 up to that quarter): the longest
-- held first, then by code. The summary names the first of them.
with

year_values as (
    select unit_code, latest_quarter
    from intermediate.int_unit_year_values
    where year = $year and indicator_code = $code and value = 1
),

history as (
    select current_values.unit_code, quarter_index(current_values.year, current_values.quarter) as q,
        current_values.value
    from intermediate.int_current_values as current_values
    join year_values using (unit_code)
    where current_values.indicator_code = $code
        and quarter_index(current_values.year, current_values.quarter) <= quarter_index($year, year_values.latest_quarter)
),

last_zero as (select unit_code, max(q) as q from history where value = 0 group by all),

held as (
    select history.unit_code, min(history.q) as since_q
    from history
    left join last_zero using (unit_code)
    where history.q > coalesce(last_zero.q, -1)
    group by all
)

select held.unit_code, units.unit_name, index_period(held.since_q) as since
from held
join staging.stg_units as units using (unit_code)
order by held.since_q, held.unit_code
