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

When the chargers, not the flying, limit the day (``save_full``), a full pack is worth the
charger time its sortie would otherwise need, which grows with the sortie's take-off charge:
the full packs then go first to the hungriest sorties ahead (highest need), and the rest of
the sorties are matched as above. Flying a full pack on a light sortie would leave its
hungry one to charge through the slow CV taper.
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
          flight_soc: Callable[[Pack], float], save_full: bool = False) -> dict[str, Goal]:
    """Pack id -> goal for the packs at the station (pool or charger) matched greedily to the
    sorties ``ahead`` (in expected take-off order); ``limit_a`` is the most current (A) a
    pack can get, ``flight_soc`` the SoC a pack flies as; ``save_full``: full packs first
    to the hungriest sorties (module docstring)."""
    free = [p for p in packs if p.where in ("pool", "charger")]
    goals: dict[str, Goal] = {}
    order = sorted(ahead, key=lambda a: a.expected_s)
    taken: set[int] = set()
    if save_full:
        full = sorted((p for p in free if flight_soc(p) >= 1.0), key=lambda p: (p.health, p.id))
        hungry = sorted(range(len(order)), key=lambda r: (-_top_need(order[r], full), r))
        for rank in hungry:
            if not full:
                break
            fits = [p for p in full if order[rank].need(p.health) is not None]
            if not fits:
                continue
            goals[fits[0].id] = Goal(rank, order[rank].need(fits[0].health), order[rank].sortie)
            full.remove(fits[0])
            free.remove(fits[0])
            taken.add(rank)
    for rank, sortie in enumerate(order):
        if rank in taken:
            continue
        if not free:
            break
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
    return goals


def _top_need(sortie: Ahead, packs: list[Pack]) -> float:
    """The highest take-off SoC ``sortie`` needs on any of ``packs`` that can fly it (-1 when
    none can)."""
    needs = [n for p in packs if (n := sortie.need(p.health)) is not None]
    return max(needs, default=-1.0)
