-- The years a summary can be written for: those with at least one valid unit-quarter
select distinct year from marts.completeness where quarters_valid > 0 order by year
