-- The year's figures of the summary ($year), one per (indicator, slot); see marts.summary_figures
select indicator_code, slot, value, quarters_valid, quarters_expected, figure
from marts.summary_figures
where year = $year
order by indicator_code, slot
