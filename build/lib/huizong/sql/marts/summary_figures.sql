-- grain: one row per (year, indicator, slot); key: (year, indicator_code, slot). Every figure of
-- the annual work summary: slot n fills the n-th `**` of the indicator's summary_phrase
-- (indicators.csv), counting only the ** the template leaves for figures (not those it fills
-- with a name, such as 云岭 in **大讲堂**次). By default slot 1 is the county's yearly total; FORM.md's derived figures
-- replace it for the indicators below. An indicator with a phrase and no row here (T19, counted
-- with V07) fills nothing of its own. quarters_valid / quarters_expected: the completeness behind.
with

totals as (select * from marts.county_totals),
indicators as (select * from staging.stg_indicators where summary_phrase like '%**%'),
unit_year_values as (select * from intermediate.int_unit_year_values),
units as (select * from staging.stg_units),

derived_codes as (select * from (values ('V05'), ('V13'), ('T18'), ('V07'), ('T19')) as d(indicator_code)),

plain as (
    select totals.year, totals.indicator_code, 1 as slot, totals.value, '全县合计' as figure,
        totals.quarters_valid, totals.quarters_expected
    from totals
    join indicators using (indicator_code)
    where indicator_code not in (select indicator_code from derived_codes)
),

-- share of villages meeting 十个一: V05 villages at 1 over all villages of the registry,
-- a whole percent rounded down
ten_ones_share as (
    select year, indicator_code, 1 as slot,
        floor(100 * value / (select count(*) from units where unit_type = 'village')) as value,
        '达标村占登记村总数的百分比（向下取整）' as figure, quarters_valid, quarters_expected
    from totals where indicator_code = 'V05'
),

-- units active in the year: villages that held reviews (yearly V13 > 0), towns that held
-- touring lectures (yearly T18 > 0); unknown (null), like the total, when no town reported it
active_counts as (
    select year, indicator_code, count(*) as units
    from unit_year_values
    where indicator_code in ('V13', 'T18') and value > 0
    group by all
),

active_units as (
    select totals.year, totals.indicator_code, 1 as slot,
        case when totals.value is not null then coalesce(active_counts.units, 0) end as value,
        case totals.indicator_code when 'V13' then '全年有评议活动的村数' else '全年有巡回宣讲的镇数' end
            as figure,
        totals.quarters_valid, totals.quarters_expected
    from totals
    left join active_counts using (year, indicator_code)
    where totals.indicator_code in ('V13', 'T18')
),

-- the reviews themselves fill V13's second slot
reviews as (
    select year, indicator_code, 2 as slot, value, '全县合计' as figure, quarters_valid, quarters_expected
    from totals where indicator_code = 'V13'
),

-- civilized villages and towns (V07 with T19) per level, from 全国 (slot 1) down to 县级 (slot 4);
-- unknown (null) in a year in which no village or town reported a level (not 0 of each)
civilized as (
    select year, 'V07' as indicator_code, 5 - level_rank as slot,
        case when reported > 0 then units end as value,
        level || '文明村镇（村、镇合计）' as figure, quarters_valid, quarters_expected
    from (select *, sum(units) over (partition by year) as reported from marts.civilized_levels)
    where level_rank > 0
)

select * from plain
union all by name select * from ten_ones_share
union all by name select * from active_units
union all by name select * from reviews
union all by name select * from civilized
order by year, indicator_code, slot
