-- A `copy` arrival stands for a version the ledger holds (issue 28): one whose version is not
-- in ops.imports (its original went, changed or could not be kept before it was read) is
-- forgotten, so that the next pass finds that file unread and reads it as itself.
delete from ops.arrivals
where status = 'copy'
    and sha256 not in (select sha256 from ops.imports)
