"""The migration that keys the import log by 16 bytes instead of 64 hex characters: a ledger whose log an older
Duly wrote still recognises every row it imported, so importing the same file again adds nothing."""
from __future__ import annotations

import hashlib
import json

from store.files import importer
from store.ledger import schema
from store.ledger.ledger import Ledger
from store.write import customers
from tests.support.cli import PASSPHRASE

ROWS = "客户,日期,金额\nHD001,2026-01-10,100\nHD001,2026-01-10,100\n"  # two identical unnumbered invoices


def old_fingerprint(n: int) -> str:
    """What an older Duly logged for the n-th of those rows: the whole SHA-256, as hex text."""
    values = {"customer": "HD001", "date": "2026-01-10", "amount": 10000, "currency": "CNY", "due": "", "terms": "",
              "description": "", "number": ""}
    body = json.dumps({"kind": "invoices", "row": values, "n": n}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def test_rows_an_older_duly_logged_are_still_recognised_after_the_upgrade(tmp_path):
    path, src = tmp_path / "old.duly", tmp_path / "n.csv"
    src.write_text(ROWS, encoding="utf-8")
    with Ledger.create(path, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "HD001", "上海恒达贸易有限公司")
        assert importer.run(ledger, src, "invoices").count("add") == 2
        doc_ids = [r[0] for r in ledger.conn.execute("SELECT doc_id FROM import_log ORDER BY line")]
        # the log as a ledger written before the migration holds it: text keys, the whole digest in hex
        ledger.conn.execute("DROP TABLE import_log")
        schema._v5_import_log(ledger.conn)
        ledger.conn.executemany(
            "INSERT INTO import_log (fingerprint, kind, doc_table, doc_id, source, line, at) "
            "VALUES (?, 'invoices', 'invoices', ?, 'n.csv', ?, '2026-01-10T09:00:00+08:00')",
            [(old_fingerprint(n), doc_id, n + 1) for n, doc_id in enumerate(doc_ids, start=1)])
        ledger.conn.execute(f"PRAGMA user_version = {schema.MIGRATIONS.index(schema._v_import_log_binary_keys)}")
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert schema.version(ledger.conn) == schema.VERSION
        logged = ledger.conn.execute("SELECT fingerprint, doc_id, line FROM import_log ORDER BY line").fetchall()
        assert [tuple(r) for r in logged] == [(bytes.fromhex(old_fingerprint(n))[:16], doc_id, n + 1)
                                             for n, doc_id in enumerate(doc_ids, start=1)]
        again = importer.run(ledger, src, "invoices")
        assert (again.count("add"), again.count("skip")) == (0, 2)
        # the same two rows and a third identical one: only the third is new
        more = tmp_path / "n2.csv"
        more.write_text(ROWS + "HD001,2026-01-10,100\n", encoding="utf-8")
        third = importer.run(ledger, more, "invoices")
        assert (third.count("add"), third.count("skip")) == (1, 2)
        assert ledger.conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == 3
        assert ledger.conn.execute("SELECT count(*), count(DISTINCT fingerprint) FROM import_log").fetchone() == (3, 3)
        assert schema.migrate(ledger.conn) == schema.VERSION  # run again: nothing to do, nothing breaks
