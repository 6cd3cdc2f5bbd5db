-- every figure's completeness adds up that of the units that report it (marts.completeness): a
-- county total over all its reporters, a town total over the town, a year's civilized villages
-- and towns over the towns. Both count a (unit, quarter) valid when a valid version of it came.
with

completeness as (select * from marts.completeness),
indicators as (select * from staging.stg_indicators),
county_totals as (select * from marts.county_totals),
town_totals as (select * from marts.town_totals),
civilized_levels as (select * from marts.civilized_levels),

per_indicator as (
    select completeness.year, indicators.indicator_code,
        sum(completeness.quarters_valid) as quarters_valid,
        sum(completeness.quarters_expected) as quarters_expected
    from indicators
    join completeness
        on (indicators.reported_by = 'town' and completeness.unit_type = 'town')
        or indicators.reported_by = completeness.unit_code
    group by all
),

figures as (
    select 'county_totals' as mart, year, indicator_code, null as unit_code,
        quarters_valid, quarters_expected
    from county_totals
    union all
    select 'town_totals', year, indicator_code, unit_code, quarters_valid, quarters_expected
    from town_totals
    union all
    select distinct 'civilized_levels', year, 'V07', null, quarters_valid, quarters_expected
    from civilized_levels
),

expected as (
    select figures.*,
        coalesce(per_town.quarters_valid, per_indicator.quarters_valid) as units_valid,
        coalesce(per_town.quarters_expected, per_indicator.quarters_expected) as units_expected
    from figures
    left join per_indicator using (year, indicator_code)
    left join completeness as per_town
        on per_town.year = figures.year and per_town.unit_code = figures.unit_code
)

select * from expected
where quarters_valid is distinct from units_valid
   or quarters_expected is distinct from units_expected
