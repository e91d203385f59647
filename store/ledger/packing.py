"""How an envelope's operations are stored (the change log's `ops` column): the canonical JSON text that the hash
chain covers, or, from COMPRESS_FROM characters of it, that text compressed with zlib (a BLOB), which took a
200k-invoice demo's change log from 267 MB to under a quarter of it. The chain, `verify` and what sync sends are the
text either way: `unpack` gives it back exactly. Small envelopes (one person's edit) stay text, as before."""
from __future__ import annotations

import os
import zlib
from concurrent.futures import Future, ThreadPoolExecutor

COMPRESS_FROM = 1024
ZLIB_LEVEL = 1  # 4.4x at 150 MB/s; level 6 made 5.1x at 63 MB/s (4 s more CPU for a 200k demo)


def pack(text: str) -> str | bytes:
    """What the `ops` column holds for an envelope's canonical operations text."""
    if len(text) < COMPRESS_FROM:
        return text
    packed = zlib.compress(text.encode(), ZLIB_LEVEL)
    return packed if len(packed) < len(text) else text


_packer: ThreadPoolExecutor | None = None


def _forget_packer() -> None:
    """In a forked child: the parent's packing thread is not there, so work handed to its executor would never be
    done; the child makes its own when it first needs one."""
    global _packer
    _packer = None


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_packer)


def pack_soon(text: str) -> Future:
    """`pack` on a second thread (one for the process): zlib lets go of Python's lock, so the caller goes on
    meanwhile (a bulk write posts its next rows). A text too short to compress is its own value at once."""
    global _packer
    if len(text) < COMPRESS_FROM:
        done: Future = Future()
        done.set_result(text)
        return done
    if _packer is None:
        _packer = ThreadPoolExecutor(1, thread_name_prefix="duly-pack")
    return _packer.submit(pack, text)


def unpack(stored: str | bytes) -> str:
    """The canonical operations text of a stored `ops` value; ValueError when a BLOB is not one."""
    if isinstance(stored, str):
        return stored
    try:
        return zlib.decompress(stored).decode()
    except (zlib.error, UnicodeDecodeError, TypeError):
        raise ValueError("the stored envelope is damaged") from None


def sql_unpack(stored):
    """`unpack` as the SQL function ops_text(ops) (store.ledger.db registers it): NULL for a damaged value."""
    try:
        return unpack(stored) if stored is not None else None
    except ValueError:
        return None
