-- FORM.md's warnings for new values (they never block a load), against each unit's history.
-- Expects a relation `warning_candidates` (sha256, period, unit_code, indicator_code, value,
-- sheet, cell): the values of the files being checked. History is every loaded version's
-- values of the same units plus the candidates themselves (a candidate wins over a loaded value
-- of its period). Cost grows with the candidates' units' history, not with the warehouse.
-- Each warning is worded here, from its rule's message in raw.rules (schemas/rules.py): the
-- placeholders {value} and {reference} (the median, or last quarter's value) are filled with the
-- numbers as the clerk sees them (21, not 21.00), after the location as problems.located writes it.
-- grain: one row per warning; the columns of ops.import_errors.
with

candidates as (
    select c.*, i.kind,
        period_index(c.period) as q
    from warning_candidates as c
    join raw.indicators as i using (indicator_code)
    where i.kind in ('flow', 'flag')
),

candidate_units as (select distinct unit_code, indicator_code from candidates),

loaded as (
    select imports.period, v.unit_code, v.indicator_code, v.value, 0 as is_candidate
    from raw.submitted_values as v
    join ops.imports as imports using (sha256)
    join candidate_units
        on candidate_units.unit_code = v.unit_code and candidate_units.indicator_code = v.indicator_code
    where imports.status = 'loaded'
),

history as (
    select *, period_index(period) as q
    from (
        select * from loaded
        union all
        select period, unit_code, indicator_code, value, 1 as is_candidate from candidates
    )
    qualify row_number() over (
        partition by period, unit_code, indicator_code order by is_candidate desc) = 1
),

-- for every quarter of a unit's history of a flow: the median and count of its earlier
-- quarters (a median over a growing window is this query's cost: flags need none)
earlier as (
    select unit_code, indicator_code, q, value,
        median(value) over earlier_quarters as earlier_median,
        count(*) over earlier_quarters as earlier_quarters
    from history
    join raw.indicators as i using (indicator_code)
    where i.kind = 'flow'
    window earlier_quarters as (
        partition by unit_code, indicator_code order by q
        rows between unbounded preceding and 1 preceding)
),

flow_spikes as (
    select c.sha256, c.sheet, c.cell, c.indicator_code, 'flow_spike' as check_name,
        c.value, e.earlier_median as reference
    from candidates as c
    join earlier as e using (unit_code, indicator_code, q)
    -- the factor is the rule's threshold (schemas/rules.py SPIKE_FACTOR)
    join raw.rules as r on r.rule_id = 'flow_spike' and r.variant = ''
    where c.kind = 'flow' and e.earlier_quarters >= 2 and e.earlier_median > 0
        and c.value > cast(r.threshold as decimal(9, 3)) * e.earlier_median  -- exact, as 5 * median was
),

flag_drops as (
    select c.sha256, c.sheet, c.cell, c.indicator_code, 'flag_dropped' as check_name,
        c.value, h.value as reference
    from candidates as c
    join history as h
        on h.unit_code = c.unit_code and h.indicator_code = c.indicator_code and h.q = c.q - 1
    where c.kind = 'flag' and c.value = 0 and h.value = 1
),

found as (
    select * from flow_spikes
    union all
    select * from flag_drops
),

-- numbers as text without trailing zeros: 21.00 -> 21, 0.50 -> 0.5
shown as (
    select *,
        regexp_replace(printf('%.6f', value::double), '\.?0+$', '') as value_text,
        regexp_replace(printf('%.6f', reference::double), '\.?0+$', '') as reference_text
    from found
),

-- a rule missing from raw.rules leaves message null: ledger.find_warnings refuses it
worded as (
    select s.sha256, s.sheet, s.cell, s.indicator_code, s.check_name, r.severity,
        concat_ws(' ', case when s.sheet <> '' and s.cell <> '' then s.sheet || '!' || s.cell
                            else nullif(s.sheet, '') end,
                  i.indicator_name || '（' || i.unit || '）')
        || ': '
        || replace(replace(r.message, '{value}', s.value_text), '{reference}', s.reference_text)
            as message
    from shown as s
    join raw.indicators as i using (indicator_code)
    left join raw.rules as r on r.rule_id = s.check_name and r.variant = ''
)

select sha256, sheet, cell, indicator_code, check_name, severity, message
from worded
order by sha256, sheet, cell
