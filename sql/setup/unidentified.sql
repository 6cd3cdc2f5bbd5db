-- Files rejected before they said who sent them or for which quarter: status can't place them.
select file_name, received_at, first_reason
from ops.imports
where unit_code is null or period is null
order by received_at
