-- at most one version of a (unit, period) is in force
select unit_code, period, count(*) as n
from ops.imports where status = 'loaded'
group by all having count(*) > 1
