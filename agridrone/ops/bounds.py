"""The makespan's lower bound, the day's bottleneck and the ``--advise`` search.

Lower bound of one field's makespan (s): the largest of

- **flying**: the busiest drone's airborne time plus its ground time before each sortie
  (swap and refill in parallel) plus its station's drives (a drone flies its own region's
  sorties one after another), and the total of all drones over their count;
- **charger time**: ``head + W / chargers + tail``, ``W`` the least charging time (s) the
  sorties' take-off charges leave to the chargers;
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
2. A sortie ``k`` takes off at some ``s_k`` with ``n_k <= s_k <= 1`` (a full pack flies as
   100 %) and draws at least ``d_k`` = what it draws from a full pack (the energy model
   draws less current at the higher voltage of a fuller pack), so it lands at most at
   ``s_k - d_k``.
3. The flights of each pack form a chain ``k_1 .. k_m`` (one per pack used, ``u`` of them,
   ``1 <= u <= min(packs, sorties)``); before each ``k_i`` but the first the pack goes
   from at most ``s_{i-1} - d_{i-1}`` to ``s_i``, taking at least ``T(s_{i-1} - d_{i-1},
   s_i)`` of one charger's time.
4. Charging time adds up along the SoC, so ``T(a, b) >= T(0, b) - T(0, a)`` always (equal
   when ``a <= b``, and ``T = 0`` otherwise). Summed over a chain and regrouped per flight:
   ``sum_{1 < i < m} [T(0, s_i) - T(0, s_i - d_i)] + T(0, s_m) - T(0, s_1 - d_1)``. As
   ``T(0, .)`` is convex (the current never rises with the SoC), ``T(0, s) - T(0, s - d)``
   is least at ``s = n``; so every flight counts ``c_k = T(n_k - d_k, n_k)``, a first one
   also ``-(c_k + T(0, 1 - d_k))`` and a last one also ``T(0, n_k - d_k)`` (a chain of
   one flight then counts ``T(0, n - d) - T(0, 1 - d) <= 0``, still a bound). Summed over
   the chains with the ``u`` least first terms and the ``u`` least last terms, least over
   ``u``, this ``W`` is at most the chargers' total busy time. The same sum with the SoC
   itself for ``T(0, .)`` gives the charge put in, ``E`` (times ``Q V``). Packs of several
   healths: each term takes its least over the healths that can fly the sortie.
5. No charge of 3 starts before the field's first landing, at least ``head`` = the least
   first-sortie ground plus airborne time after the start, and each ends at least ``tail``
   = swap time plus the shortest sortie's airborne time before the end. ``C`` chargers give
   at most ``C`` charger-seconds per second and the generator at most its power: hence
   both terms. Packs of several healths: each flight takes the least ``T(0, n_j)`` and the
   most ``T(0, l_i)`` over the healths that can fly it, which keeps every step a bound.

The bound leaves out what only lengthens a day (a hot pack cooling before it charges, the
separation waits, the generator shared by several chargers), so it stays below every
schedule; which pack flies which sortie is free in it, so it is reached only when the
spare full packs fly the sorties that would need the longest charge (the scheduler's
``save_full``). On the 111 ha bench field (3 drones, 12 packs, one 7.2 kW charger) the
charger is busy from the first landing to the last take-off: most of the gap to the bound
is the sorties flown before the first charge ends, which can only take full packs.
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


def _least_chain_sum(middle: list[float], first: list[float], last: list[float],
                     packs: int) -> float:
    """``sum(middle)`` plus the ``u`` least of ``first`` plus the ``u`` least of ``last``,
    least over ``u = 1 .. min(packs, len(middle))`` (step 4 of the module's proof)."""
    f = np.cumsum(np.sort(np.asarray(first)))
    ls = np.cumsum(np.sort(np.asarray(last)))
    u = np.arange(1, min(packs, len(middle)) + 1)
    return max(0.0, float(sum(middle) + (f[u - 1] + ls[u - 1]).min()))


def charging_bound_s(jobs: list[DroneJob], crew: Crew, spec: ChargeSpec, healths: list[float],
                     packs: int, landing: Callable[[SortieJob, float, float], float]) -> float:
    """The charging terms (s) of the module's proof: ``healths`` of the pool's packs
    (``packs`` of them), ``landing(job, health, soc)`` the SoC on landing."""
    flights = [j for d in jobs for j in d.sorties]
    if not flights:
        return 0.0
    i_lim = current_limit_a(spec, crew)

    def t0(h: float, soc: float) -> float:
        return charging.charge_time_s(spec, h, 0.0, soc, i_lim)

    terms: list[list[float]] = [[], [], [], [], [], []]
    for job in flights:
        fly = [(h, n, 1.0 - landing(job, h, 1.0)) for h in sorted(set(healths))
               if (n := job.need(h)) is not None]
        q = {h: spec.capacity_ah * h for h, _, _ in fly}
        for k, values in enumerate((
                [t0(h, n) - t0(h, n - d) for h, n, d in fly],  # time: each flight
                [-(t0(h, n) - t0(h, n - d) + t0(h, 1.0 - d)) for h, n, d in fly],  # a first
                [t0(h, n - d) for h, n, d in fly],  # a last
                [d * q[h] for h, n, d in fly],  # charge (Ah): each flight
                [-q[h] for h, n, d in fly],  # a first
                [(n - d) * q[h] for h, n, d in fly])):  # a last
            terms[k].append(min(values))
    work_s = _least_chain_sum(*terms[:3], packs)
    energy_wh = _least_chain_sum(*terms[3:], packs) * spec.charge_v
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


def plenty_packs(jobs: list[DroneJob], crew: Crew, spec: ChargeSpec,
                 landing: Callable[[SortieJob, float, float], float]) -> int:
    """Packs (new ones) that keep every drone supplied while one recharges: ``drones x (1 +
    recharge / cycle) + 1``, rounded up, with the median recharge (s, from a sortie's landing
    to its own take-off charge at the fastest current) and the median cycle (airborne plus
    ground time, s). With this many, the day is within 10 % of its lower bound on the bench
    fields."""
    flights = [j for d in jobs for j in d.sorties if j.need(1.0) is not None]
    if not flights:
        return 1
    i_lim = current_limit_a(spec, crew)
    recharge = np.median([charging.charge_time_s(spec, 1.0, landing(j, 1.0, 1.0), j.need(1.0),
                                                 i_lim) for j in flights])
    cycle = np.median([j.time_s + ground_s(crew, j.load_l) for j in flights])
    return int(np.ceil(len(jobs) * (1.0 + recharge / cycle))) + 1


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


def working_share(result: DayResult, drones: int) -> float:
    """Share (0..1) of the drones' day not spent waiting for a charged pack: airborne, swap,
    refill, the station's drives, separation waits and a drone done before the others count
    as working, since no pack or charger would shorten them."""
    span = max(result.end_s - result.start_s, 1e-9)
    return 1.0 - result.wait_pack_s / (drones * span)


def flying_share(result: DayResult, drones: int) -> float:
    """Share (0..1) of the drones' day spent airborne."""
    span = max(result.end_s - result.start_s, 1e-9)
    return sum(f.land_s - f.takeoff_s for f in result.flights) / (drones * span)
