"""Which pack charges next, and how far: every pack at the station is matched to one of the
next sorties and charged only to the take-off charge that sortie needs.

The next sorties are taken in the order they are expected to take off (each drone's
remaining sorties one after another from when it is next free, airborne plus ground time
each). In that order each sortie gets, among the packs not yet matched that can fly it, the
one that is ready soonest (the least charging time to its need at the fastest current a
pack can get; ties: the emptier pack, so fuller ones stay for hungrier sorties). The pack's
goal is that sortie's need: charging past it, up the slow CV taper, would keep the charger
from the next pack. Packs left unmatched (more packs than sorties ahead) are topped up
towards full only when a charger has nothing more urgent to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agridrone.ops import charging
from agridrone.ops.charging import ChargeSpec
from agridrone.ops.packs import Pack


@dataclass(frozen=True)
class Ahead:
    """A sortie yet to fly: ``expected_s`` its expected take-off (s of the day), ``need``
    health -> smallest take-off SoC (None when that pack cannot fly it), ``sortie`` (drone,
    sortie index)."""

    expected_s: float
    need: Callable[[float], float | None]
    sortie: tuple[int, int]


@dataclass(frozen=True)
class Goal:
    """A pack's charge goal: ``rank`` (0..) of the sortie it is matched to in take-off
    order, the take-off SoC ``soc`` (0..1) that sortie needs on it, and the ``sortie``
    (drone, sortie index)."""

    rank: int
    soc: float
    sortie: tuple[int, int]


def match(ahead: list[Ahead], packs: list[Pack], spec: ChargeSpec, limit_a: float,
          flight_soc: Callable[[Pack], float]) -> dict[str, Goal]:
    """Pack id -> goal for the packs at the station (pool or charger) matched greedily to the
    sorties ``ahead`` (in expected take-off order); ``limit_a`` is the most current (A) a
    pack can get, ``flight_soc`` the SoC a pack flies as."""
    free = [p for p in packs if p.where in ("pool", "charger")]
    goals: dict[str, Goal] = {}
    for rank, sortie in enumerate(sorted(ahead, key=lambda a: a.expected_s)):
        best = None
        for p in free:
            need = sortie.need(p.health)
            if need is None:
                continue
            soc = flight_soc(p)
            wait = 0.0 if soc >= need else charging.charge_time_s(spec, p.health, soc, need,
                                                                  limit_a)
            key = (wait, soc, p.id)
            if best is None or key < best[0]:
                best = (key, p, need)
        if best is None:
            continue
        goals[best[1].id] = Goal(rank, best[2], sortie.sortie)
        free.remove(best[1])
        if not free:
            break
    return goals
