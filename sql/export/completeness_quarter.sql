-- 汇总表, 报送完整度 of a quarter. Grain: one row per submitting unit of marts.submission_status.
select unit_code, unit_name, period, status, first_valid_received_at, versions, rejected_versions
from marts.submission_status where period = $period order by unit_code
