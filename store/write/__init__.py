"""One module per document or record: each checks with store.rules and writes only through the ledger's tx."""
