-- grain: one row per unit of the registry (county, towns, villages, departments); key: unit_code.
-- A unit exists from `opened` to `closed` (null: since always, still); one merged into another or
-- renamed names its `successor_code`, and `lineage_code` follows successors to the unit as it is
-- now (itself, for a unit still open): a merged village's history reads under its successor's code.
with recursive

units as (
    select
        unit_code,
        unit_name,
        unit_type,
        nullif(parent_code, '') as parent_code,
        nullif(village_type, '') as village_type,
        nullif(cast(opened as varchar), '') as opened,
        nullif(cast(closed as varchar), '') as closed,
        nullif(cast(successor as varchar), '') as successor_code
    from raw.units
),

-- each unit's chain of successors, one step a row (the registry's loader refuses none that loops:
-- a successor must exist; the depth bound stops a loop a hand-edited warehouse could hold)
chain as (
    select unit_code, unit_code as lineage_code, successor_code, 0 as depth from units
    union all
    select chain.unit_code, units.unit_code, units.successor_code, chain.depth + 1
    from chain
    join units on units.unit_code = chain.successor_code
    where chain.depth < 20
),

lineage as (
    select unit_code, arg_max(lineage_code, depth) as lineage_code from chain group by unit_code
)

select units.*, lineage.lineage_code
from units
join lineage using (unit_code)
