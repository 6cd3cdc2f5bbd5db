-- every unit and indicator code in the loaded values is in the registry and the catalog
select distinct v.unit_code, v.indicator_code
from raw.submitted_values as v
left join raw.units as u using (unit_code)
left join raw.indicators as i using (indicator_code)
where u.unit_code is null or i.indicator_code is null
