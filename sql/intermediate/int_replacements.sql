-- grain: one row per valid version that arrived after another valid version of the same (unit,
-- quarter), paired with the valid version just before it; key: new_sha256. A clerk reads a
-- correction as "this file replaced that one": each valid version against the one it followed, in
-- order of arrival, not against the winner that ops.imports.superseded_by points at (with three
-- versions A, B, C, superseded_by says C for both A and B; the clerk wants A -> B, then B -> C).
-- Rejected versions never replace anything (FORM.md), so they are not in the chain. The order of
-- arrival is the ledger's (CONTRACT.md "Time"): received_at, then first_seen_at, then file name,
-- then sha256, the order resolve_versions.sql reads backwards to find the newest version. The
-- ledger is read directly for first_seen_at, which staging does not carry.
with

versions as (
    select sha256, unit_code, period, status, file_name, received_at,
        coalesce(first_seen_at, imported_at) as first_seen_at
    from ops.imports
    where status in ('loaded', 'duplicate', 'superseded') and unit_code is not null and period is not null
),

chained as (
    select
        versions.*,
        row_number() over arrival as arrival,
        lag(sha256) over arrival as old_sha256,
        lag(file_name) over arrival as old_file,
        lag(received_at) over arrival as old_received_at,
        lag(status) over arrival as old_status
    from versions
    window arrival as (partition by unit_code, period
                       order by received_at, first_seen_at, file_name, sha256)
)

select
    unit_code,
    period,
    period_year(period) as year,
    cast(arrival - 1 as integer) as replacement,
    old_sha256,
    sha256 as new_sha256,
    old_file,
    file_name as new_file,
    old_received_at,
    received_at as replaced_at,
    old_status,
    status as new_status
from chained
where old_sha256 is not null
