-- grain: one row per (figure, contributing value); key: (year, indicator_code, slot,
-- value_indicator_code, unit_code, period). A figure is a (year, indicator_code, slot) of
-- marts.summary_figures, or slot 1 of an indicator of marts.county_totals without a summary
-- figure. Its rows are the values it is made of, each with the file, sheet and cell it came
-- from: flows every quarter of the year, stocks, flags and levels the submitter's latest valid
-- quarter. Counted figures list only what they count: V05 the villages at 1, V13 slot 1 the
-- villages and T18 the towns with a yearly value > 0, V07 slot n the villages (V07) and towns
-- (T19) at level 全国 (1), 省级 (2), 市级 (3), 县级 (4). For every indicator, the values of slot 1
-- add up to its marts.county_totals value (units left out contribute 0).
with

unit_quarter_values as (select * from marts.unit_quarter_values),
loaded as (select * from staging.stg_imports where status = 'loaded'),
levels as (select * from staging.stg_levels),

latest_quarter as (
    select unit_code as submitter_code, year, max(quarter) as latest_quarter
    from loaded
    group by all
),

-- the values the year's figures are made of
contributing as (
    select unit_quarter_values.*
    from unit_quarter_values
    join latest_quarter using (submitter_code, year)
    where counts_for_year(unit_quarter_values.kind, unit_quarter_values.quarter, latest_quarter.latest_quarter)
),

active_units as (
    select year, unit_code, indicator_code
    from contributing
    where indicator_code in ('V13', 'T18')
    group by all
    having sum(value) > 0
),

plain as (
    select contributing.indicator_code as figure_code, 1 as slot, contributing.*
    from contributing
    where kind <> 'level' and indicator_code not in ('V05', 'V13', 'T18')
),

ten_ones as (
    select 'V05' as figure_code, 1 as slot, contributing.*
    from contributing
    where indicator_code = 'V05' and value = 1
),

active as (
    select contributing.indicator_code as figure_code, 1 as slot, contributing.*
    from contributing
    semi join active_units using (year, unit_code, indicator_code)
),

reviews as (
    select 'V13' as figure_code, 2 as slot, contributing.*
    from contributing
    where indicator_code = 'V13'
),

civilized as (
    select 'V07' as figure_code, 5 - levels.level_rank as slot, contributing.*
    from contributing
    join levels using (level)
    where contributing.kind = 'level' and levels.level_rank > 0
),

lineage as (
    select * from plain
    union all select * from ten_ones
    union all select * from active
    union all select * from reviews
    union all select * from civilized
)

select
    year,
    figure_code as indicator_code,
    slot,
    indicator_code as value_indicator_code,
    unit_code,
    submitter_code,
    period,
    value,
    level,
    file_name,
    sha256,
    sheet,
    cell
from lineage
