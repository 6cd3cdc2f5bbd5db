-- 汇总表, 报送完整度 of a year. Grain: one row per submitting unit of marts.completeness.
select unit_code, unit_name, quarters_valid, quarters_expected,
    quarters_on_time, quarters_late, quarters_rejected, quarters_missing
from marts.completeness where year = $year order by unit_code
