-- grain: one row per warning on a figure of a version in force; key: (unit_code, period, sheet,
-- cell, check_name). Each warning with its state in the office's review (huizong review):
--   accepted   the latest decision is `accepted` and the figure is still the value accepted
--   returned   the latest decision is `returned` and no newer valid version of the quarter
--              arrived since (a pass first saw none after the decision)
--   explained  otherwise, if the version in force explains the cell in its 情况说明 sheet
--   open       otherwise
-- A warning is known by (unit, period, indicator, sheet, cell), never by a file: decisions in
-- ops.reviews outlive reruns and new versions. A resubmission with the same figures is a
-- `duplicate` of the version in force (resolve_versions.sql), so its explanations count as the
-- version in force's: the newest version of the two that explains a cell gives its explanation.
with

imports as (select * from ops.imports),
in_force as (select * from imports where status = 'loaded'),
units as (select * from staging.stg_units),
indicators as (select * from staging.stg_indicators),
submitted as (select * from staging.stg_submitted_values),

warnings as (
    select errors.sha256, errors.sheet, errors.cell, errors.indicator_code, errors.check_name,
        errors.message
    from ops.import_errors as errors
    join in_force using (sha256)
    where errors.severity = 'warning'
),

-- the warned figures: warnings on a cell that holds no value (a whole-file warning, or one on
-- the 情况说明 sheet itself) are not figures to review
figures as (
    select warnings.*, submitted.unit_code as value_unit_code, submitted.value,
        in_force.unit_code, in_force.period, in_force.file_name, in_force.received_at
    from warnings
    join submitted using (sha256, sheet, cell, indicator_code)
    join in_force using (sha256)
),

-- --- what the town says: the version in force and its duplicates ----------------------------
explaining_versions as (
    select in_force.sha256 as in_force_sha256, imports.sha256, imports.file_name, imports.received_at,
        coalesce(imports.first_seen_at, imports.imported_at) as first_seen_at
    from in_force
    join imports
        on imports.sha256 = in_force.sha256
        or (imports.status = 'duplicate' and imports.superseded_by = in_force.sha256)
),

explanation_rows as (
    select versions.in_force_sha256, ex.sheet, ex.cell, ex.explanation, ex.source_cell,
        versions.file_name,
        cast(regexp_extract(ex.source_cell, '\d+$') as integer) as source_row,
        dense_rank() over (
            partition by versions.in_force_sha256, ex.sheet, ex.cell
            order by versions.received_at desc, versions.first_seen_at desc, versions.file_name desc,
                versions.sha256 desc) as recency
    from ops.explanations as ex
    join explaining_versions as versions using (sha256)
),

explained as (
    select in_force_sha256 as sha256, sheet, cell,
        string_agg(explanation, '；' order by source_row) as explanation,
        string_agg(source_cell, ', ' order by source_row) as explanation_cell,
        any_value(file_name) as explanation_file_name
    from explanation_rows
    where recency = 1
    group by all
),

-- --- what the office decided -------------------------------------------------------------------
latest_decisions as (
    select *
    from ops.reviews
    qualify row_number() over (
        partition by unit_code, period, indicator_code, sheet, cell order by review_id desc) = 1
),

-- the last moment a valid version of each quarter was first seen by a pass
last_arrivals as (
    select unit_code, period, max(coalesce(first_seen_at, imported_at)) as last_seen_at
    from imports
    where status in ('loaded', 'duplicate')
    group by all
),

reviewed as (
    select figures.*,
        explained.explanation, explained.explanation_cell, explained.explanation_file_name,
        decisions.decision, decisions.note as office_note, decisions.decided_by, decisions.decided_at,
        decisions.value as decided_value,
        case
            when decisions.decision = 'accepted' and decisions.value is not distinct from figures.value
                then 'accepted'
            when decisions.decision = 'returned' and last_arrivals.last_seen_at <= decisions.decided_at
                then 'returned'
            when explained.explanation is not null then 'explained'
            else 'open'
        end as state
    from figures
    left join explained using (sha256, sheet, cell)
    left join latest_decisions as decisions
        using (unit_code, period, indicator_code, sheet, cell)
    left join last_arrivals using (unit_code, period)
)

select
    period_year(reviewed.period) as year,
    reviewed.period,
    reviewed.unit_code,
    submitters.unit_name,
    case when reviewed.value_unit_code <> reviewed.unit_code then reviewed.value_unit_code end
        as village_code,
    case when reviewed.value_unit_code <> reviewed.unit_code then holders.unit_name end as village_name,
    reviewed.indicator_code,
    indicators.indicator_name,
    indicators.measure_unit,
    reviewed.sheet,
    reviewed.cell,
    reviewed.check_name,
    reviewed.message,
    reviewed.value,
    reviewed.state,
    reviewed.explanation,
    reviewed.explanation_cell,
    reviewed.explanation_file_name,
    reviewed.decision,
    reviewed.office_note,
    reviewed.decided_by,
    reviewed.decided_at,
    reviewed.decided_value,
    reviewed.file_name,
    reviewed.sha256,
    reviewed.received_at
from reviewed
join units as submitters on submitters.unit_code = reviewed.unit_code
join units as holders on holders.unit_code = reviewed.value_unit_code
join indicators on indicators.indicator_code = reviewed.indicator_code
