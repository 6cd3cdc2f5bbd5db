"""The warehouse files, the ledger of versions, the SQL model runner, the versions of rules and models, the year locks."""
