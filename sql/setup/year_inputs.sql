-- grain: one row per year with a recorded version; key: year. What the marts built by year
-- (`incremental_by: year` in their YAML) may read of a year: its versions' ledger rows, whatever
-- their status, and their values. Their other inputs are the catalog's seeds, which
-- models_version covers (huizong/versions.py). A year's fingerprint changes when any of these
-- rows does (a version recorded, loaded, superseded or read again, a value changed); hash() is
-- DuckDB's 64-bit row hash, and the count, XOR and sum of them together make a change unseen
-- practically impossible.
with

versions as (select * from ops.imports where period is not null),

rows as (
    select period_year(period) as year, hash(versions) as h
    from versions
    union all
    select period_year(versions.period) as year, hash(submitted) as h
    from raw.submitted_values as submitted
    join versions using (sha256)
)

select year, count(*) || '-' || bit_xor(h) || '-' || sum(h) as fingerprint
from rows
group by year
