-- Enter a batch of file versions into the build's ledger. Expects the relations `new_ledger`
-- (rows for ops.imports, status 'valid' or 'rejected') and `new_values` (rows for
-- raw.submitted_values). A version recorded before (a rerun) is replaced whole, keeping nothing
-- of its earlier verdict. Leaves `batch_files` and `affected_keys` (every (unit, period) whose
-- versions must be re-decided, see resolve_versions.sql) for the statements that follow.
-- Sets are joined, never passed as lists: the cost follows the batch, not the warehouse.
create temp table batch_files as select sha256 from new_ledger;

create temp table affected_keys as
select distinct unit_code, period from ops.imports
where sha256 in (select sha256 from batch_files) and unit_code is not null;

delete from raw.submitted_values where sha256 in (select sha256 from batch_files);
delete from ops.import_errors where sha256 in (select sha256 from batch_files);
delete from ops.imports where sha256 in (select sha256 from batch_files);

insert into ops.imports by name select * from new_ledger;
insert into raw.submitted_values by name select * from new_values;

insert into affected_keys
select distinct unit_code, period from new_ledger where status = 'valid';
