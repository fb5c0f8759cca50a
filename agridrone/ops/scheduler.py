"""The day's event simulation: drones fly their regions' sorties in order, each on a pack
charged enough for it; packs charge on a few chargers fed by one generator.

Rules, applied at every event (a landing, a station's drive ending, a pack reaching its
goal, full or the charge a waiting drone's sortie needs, a hot pack cooling to the charging
limit) and, while a drone waits for separation, every ``step_s`` seconds:

1. A landed pack goes back to the pool, hot. Every pack at the station is matched to one
   of the next sorties and given that sortie's take-off charge as its goal
   (:mod:`agridrone.ops.charge_plan`). Packs below their goal take the chargers in the order
   of their sorties and stay on until they reach it; a charger left over tops up another
   pack towards full (the emptiest first), which a pack below its goal displaces. A pack
   is plugged in only when cool enough.
2. A drone whose next sortie flies from its station's next stop first stays on the ground
   while the station drives there (packs keep charging: the chargers and generator stay).
   A drone on its pad takes the next sortie when some pack (in the pool or on a charger)
   holds the charge the planner's energy model asks for it at that pack's health (the
   fullest such pack), and when no sortie of another drone flying at the same time passes
   within the separation distance (plus a timing margin) of this one at the same moment,
   positions timed along the paths at the planned speeds. It takes the pack matched to
   that sortie if it is ready, else the emptiest pack that is (on a day the chargers limit,
   a sortie whose pack is still charging waits for it: the full packs are kept for the
   hungriest sorties, :mod:`agridrone.ops.charge_plan`). The refill starts when the
   drone is back on its pad, the swap when its pack is chosen; it takes off when both are
   done.
3. Generator power goes first to the packs below their goal, then to the top-ups, each
   group sharing by water-filling (none gets more than its charger, or than its CC-CV law
   takes); each pack's charge then follows
   :func:`agridrone.ops.charging.advance` exactly over the step.

A pack is on a charger or in a drone, never both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry.base import BaseGeometry

from agridrone.errors import AgridroneError
from agridrone.ops import charging
from agridrone.ops.charge_plan import Ahead, Goal, match
from agridrone.ops.charging import ChargeSpec
from agridrone.ops.packs import Interval, Pack

MAX_DAY_S = 7 * 86400.0
EPS_S = 1e-6
TIMING_MARGIN_M = 10.0  # kept beyond the separation: the along-path timing is an estimate
SAMPLE_S = 0.5  # two airborne drones' distance is checked at this interval
V_NOMINAL_PER_CELL = 3.7


@dataclass(frozen=True)
class SortieJob:
    """One planned sortie of a drone. index: the sortie's number in its region's plan;
    time_s: airborne time; load_l: litres to fill; energy_wh: energy drawn from a full pack;
    need: health -> smallest take-off SoC (0..1), None when that pack cannot fly it;
    footprint: the flown path (local metres of the day's frame); path_xy and path_t: the
    path's vertices and the seconds after take-off when they are passed; stop: the station's
    stop (1..) it flies from; move_s: seconds the station drives to that stop before this
    sortie (0 but for a stop's first sortie)."""

    index: int
    time_s: float
    load_l: float
    energy_wh: float
    need: Callable[[float], float | None]
    footprint: BaseGeometry
    path_xy: np.ndarray
    path_t: np.ndarray
    stop: int = 1
    move_s: float = 0.0


@dataclass
class DroneJob:
    """A drone: its number (1..), MAVLink system id, pad (local metres) and sorties in order."""

    number: int
    sysid: int
    pad_xy: np.ndarray
    sorties: list[SortieJob]


@dataclass(frozen=True)
class Crew:
    """The ground side: chargers (count, DC output kW each), generator (kW electrical),
    swap time (s), refill pump (L/min), separation (m), air temperature (°C), step (s): how
    often a drone waiting for separation tries again (every other change is an event)."""

    chargers: int
    charger_kw: float
    generator_kw: float
    swap_time_s: float
    refill_l_min: float
    separation_m: float
    air_c: float
    step_s: float = 10.0


@dataclass
class Flight:
    """A sortie as flown: drone, sortie, ground start, take-off and landing times (s), pack
    and its SoC at take-off and landing."""

    drone: int
    sortie: int
    ground_s: float
    takeoff_s: float
    land_s: float
    pack: str
    soc_takeoff: float
    soc_landing: float
    job: SortieJob = field(repr=False)


@dataclass(frozen=True)
class Drive:
    """A drone's station driving to its next stop from ``start_s`` to ``end_s`` (s); the
    drone waits on the ground meanwhile."""

    drone: int
    stop: int
    start_s: float
    end_s: float


@dataclass
class DayResult:
    """What the simulation produced: flights in take-off order, packs with their history,
    start and end (s), charger busy seconds (sum over chargers), seconds drones waited for
    a charged pack and for separation, seconds the generator limited charging."""

    flights: list[Flight]
    packs: list[Pack]
    start_s: float
    end_s: float
    charger_busy_s: float
    wait_pack_s: float
    wait_separation_s: float
    generator_limited_s: float
    charged_wh: float
    drives: list[Drive] = field(default_factory=list)


def position(job: SortieJob, s: np.ndarray) -> np.ndarray:
    """Positions (n, 2 local metres) ``s`` seconds after take-off along the sortie's path."""
    return np.column_stack([np.interp(s, job.path_t, job.path_xy[:, 0]),
                            np.interp(s, job.path_t, job.path_xy[:, 1])])


def closest_m(job: SortieJob, takeoff_s: float, other: Flight) -> float:
    """Least distance (m) between ``job`` taking off at ``takeoff_s`` and ``other`` while both
    are airborne (on the ground each is on its pad, away from the other's paths)."""
    t0 = max(takeoff_s, other.takeoff_s)
    t1 = min(takeoff_s + job.time_s, other.land_s)
    if t1 <= t0:
        return np.inf
    ts = np.append(np.arange(t0, t1, SAMPLE_S), t1)
    d = position(job, ts - takeoff_s) - position(other.job, ts - other.takeoff_s)
    return float(np.min(np.hypot(d[:, 0], d[:, 1])))


def share_power(demands_w: list[float], supply_w: float) -> list[float]:
    """Water-filling: each demand gets at most itself, the rest shared equally (W)."""
    grant = [0.0] * len(demands_w)
    left = supply_w
    order = sorted(range(len(demands_w)), key=lambda i: demands_w[i])
    for n, i in enumerate(order):
        fair = left / (len(order) - n)
        grant[i] = min(demands_w[i], fair)
        left -= grant[i]
    return grant


def plug_chargers(t_s: float, packs: list[Pack], goals: dict[str, Goal], chargers: int,
                  spec: ChargeSpec, flight_soc: Callable[[Pack], float]) -> dict[str, Goal]:
    """Put packs on and off the ``chargers`` at ``t_s`` by rule 1; returns the goals of the
    packs still below them (pack id -> goal)."""
    s_full = charging.full_soc(spec)
    station = [p for p in packs if p.where in ("pool", "charger")]
    below = {p.id: goals[p.id] for p in station
             if p.id in goals and flight_soc(p) < goals[p.id].soc}
    # packs below their goal: the ones charging stay on, then by their sortie's order
    first = sorted((p for p in station if p.id in below),
                   key=lambda p: (p.where != "charger", below[p.id].rank))
    # top-ups: the ones charging stay on (until displaced), then the emptiest
    rest = sorted((p for p in station if p.id not in below and p.soc < s_full - 1e-9),
                  key=lambda p: (p.where != "charger", p.soc, p.id))
    want = [p for p in first + rest
            if p.where == "charger" or p.temp_c <= spec.max_temp_c][:chargers]
    for p in station:
        if p.where == "charger" and p not in want:
            p.unplug(t_s)
    for p in want:
        if p.where != "charger":
            p.plug(t_s)
    return {p.id: below[p.id] for p in want if p.id in below}


def choose_pack(fit: list[Pack], goals: dict[str, Goal], sortie: tuple[int, int],
                flight_soc: Callable[[Pack], float], save_full: bool = False) -> Pack | None:
    """The pack a drone takes for ``sortie`` (drone, index) among the ready ones ``fit``: the
    one matched to it, else the emptiest matched to no sortie, else the emptiest; with
    ``save_full``, a sortie matched to a pack still charging waits for it rather than take
    another sortie's (None)."""
    mine = [p for p in fit if p.id in goals and goals[p.id].sortie == sortie]
    spare = [p for p in fit if p.id not in goals]
    if save_full and not (mine or spare) and any(g.sortie == sortie for g in goals.values()):
        return None
    pool = mine or spare or fit
    if not pool:
        return None
    return min(pool, key=lambda p: (flight_soc(p), p.where == "charger", p.id))


def simulate_day(drones: list[DroneJob], packs: list[Pack], spec: ChargeSpec, crew: Crew,
                 start_s: float, landing: Callable[[SortieJob, float, float], float],
                 save_full: bool = False) -> DayResult:
    """Fly every sortie of ``drones`` from ``start_s`` (s of the day) with ``packs`` (changed
    in place); ``landing(job, health, soc)`` gives the SoC on landing. ``save_full`` (for a
    day the chargers limit): full packs are kept for the hungriest sorties ahead and a drone
    waits for the pack charging for its sortie (rule 2)."""
    t = start_s
    next_sortie = {d.number: 0 for d in drones}
    busy_until = {d.number: start_s for d in drones}
    flying: dict[int, Flight] = {}  # drone -> its committed flight
    flights: list[Flight] = []
    result = DayResult([], packs, start_s, start_s, 0.0, 0.0, 0.0, 0.0, 0.0)
    conflict_cache: dict[tuple, bool] = {}
    moved: set[tuple[int, int]] = set()  # (drone, sortie) whose station drive is done
    limit_m = crew.separation_m + TIMING_MARGIN_M
    s_full = charging.full_soc(spec)
    free_since = {d.number: start_s for d in drones}  # when the drone was last back on its pad
    limit_a = min(crew.charger_kw, crew.generator_kw * spec.efficiency) * 1000.0 / spec.charge_v

    def flight_soc(pack: Pack) -> float:
        """The pack's SoC for flying: a charge the charger ended (CV termination) is the
        pack's full charge, 100 % as the planner's sorties assume."""
        return 1.0 if pack.soc >= s_full - 1e-9 else pack.soc

    def ahead(now: float) -> list[Ahead]:
        """The sorties not yet flown, each drone's from when it is next free, at most one
        per pack."""
        out = []
        for d in drones:
            when = max(busy_until[d.number], now)
            for job in d.sorties[next_sortie[d.number]:next_sortie[d.number] + len(packs)]:
                when += job.move_s + max(crew.swap_time_s, job.load_l / crew.refill_l_min * 60.0)
                out.append(Ahead(when, job.need, (d.number, job.index)))
                when += job.time_s
        return sorted(out, key=lambda a: a.expected_s)[:len(packs)]

    def conflicts(a: int, job: SortieJob, takeoff: float) -> bool:
        for b, other in flying.items():
            if b == a:
                continue
            key = (a, job.index, b, other.sortie)
            if key not in conflict_cache:  # paths that never come close never conflict
                conflict_cache[key] = job.footprint.distance(other.job.footprint) < limit_m
            if conflict_cache[key] and closest_m(job, takeoff, other) < limit_m:
                return True
        return False

    while True:
        # 1. landings
        for number in sorted(flying):
            f = flying[number]
            if f.land_s <= t + EPS_S:
                pack = next(p for p in packs if p.id == f.pack)
                pack.where = "pool"
                pack.soc = f.soc_landing
                pack.history.append(Interval("flight", f.takeoff_s, f.land_s, f.soc_takeoff,
                                             f.soc_landing, f.drone, f.sortie))
                free_since[number] = f.land_s
                del flying[number]
        # 2. chargers
        goals = match(ahead(t), packs, spec, limit_a, flight_soc, save_full)
        urgent = plug_chargers(t, packs, goals, crew.chargers, spec, flight_soc)
        # 3. dispatch
        waiting_pack = waiting_sep = 0
        wanted: list[SortieJob] = []  # sorties of drones waiting for a pack
        for drone in drones:
            n = drone.number
            if n in flying or next_sortie[n] >= len(drone.sorties) or busy_until[n] > t + EPS_S:
                continue
            job = drone.sorties[next_sortie[n]]
            if job.move_s > 0 and (n, job.index) not in moved:  # the station drives first
                moved.add((n, job.index))
                result.drives.append(Drive(n, job.stop, t, t + job.move_s))
                busy_until[n] = free_since[n] = t + job.move_s
                continue
            ready = [p for p in packs if p.where in ("pool", "charger")]
            fit = [p for p in ready
                   if (need := job.need(p.health)) is not None and flight_soc(p) >= need]
            pack = choose_pack(fit, goals, (n, job.index), flight_soc, save_full)
            if pack is None:
                waiting_pack += 1
                wanted.append(job)
                continue
            ground = max(crew.swap_time_s, job.load_l / crew.refill_l_min * 60.0)
            takeoff = max(t + crew.swap_time_s, free_since[n] + ground)
            if conflicts(n, job, takeoff):
                waiting_sep += 1
                continue
            if pack.where == "charger":
                pack.unplug(t)
            pack.where = "drone"
            soc_land = landing(job, pack.health, flight_soc(pack))
            flight = Flight(n, job.index, t, takeoff, takeoff + job.time_s, pack.id,
                            flight_soc(pack), soc_land, job)
            flying[n] = flight
            flights.append(flight)
            next_sortie[n] += 1
            busy_until[n] = flight.land_s
        if not flying and all(next_sortie[d.number] >= len(d.sorties) for d in drones):
            break
        # 4. next event
        t_next = t + crew.step_s if waiting_sep else np.inf
        for p in packs:  # a hot pack cools to the charging limit
            if p.where == "pool" and p.temp_c > spec.max_temp_c:
                t_next = min(t_next, t + max(charging.cooling_time_s(spec, p.temp_c, crew.air_c),
                                             EPS_S))
        if flying:
            t_next = min(t_next, min(f.land_s for f in flying.values()))
        driving = [b for b in busy_until.values() if b > t + EPS_S]
        if driving:
            t_next = min(t_next, min(driving))
        charging_now = [p for p in packs if p.where == "charger"]
        if not flying and not driving and not charging_now and not any(
                p.temp_c > spec.max_temp_c for p in packs if p.where == "pool"):
            stuck = next(d for d in drones if next_sortie[d.number] < len(d.sorties))
            raise AgridroneError(
                f"no pack can ever fly sortie {stuck.sorties[next_sortie[stuck.number]].index} "
                f"of drone {stuck.number}: more packs or healthier ones needed")
        v = spec.charge_v
        charging_now.sort(key=lambda p: p.id not in urgent)  # packs below their goal first
        limits = [min(crew.charger_kw * 1000.0 / v,
                      charging.current_a(spec, p.health, p.soc, 1e9)) for p in charging_now]
        demand_ac = [i * v / spec.efficiency for i in limits]
        first = sum(p.id in urgent for p in charging_now)
        grant_ac = share_power(demand_ac[:first], crew.generator_kw * 1000.0)
        grant_ac += share_power(demand_ac[first:], crew.generator_kw * 1000.0 - sum(grant_ac))
        # a pack reaching its goal or full ends the step early (exact times)
        currents = [g * spec.efficiency / v for g in grant_ac]
        for p, i in zip(charging_now, currents, strict=True):
            if i > 0:
                goal = urgent[p.id].soc if p.id in urgent else s_full
                t_goal = charging.charge_time_s(spec, p.health, p.soc, goal, i)
                t_next = min(t_next, t + max(t_goal, EPS_S))
                for job in wanted:  # or the charge a waiting sortie needs
                    need = job.need(p.health)
                    if need is not None and flight_soc(p) < need:
                        t_need = charging.charge_time_s(spec, p.health, p.soc, need, i)
                        t_next = min(t_next, t + max(t_need, EPS_S))
        if not np.isfinite(t_next):
            t_next = t + crew.step_s
        dt = t_next - t
        if sum(demand_ac) > crew.generator_kw * 1000.0 + 1e-6:
            result.generator_limited_s += dt
        # 5. advance packs
        for p, i in zip(charging_now, currents, strict=True):
            p.soc, ah = charging.advance(spec, p.health, p.soc, dt, i)
            result.charged_wh += ah * v
            mean_i = ah * 3600.0 / dt if dt > 0 else 0.0
            r = spec.resistance_ohm / p.health
            p.temp_c = charging.heated(spec, p.temp_c, crew.air_c, mean_i * mean_i * r, dt)
            result.charger_busy_s += dt
            if p.soc >= s_full - 1e-9:
                p.unplug(t_next)
        for p in packs:
            if p.where == "pool":
                p.temp_c = charging.heated(spec, p.temp_c, crew.air_c, 0.0, dt)
        for f in flying.values():
            if f.takeoff_s < t_next and t < f.land_s:
                pack = next(p for p in packs if p.id == f.pack)
                amps = f.job.energy_wh * 3600.0 / (f.job.time_s * V_NOMINAL_PER_CELL * spec.cells)
                fly_dt = min(t_next, f.land_s) - max(t, f.takeoff_s)
                pack.temp_c = charging.heated(spec, pack.temp_c, crew.air_c,
                                              amps * amps * spec.resistance_ohm / pack.health,
                                              fly_dt)
        result.wait_pack_s += waiting_pack * dt
        result.wait_separation_s += waiting_sep * dt
        t = t_next
        if t - start_s > MAX_DAY_S:
            raise AgridroneError("the schedule does not end within a week; check the inputs")
    for p in packs:
        if p.where == "charger":
            p.unplug(t)
    result.flights = flights
    result.end_s = t
    return result
