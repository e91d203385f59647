"""The encrypted file and the one write path: connection, schema and migrations, the change log, clocks, ids,
the Ledger (open, create, writing()) and backups."""
