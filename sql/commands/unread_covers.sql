-- Rejected files whose unit or quarter could not be read from the cover, and which could
-- therefore be $period's file of a unit `huizong remind` calls missing (status lists them).
select count(*) as files
from ops.imports
where status = 'rejected' and (unit_code is null or period is null)
    and ($period is null or period is null or period = $period)
