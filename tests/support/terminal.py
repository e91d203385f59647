"""A pseudo-terminal for a command: what it wrote there, read until it closes its side."""
from __future__ import annotations

import os


def read_until_closed(master: int) -> bytes:
    """Everything written to the terminal's other side, until every writer has closed it; closes master."""
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks)
