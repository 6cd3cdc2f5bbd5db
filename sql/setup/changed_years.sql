-- grain: one row per year whose inputs (sql/setup/year_inputs.sql, as year_inputs_now) differ
-- from those the published marts built by year were built from (ops.year_inputs); key: year.
-- A year new, or gone from the ledger, is changed too.
select year
from year_inputs_now as now
full join ops.year_inputs as built using (year)
where now.fingerprint is distinct from built.fingerprint
