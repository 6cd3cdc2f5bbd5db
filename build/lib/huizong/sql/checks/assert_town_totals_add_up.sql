-- the towns' totals add up to the county's for every indicator that only towns report
with
towns as (
    select year, indicator_code, sum(value) as value
    from marts.town_totals group by all
)
select county.year, county.indicator_code, county.value, towns.value as towns_value
from marts.county_totals as county
join towns using (year, indicator_code)
where county.value is distinct from towns.value
