-- Which version of each (unit, period) in `affected_keys` is in force (FORM.md): the newest valid
-- version's figures win. Of the final run of versions carrying those same figures, the earliest
-- is `loaded` and the later ones are its `duplicate`s; older valid versions are `superseded` by
-- it; `rejected` versions never take part. Newest: by received_at, then by when a pass first
-- saw it, then by file name (CONTRACT.md). Recomputed from all versions of the key, so the
-- answer is the same however often, and in whatever order, files are (re)imported.
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
)

select
    ordered.sha256,
    case
        when ordered.sha256 = winners.winner then 'loaded'
        when ordered.sha256 in (select sha256 from final_run) then 'duplicate'
        else 'superseded'
    end as status,
    case when ordered.sha256 = winners.winner then null else winners.winner end as superseded_by
from ordered
join winners using (unit_code, period)
