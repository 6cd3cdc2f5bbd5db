-- the civilized villages and towns of every level add up to the units that reported a level
with
per_year as (select year, sum(units) as units from marts.civilized_levels group by year),
reported as (
    select year, count(*) as units
    from intermediate.int_unit_year_values where kind = 'level' group by year
)
select per_year.year, per_year.units, reported.units as reported
from per_year
full join reported using (year)
where per_year.units is distinct from reported.units
