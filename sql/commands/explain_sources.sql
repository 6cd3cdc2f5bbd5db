-- huizong explain: every value behind a figure, with its unit, the town that submitted it (when
-- not the unit itself), the file, sheet and cell. Grain: one row per value of marts.figure_lineage.
select u.unit_name || ' ' || l.unit_code as unit,
    case when l.submitter_code <> l.unit_code then s.unit_name || ' ' || l.submitter_code end as "submitted by",
    l.value_indicator_code as indicator, l.period, coalesce(cast(l.value as varchar), l.level) as value,
    l.file_name, l.sheet || '!' || l.cell as cell, left(l.sha256, 12) as sha256
from marts.figure_lineage l
join staging.stg_units u on u.unit_code = l.unit_code
join staging.stg_units s on s.unit_code = l.submitter_code
where l.year = $year and l.indicator_code = $code and l.slot = $slot
order by l.submitter_code, l.unit_code, l.period, l.value_indicator_code
