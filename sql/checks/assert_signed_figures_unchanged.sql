-- a locked year's figures are those signed (ops.signed_figures of its sign-off): a change of the
-- code, the catalog or the recorded values that would change one fails the pass, which then
-- publishes nothing. Undo the change, or unlock the year (the office's decision, recorded).
with

locked as (select * from ops.locked_years),
signed as (
    select figures.* from ops.signed_figures as figures
    join locked using (signoff_id)
),
in_marts as (
    select figures.* from marts.summary_figures as figures
    join locked using (year)
)

select
    coalesce(signed.year, in_marts.year) as year,
    coalesce(signed.indicator_code, in_marts.indicator_code) as indicator_code,
    coalesce(signed.slot, in_marts.slot) as slot,
    signed.value as signed_value,
    in_marts.value as value,
    'the figures of ' || coalesce(signed.year, in_marts.year) || ' are signed off: undo the change, '
        || 'or unlock the year (huizong unlock --year ' || coalesce(signed.year, in_marts.year)
        || ' --by NAME --reason TEXT)' as what_to_do
from signed
full join in_marts using (year, indicator_code, slot)
where signed.value is distinct from in_marts.value
    or signed.quarters_valid is distinct from in_marts.quarters_valid
    or signed.quarters_expected is distinct from in_marts.quarters_expected
    or signed.indicator_code is null
    or in_marts.indicator_code is null
order by year, indicator_code, slot
