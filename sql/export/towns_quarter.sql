-- 汇总表, 各镇 of a quarter: every town of the quarter, complete (1/1) when it has a valid
-- submission, its villages' and its own values summed. Grain: one row per town and indicator
-- (one row with a null indicator for a town without values).
with sums as (
    select submitter_code as unit_code, indicator_code, sum(value) as value
    from marts.unit_quarter_values
    where period = $period and kind <> 'level' group by all
),
towns as (
    select s.unit_code, s.unit_name, cast(s.status in ('on_time', 'late') as integer) as valid
    from marts.submission_status s join staging.stg_units u using (unit_code)
    where s.period = $period and u.unit_type = 'town'
)
select towns.unit_code, towns.unit_name, sums.indicator_code, sums.value, towns.valid, 1
from towns left join sums using (unit_code) order by towns.unit_code, sums.indicator_code
