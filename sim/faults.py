"""Fault injection between the vehicle and its link: loss, duplication, latency, link drops.

Loss, duplication and latency act on whole MAVLink packets in both directions, drawn from a
random generator seeded by the vehicle's seed, so a run is repeatable for the same traffic.
Times are simulated seconds since the vehicle started.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    """What goes wrong on the link.

    loss_pct: chance (%) that a packet, either direction, is lost.
    duplicate_pct: chance (%) that a packet is delivered twice.
    latency_s: delay (simulated seconds) added to every packet, either direction.
    reboot_at_s: the vehicle reboots itself at this simulated time (as after a brown-out).
    drop_link_at_s, drop_link_for_s: the link goes dead at this time for this long: a TCP
    connection is closed when it starts; nothing passes either way until the window ends (a
    reconnect is accepted but stays silent until then).
    """

    loss_pct: float = 0.0
    duplicate_pct: float = 0.0
    latency_s: float = 0.0
    reboot_at_s: float | None = None
    drop_link_at_s: float | None = None
    drop_link_for_s: float = 0.0

    def link_down(self, now_s: float) -> bool:
        """True while the injected link drop is in effect."""
        return (self.drop_link_at_s is not None
                and self.drop_link_at_s <= now_s < self.drop_link_at_s + self.drop_link_for_s)


class FaultyPipe:
    """Applies loss, duplication and latency to packets going one way."""

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._faults = faults
        self._rng = rng
        self._queue: list[tuple[float, int, object]] = []
        self._counter = 0

    def put(self, packet: object, now_s: float) -> None:
        """Offer ``packet`` at ``now_s``; it may be dropped, doubled or delayed."""
        if self._faults.link_down(now_s):
            return
        if self._rng.random() * 100.0 < self._faults.loss_pct:
            return
        copies = 2 if self._rng.random() * 100.0 < self._faults.duplicate_pct else 1
        for _ in range(copies):
            self._counter += 1
            heapq.heappush(self._queue, (now_s + self._faults.latency_s, self._counter, packet))

    def take(self, now_s: float) -> list[object]:
        """Packets whose delivery time has come, in order."""
        out = []
        while self._queue and self._queue[0][0] <= now_s:
            out.append(heapq.heappop(self._queue)[2])
        return out

    def clear(self) -> None:
        """Drop everything in flight (the connection closed)."""
        self._queue.clear()
