-- every version that loaded came from a registered town or department, and every value it
-- carried belongs to that submitter or to one of its own villages. The marts join the registry,
-- so a stray code would vanish from them silently: it is caught here, on their inputs.
select 'ops.imports' as relation, imports.sha256, imports.unit_code
from ops.imports as imports
where imports.status <> 'rejected'
  and imports.unit_code not in (select unit_code from raw.units where unit_type in ('town', 'department'))
union all
select 'raw.submitted_values', values_.sha256, values_.unit_code
from raw.submitted_values as values_
join ops.imports as imports using (sha256)
left join raw.units as units on units.unit_code = values_.unit_code
where values_.unit_code <> imports.unit_code
  and (units.unit_type is distinct from 'village' or units.parent_code is distinct from imports.unit_code)
