-- every file version appears once in the ledger
select sha256, count(*) as n from ops.imports group by sha256 having count(*) > 1
