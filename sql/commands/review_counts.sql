-- For `huizong status`: per submitting unit and quarter (limited to $period when given), how
-- many warnings of its version in force are in each review state; only units with warnings
-- awaiting the office (explained, open) or returned to the town; the latest quarters first.
select unit_code, unit_name, period,
    count(*) filter (where state = 'explained') as explained,
    count(*) filter (where state = 'open') as open,
    count(*) filter (where state = 'returned') as returned,
    count(*) filter (where state = 'accepted') as accepted
from marts.warning_reviews
where $period is null or period = $period
group by all
having count(*) filter (where state in ('explained', 'open', 'returned')) > 0
order by period desc, unit_code
