"""Hybrid logical clock: 48-bit milliseconds, 16-bit counter, node id (DESIGN §4).

Stamps are strings that sort in causal order: `{ms:012x}-{counter:04x}-{node}`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from store.errors import ClockSkew
from store.i18n import N_

MAX_DRIFT_MS = 5 * 60 * 1000


@dataclass(frozen=True, order=True)
class Stamp:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:012x}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> "Stamp":
        ms, counter, node = text.split("-", 2)
        return cls(int(ms, 16), int(counter, 16), node)


class Clock:
    """One per device; `now()` for local events, `observe()` for remote stamps."""

    def __init__(self, node: str, last: Stamp | None = None, wall=None):
        self.node = node
        self._wall = wall or (lambda: int(time.time() * 1000))
        self._last = last or Stamp(0, 0, node)
        self._lock = threading.Lock()

    def now(self) -> Stamp:
        with self._lock:
            wall = self._wall()
            if wall > self._last.ms:
                self._last = Stamp(wall, 0, self.node)
            else:
                self._last = Stamp(self._last.ms, self._last.counter + 1, self.node)
            return self._last

    def catch_up(self, seen: Stamp) -> None:
        """Never stamp below a stamp already accepted (no drift check: it is in the file already)."""
        with self._lock:
            if seen > self._last:
                self._last = Stamp(seen.ms, seen.counter, self.node)

    def observe(self, remote: Stamp, *, device: str | None = None) -> None:
        """Merge a remote stamp; refuse one from more than 5 minutes in the future."""
        with self._lock:
            wall = self._wall()
            if remote.ms - wall > MAX_DRIFT_MS:
                who = device or remote.node
                ahead = (remote.ms - wall) / 60000
                raise ClockSkew(N_("device {who}'s clock is {ahead} minutes ahead of this one; fix its clock and "
                                   "sync again"), who=who, ahead=format(ahead, '.0f'))
            top = max(self._last, Stamp(remote.ms, remote.counter, self.node), Stamp(wall, -1, self.node))
            self._last = Stamp(top.ms, max(top.counter, 0), self.node)
