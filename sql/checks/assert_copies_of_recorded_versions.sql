-- every arrival recorded as a copy is a copy of a version the ledger holds
select inbox_path, sha256 from ops.arrivals
where status = 'copy' and sha256 not in (select sha256 from ops.imports)
