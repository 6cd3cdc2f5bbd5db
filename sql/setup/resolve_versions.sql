-- Which version of each (unit, period) in `affected_keys` is in force (FORM.md): the newest valid
-- version's figures win. Of the final run of versions carrying those same figures, the earliest
-- is `loaded` and the later ones are its `duplicate`s; older valid versions are `superseded` by
-- it; `rejected` versions never take part. Newest: by received_at, then by when a pass first
-- saw it, then by file name (CONTRACT.md). Recomputed from all versions of the key, so the
-- answer is the same however often, and in whatever order, files are (re)imported.
-- A key of a locked year (ops.locked_years, huizong/signoff.py) keeps the statuses its versions
-- had at the sign-off (ops.signed_versions): what was in force stays in force, and every valid
-- version that came since is `locked`, held until the year is unlocked and resolved then.
-- grain: one row per valid version of an affected key; key: sha256
with

versions as (
    select imports.sha256, imports.unit_code, imports.period, imports.received_at,
        coalesce(imports.first_seen_at, imports.imported_at) as first_seen_at, imports.file_name
    from ops.imports as imports
    join affected_keys using (unit_code, period)
    where imports.status <> 'rejected'
),

figures as (
    select sha256,
        md5(string_agg(concat_ws('|', unit_code, indicator_code, value, level), ','
                       order by unit_code, indicator_code)) as fingerprint
    from raw.submitted_values
    where sha256 in (select sha256 from versions)
    group by sha256
),

ordered as (
    select versions.*, coalesce(figures.fingerprint, '') as fingerprint,
        row_number() over (partition by unit_code, period
                           order by received_at desc, first_seen_at desc, file_name desc, sha256 desc) as recency
    from versions
    left join figures using (sha256)
),

newest as (
    select unit_code, period, fingerprint as newest_fingerprint from ordered where recency = 1
),

-- the most recent version with other figures than the newest: the final run ends before it
boundary as (
    select ordered.unit_code, ordered.period, min(ordered.recency) as first_different
    from ordered
    join newest using (unit_code, period)
    where ordered.fingerprint <> newest.newest_fingerprint
    group by all
),

final_run as (
    select ordered.*
    from ordered
    left join boundary using (unit_code, period)
    where ordered.recency < coalesce(boundary.first_different, 2147483647)
),

winners as (
    select unit_code, period, arg_max(sha256, recency) as winner from final_run group by all
),

by_version_rules as (
    select
        ordered.sha256,
        period_year(ordered.period) as year,
        case
            when ordered.sha256 = winners.winner then 'loaded'
            when ordered.sha256 in (select sha256 from final_run) then 'duplicate'
            else 'superseded'
        end as status,
        case when ordered.sha256 = winners.winner then null else winners.winner end as superseded_by
    from ordered
    join winners using (unit_code, period)
)

select
    resolved.sha256,
    case when locked.year is null then resolved.status else coalesce(signed.status, 'locked') end as status,
    case when locked.year is null then resolved.superseded_by else signed.superseded_by end as superseded_by
from by_version_rules as resolved
left join ops.locked_years as locked using (year)
left join ops.signed_versions as signed
    on signed.signoff_id = locked.signoff_id and signed.sha256 = resolved.sha256
