-- every version ends a pass with one of the ledger's five statuses
select sha256, status from ops.imports
where status not in ('loaded', 'rejected', 'superseded', 'duplicate', 'locked')
