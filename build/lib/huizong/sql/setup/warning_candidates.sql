-- The values of the batch's valid versions, with their period: what warnings.sql checks.
create or replace temp table warning_candidates as
select v.*, imports.period
from raw.submitted_values as v
join ops.imports as imports using (sha256)
where v.sha256 in (select sha256 from new_ledger where status = 'valid')
