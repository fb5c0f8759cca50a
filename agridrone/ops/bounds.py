"""The makespan's lower bound, the day's bottleneck and the ``--advise`` search.

Lower bound of one field's makespan (s): the largest of

- **flying**: the busiest drone's airborne time plus its ground time before each sortie
  (swap and refill in parallel) plus its station's drives (a drone flies its own region's
  sorties one after another), and the total of all drones over their count;
- **charger time**: ``head + W / chargers + tail``;
- **generator energy**: ``head + E / (generator kW x efficiency) + tail``.

*Proof of the charging terms.* Every schedule of the scheduler's rules (a pack flies only
when it holds the sortie's take-off charge ``n_j`` of the planner's energy model; a pack is
on one charger or in one drone, never both; a charger holds one pack; the ground time of a
sortie starts when its pack is chosen) satisfies:

1. A pack never charges faster than ``r(s) = min(I_lim, k (1 - s))``, with ``I_lim`` the
   smaller of one charger's and the whole generator's DC current (generator sharing only
   lowers it). So charging from ``a`` to ``b`` takes at least ``T(a, b)``
   (:func:`agridrone.ops.charging.charge_time_s` at ``I_lim``), however it is split into
   sessions, and it puts in ``(b - a) Q`` (Ah) of charge.
2. A sortie ``i`` takes off with at most a full pack (flown as 100 %), so it lands at most
   at ``l_i``, its landing SoC from full (the energy model's landing SoC rises with the
   take-off SoC).
3. On each pack, every flight but its first of the field follows another flight of the
   same pack, and every flight but its last precedes one: the flights form chains, one per
   pack used (``u`` of them, ``1 <= u <= min(packs, sorties)``). Between a flight ``i`` and
   the next flight ``j`` of its pack, the pack goes from at most ``l_i`` to at least
   ``n_j``, taking at least ``T(l_i, n_j)`` of one charger's time.
4. Charging time adds up along the SoC: ``T(0, b) = T(0, a) + T(a, b)`` for ``a <= b``,
   and ``T(a, b) = 0`` for ``b <= a``; so ``T(a, b) >= T(0, b) - T(0, a)`` always. Summing
   3 over the chains, ``W = sum_{j not first} T(0, n_j) - sum_{i not last} T(0, l_i)``
   is at most the chargers' total busy time; it is least when the firsts are the ``u``
   flights of largest ``T(0, n_j)`` and the lasts those of smallest ``T(0, l_i)``, and the
   bound takes the least over ``u``. In the same way the charge put in is at least
   ``E = V Q (sum_{j not first} n_j - sum_{i not last} l_i)``. A first flight uses the
   charge its pack starts with: counted as free.
5. No charge of 3 starts before the field's first landing, at least ``head`` = the least
   first-sortie ground plus airborne time after the start, and each ends at least ``tail``
   = swap time plus the shortest sortie's airborne time before the end. ``C`` chargers give
   at most ``C`` charger-seconds per second and the generator at most its power: hence
   both terms. Packs of several healths: each flight takes the least ``T(0, n_j)`` and the
   most ``T(0, l_i)`` over the healths that can fly it, which keeps every step a bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agridrone.ops import charging
from agridrone.ops.charging import ChargeSpec
from agridrone.ops.scheduler import Crew, DayResult, DroneJob, SortieJob

IDLE_SHARE_LIMIT = 0.10  # drones waiting more than this share of the day for packs
BUSY_SHARE_LIMIT = 0.85  # chargers busier than this are the limit


def ground_s(crew: Crew, load_l: float) -> float:
    """Ground time (s) before a sortie: swap and refill in parallel."""
    return max(crew.swap_time_s, load_l / crew.refill_l_min * 60.0)


@dataclass(frozen=True)
class Bound:
    """Lower bounds of a field's makespan (s): ``flying_s``, ``charging_s`` (the larger of the
    charger-time and generator-energy terms) and their max."""

    flying_s: float
    charging_s: float

    @property
    def makespan_s(self) -> float:
        """The larger of the two bounds (s)."""
        return max(self.flying_s, self.charging_s)


def current_limit_a(spec: ChargeSpec, crew: Crew) -> float:
    """The most current (A) one pack can get: one charger's or the whole generator's DC
    output at the charge voltage."""
    return min(crew.charger_kw, crew.generator_kw * spec.efficiency) * 1000.0 / spec.charge_v


def flying_bound_s(jobs: list[DroneJob], crew: Crew) -> float:
    """The flying term (s): the busiest drone's work, and all drones' work over their count."""
    work = [sum(j.time_s + ground_s(crew, j.load_l) + j.move_s for j in d.sorties) for d in jobs]
    return max(max(work), sum(work) / len(jobs))


def _least_chain_sum(costs: list[float], credits: list[float], packs: int) -> float:
    """``sum(costs) - sum(credits)`` with the ``u`` largest costs and the ``u`` smallest
    credits left out, least over ``u = 1 .. min(packs, len(costs))``."""
    c = np.sort(np.asarray(costs))[::-1]
    r = np.sort(np.asarray(credits))
    u = np.arange(1, min(packs, len(c)) + 1)
    totals = (c.sum() - np.cumsum(c)[u - 1]) - (r.sum() - np.cumsum(r)[u - 1])
    return max(0.0, float(totals.min()))


def charging_bound_s(jobs: list[DroneJob], crew: Crew, spec: ChargeSpec, healths: list[float],
                     packs: int, landing: Callable[[SortieJob, float, float], float]) -> float:
    """The charging terms (s) of the module's proof: ``healths`` of the pool's packs
    (``packs`` of them), ``landing(job, health, soc)`` the SoC on landing."""
    flights = [j for d in jobs for j in d.sorties]
    if not flights:
        return 0.0
    i_lim = current_limit_a(spec, crew)
    costs, credits, n_ah, l_ah = [], [], [], []
    for job in flights:
        fly = [(h, n) for h in sorted(set(healths)) if (n := job.need(h)) is not None]
        lands = [(h, landing(job, h, 1.0)) for h, _ in fly]
        costs.append(min(charging.charge_time_s(spec, h, 0.0, n, i_lim) for h, n in fly))
        credits.append(max(charging.charge_time_s(spec, h, 0.0, s, i_lim) for h, s in lands))
        n_ah.append(min(n * spec.capacity_ah * h for h, n in fly))
        l_ah.append(max(s * spec.capacity_ah * h for h, s in lands))
    work_s = _least_chain_sum(costs, credits, packs)
    energy_wh = _least_chain_sum(n_ah, l_ah, packs) * spec.charge_v
    head = min(ground_s(crew, d.sorties[0].load_l) + d.sorties[0].time_s
               for d in jobs if d.sorties)
    tail = crew.swap_time_s + min(j.time_s for j in flights)
    if work_s <= 0.0 and energy_wh <= 0.0:
        return 0.0
    gen_w = crew.generator_kw * 1000.0 * spec.efficiency
    return head + max(work_s / crew.chargers, energy_wh / gen_w * 3600.0) + tail


def lower_bound(jobs: list[DroneJob], crew: Crew, spec: ChargeSpec, healths: list[float],
                landing: Callable[[SortieJob, float, float], float]) -> Bound:
    """Lower bound of one field flown with packs of ``healths`` (one entry per pack)."""
    return Bound(flying_bound_s(jobs, crew),
                 charging_bound_s(jobs, crew, spec, healths, len(healths), landing))


def bottleneck(result: DayResult, drones: int, crew: Crew) -> str:
    """What limits the day: "packs", "charger power", "refilling" or "flying"."""
    span = max(result.end_s - result.start_s, 1e-9)
    idle = result.wait_pack_s / (drones * span)
    busy = result.charger_busy_s / (crew.chargers * span)
    if idle > IDLE_SHARE_LIMIT:
        limited = result.generator_limited_s / span
        return "charger power" if busy > BUSY_SHARE_LIMIT or limited > 0.5 else "packs"
    ground = sum(f.takeoff_s - f.ground_s for f in result.flights)
    refill = sum(max(0.0, (f.takeoff_s - f.ground_s) - crew.swap_time_s) for f in result.flights)
    if ground > 0 and refill > 0.5 * ground:
        return "refilling"
    return "flying"


def flying_share(result: DayResult, drones: int) -> float:
    """Share (0..1) of the drones' day spent airborne."""
    span = max(result.end_s - result.start_s, 1e-9)
    return sum(f.land_s - f.takeoff_s for f in result.flights) / (drones * span)
