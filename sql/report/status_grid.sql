-- Who submitted what in the year ($year): one row per (submitting unit, quarter) with its status
-- and deadline (the report decides from huizong.clock whether a quarter without a valid file is
-- 未报, 退回 (a version was rejected; one held `locked` is not) or not yet due)
select unit_name, period, status, due_by, unit_code, quarter, rejected_versions
from marts.submission_status
where year = $year
order by unit_code, period
