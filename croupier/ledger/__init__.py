"""The double-entry ledger: schema, migrations, posting engine, balances, reconciliation."""
