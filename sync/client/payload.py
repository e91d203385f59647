"""What a sealed change carries (the envelope's payload), by envelope version (sync.crypto.VERSIONS).

- Version 1: the change's canonical JSON text (store.ledger.changes.Change.body), as the hash chain covers it.
- Version 2 (sync protocol 2): the canonical JSON of the change without its operations, a newline, then the
  operations text either as the change log stores it compressed (`z` and the zlib stream) or as plain text (`t` and
  its UTF-8 bytes). The sending device seals the stored bytes as they are: nothing is decompressed, parsed or
  compressed again to send it (a 200k-invoice book's log is 63 MB compressed, 267 MB as text), and sealing stays
  deterministic (a change sent again after a lost answer seals to the same bytes).

Compressing before encrypting lets whoever sees an envelope's size (the server, or anyone on the way) learn how well
the change compressed, and with that a little about its content, to within the padding (sync.crypto.padded_size: a
power of two up to 64 KiB, then 64 KiB steps). The server already sees every envelope's padded size, its device and
its time; what compression adds is a hint of how repetitive the operations are, not what they say. No secret chosen
by one party is compressed together with text another party can choose and watch the size of (the attacks on
compressed TLS need both), since a device compresses only its own transaction.
"""
from __future__ import annotations

import json
import zlib

from store.ledger import changes
from store.ledger.changes import Change
from sync import crypto

# The longest operations text a device takes from one envelope, decompressed: a guard against a stream that
# inflates without end (a 200k-invoice demo's largest envelope is about 1 MB of text).
MAX_OPS_TEXT = 256 * 1024 * 1024


def head_text(change: Change) -> str:
    """The change's canonical JSON without its operations (the part of Change.body before them)."""
    return crypto.canonical({"device": change.device, "device_seq": change.device_seq, "hlc": change.hlc,
                             "actor": change.actor, "at": change.at}).decode()


def payload(version: int, change: Change, stored_ops: str | bytes, text: str) -> bytes:
    """The payload of `change` for an envelope of `version`; `stored_ops` is its change log's `ops` value and
    `text` the operations text it holds."""
    if version == 1:
        return change.body(text).encode()
    ops = b"z" + bytes(stored_ops) if isinstance(stored_ops, (bytes, bytearray, memoryview)) else b"t" + text.encode()
    return head_text(change).encode() + b"\n" + ops


def read(version: int, data: bytes) -> Change:
    """The change an opened payload of `version` holds; ValueError, KeyError, TypeError, RecursionError (JSON
    nested deeper than Python's stack) or MalformedChange when it is not one."""
    return read_sized(version, data)[0]


def read_sized(version: int, data: bytes) -> tuple[Change, int]:
    """`read`, and how long the change's text is (characters, its operations decompressed): what reading it took
    in memory, for a pull to hold a page of changes to a budget."""
    if version == 1:
        text = data.decode()
        body = changes.loads(text)
        ops = body["ops"]
    elif version == 2:
        head, newline, rest = data.partition(b"\n")
        if not newline or rest[:1] not in (b"z", b"t"):
            raise ValueError("not a version 2 payload")
        body = json.loads(head)
        text = _inflate(rest[1:]) if rest[:1] == b"z" else rest[1:].decode()
        ops = changes.loads(text)
        if not isinstance(ops, list):
            raise ValueError("operations must be a list")
    else:
        raise ValueError(f"envelope version {version!r}")
    return (Change(body["device"], body["device_seq"], body["hlc"], body["actor"], body["at"],
                   tuple(changes.Op.from_json(o) for o in ops)), len(text))


def _inflate(data: bytes) -> str:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_OPS_TEXT)
    except zlib.error:
        raise ValueError("the operations do not decompress") from None
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise ValueError("the operations are longer than this device takes, cut short or followed by other bytes")
    return text.decode()

