-- FORM.md's warnings for new values (they never block a load), against each unit's history.
-- Expects a relation `warning_candidates` (sha256, period, unit_code, indicator_code, value,
-- sheet, cell): the values of the files being checked. History is every loaded version's
-- values plus the candidates themselves (a candidate wins over a loaded value of its period).
-- grain: one row per warning; reference is the median (flow_spike) or last quarter's value.
with

candidates as (
    select c.*, i.kind
    from warning_candidates as c
    join raw.indicators as i using (indicator_code)
    where i.kind in ('flow', 'flag')
),

loaded as (
    select imports.period, v.unit_code, v.indicator_code, v.value, 0 as is_candidate
    from raw.submitted_values as v
    join ops.imports as imports using (sha256)
    where imports.status = 'loaded'
),

history as (
    select period, unit_code, indicator_code, value
    from (
        select * from loaded
        union all
        select period, unit_code, indicator_code, value, 1 as is_candidate from candidates
    )
    qualify row_number() over (
        partition by period, unit_code, indicator_code order by is_candidate desc) = 1
),

-- quarters counted as integers so that "last quarter" of 2019Q1 is 2018Q4
indexed_history as (
    select *, cast(left(period, 4) as integer) * 4 + cast(right(period, 1) as integer) as q
    from history
),

indexed_candidates as (
    select *, cast(left(period, 4) as integer) * 4 + cast(right(period, 1) as integer) as q
    from candidates
),

flow_spikes as (
    select c.sha256, c.sheet, c.cell, c.indicator_code, 'flow_spike' as check_name,
        c.value, median(h.value) as reference
    from indexed_candidates as c
    join indexed_history as h
        on h.unit_code = c.unit_code and h.indicator_code = c.indicator_code and h.q < c.q
    where c.kind = 'flow'
    group by c.sha256, c.sheet, c.cell, c.indicator_code, c.value
    having count(distinct h.q) >= 2 and median(h.value) > 0 and c.value > 5 * median(h.value)
),

flag_drops as (
    select c.sha256, c.sheet, c.cell, c.indicator_code, 'flag_dropped' as check_name,
        c.value, h.value as reference
    from indexed_candidates as c
    join indexed_history as h
        on h.unit_code = c.unit_code and h.indicator_code = c.indicator_code and h.q = c.q - 1
    where c.kind = 'flag' and c.value = 0 and h.value = 1
)

select * from flow_spikes
union all
select * from flag_drops
order by sha256, sheet, cell
