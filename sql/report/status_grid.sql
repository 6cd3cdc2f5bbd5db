-- Who submitted what in the year ($year): one row per (submitting unit, quarter) with its status
-- and deadline (the report decides from huizong.clock whether a quarter without a valid file is
-- 未报 or not yet due)
select unit_name, period, status, due_by, unit_code, quarter, versions
from marts.submission_status
where year = $year
order by unit_code, period
