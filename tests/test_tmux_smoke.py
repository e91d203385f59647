"""The real `duly` in a real terminal (tmux): it draws a known customer, navigates, and quits on ctrl+q."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.tmux import Tmux, need_tmux
from tests.support.book import PASSPHRASE, make_book


def test_duly_draws_navigates_and_quits_in_tmux(tmp_path):
    need_tmux()
    ledger = make_book(tmp_path / "book.duly")
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    done = tmp_path / "exit-code"
    duly = Path(sys.executable).with_name("duly")
    command = (f"env DULY_LANG=en DULY_TODAY=2026-03-31 {duly} --ledger {ledger} --passphrase-file {secret}; "
               f"echo $? > {done}")
    tmux = Tmux(f"duly-test-{os.getpid()}")
    try:
        tmux.start(command)
        tmux.wait_for("Acme Trading Ltd")  # the dashboard's top overdue customers
        tmux("send-keys", "-t", "duly", "2")
        shown = tmux.wait_for("6 shown")  # the customer list (the dashboard names customers too)
        assert "深圳前海供应链管理有限公司" in shown
        tmux("send-keys", "-t", "duly", "/")
        # keys already queued for the list would not follow the focus: wait until the search has it
        tmux.wait_for("New customer", gone=True)
        tmux("send-keys", "-t", "duly", "-l", "GZ")
        tmux.wait_for("1 shown")
        tmux("send-keys", "-t", "duly", "Enter")  # leave the search for the list...
        tmux.wait_for("New customer")
        tmux("send-keys", "-t", "duly", "Enter")  # ...and open the one customer
        tmux.wait_for("Customer GZ003")
        tmux("send-keys", "-t", "duly", "C-q")
        assert tmux.wait_until_gone(), "duly did not quit on ctrl+q"
        assert done.read_text().strip() == "0"
    finally:
        tmux.kill()


def test_duly_in_chinese_draws_chinese_titles_and_aligned_columns_in_tmux(tmp_path):
    """The same app with DULY_LANG=zh: the title and the list speak Chinese, and a table whose names mix Chinese
    (two cells a character) and Latin letters keeps its next column straight."""
    from rich.cells import cell_len

    ledger = make_book(tmp_path / "book.duly")
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    duly = Path(sys.executable).with_name("duly")
    tmux = Tmux(f"duly-zh-{os.getpid()}")
    try:
        tmux.start(f"env DULY_LANG=zh DULY_TODAY=2026-03-31 {duly} --ledger {ledger} --passphrase-file {secret}")
        tmux.wait_for("Duly 应收账款")
        tmux.wait_for("逾期最多的客户")
        tmux("send-keys", "-t", "duly", "2")
        shown = tmux.wait_for("已显示 6 个")
        assert "搜索编码、名称、税号或拼音" in shown and "n 新建客户" in shown
        rows = [line for line in shown.splitlines() if line.strip()[:6].strip() in
                ("ACME", "BJ001", "EU01", "GZ003", "SH002", "SZ004")]
        assert len(rows) == 6, shown
        currency_at = {cell_len(row[:row.index(cur)]) for row in rows for cur in ("CNY", "USD", "EUR") if cur in row}
        assert len(currency_at) == 1, shown  # 北京华信科技有限公司 and Acme Trading Ltd end where the column does
        tmux("send-keys", "-t", "duly", "C-q")
        assert tmux.wait_until_gone(), "duly did not quit on ctrl+q"
    finally:
        tmux.kill()
