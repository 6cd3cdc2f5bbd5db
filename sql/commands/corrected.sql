-- Whose figures were corrected, for `huizong status`: per unit and quarter, how many
-- replacements changed figures and how many cells they changed (marts.corrections); $period
-- limits it to one quarter.
select unit_code, unit_name, period, count(distinct new_sha256) as corrections, count(*) as cells_changed
from marts.corrections
where $period is null or period = $period
group by all
order by period, unit_code
