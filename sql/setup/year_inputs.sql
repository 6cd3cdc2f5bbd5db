-- grain: one row per year with a loaded version; key: year. What the marts built by year
-- (`incremental_by: year` in their YAML) may read of a year: the ledger rows of its loaded
-- versions and their values. Their other inputs are the catalog's seeds, which models_version
-- covers (huizong/versions.py). A year's fingerprint changes when any of these rows does (a
-- version loaded, superseded or read again, a value changed); hash() is DuckDB's 64-bit row
-- hash, and the count, XOR and sum of them together make a change unseen practically impossible.
with

loaded as (select * from ops.imports where status = 'loaded'),

rows as (
    select cast(left(period, 4) as integer) as year, hash(loaded) as h
    from loaded
    union all
    select cast(left(loaded.period, 4) as integer) as year, hash(submitted) as h
    from raw.submitted_values as submitted
    join loaded using (sha256)
)

select year, count(*) || '-' || bit_xor(h) || '-' || sum(h) as fingerprint
from rows
group by year
