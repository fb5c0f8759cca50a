"""Cut a spray route into sorties that each fit one battery and one tank.

The route is walked leg by leg. Before a leg is taken, the flight is simulated to its
end and back to the station (dead-head, descent, landing); the leg is kept only when the
landing keeps the battery reserve, the loaded cell voltage never falls below the
cut-off, and the tank does not run dry. Otherwise the sortie ends there - inside a spray
pass if part of it still fits (a breakpoint) - and the next sortie takes off with a fresh
battery and a full tank, flies from the station to where spraying stopped, and goes on.
Runs of whole legs are walked in a numba kernel (:meth:`EnergyModel.fly_legs`) on tables
of every leg's pieces and of the way home from its end, built once per route.
Distances are metres in the field's local frame; times seconds; liquid litres.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agridrone.drone import DroneProfile
from agridrone.energy import (
    WALK_CUT,
    WALK_END,
    WALK_TAIL,
    EnergyModel,
    FlightState,
    Pieces,
    RouteTables,
    check_flow,
    litres_per_metre,
)
from agridrone.errors import AgridroneError
from agridrone.route import Leg, polyline_length, polyline_lengths

Connect = Callable[[np.ndarray, np.ndarray], np.ndarray]

MIN_SPRAY_PIECE_M = 1.0  # a breakpoint closer than this to the pass start is not worth a trip
SEARCH_TOL_M = 0.25  # breakpoint search resolution
STATION_TOL_M = 0.5  # the route must start and end this close to the station
LIQUID_EPS_L = 1e-6  # a tank holding less is dry
LOAD_TOL_M = 5.0  # the best tank load is found to within this much spraying (m) ...
LOAD_TOL_TANK = 0.002  # ... or this fraction of the tank, whichever is more


@dataclass(frozen=True)
class Sortie:
    """One flight on one battery and one tank, station to station.

    legs: the legs flown (approach, spray and turn legs, return), local metres.
    distance_m, spray_m: flown and sprayed length (m); time_s: airborne time incl. takeoff
    and landing (s); liquid_l: litres sprayed; load_l: litres to fill before takeoff (the
    walk loads less than a full tank when the battery, not the tank, ends the sortie:
    a lighter drone sprays farther); energy_wh: energy drawn from the battery;
    soc_landing_pct: state of charge on landing (%); min_cell_v: lowest loaded cell voltage
    (V); breakpoint: None when the sortie ends at the end of a pass, else
    ``{"pass": pass index, "xy": [x, y]}`` where spraying stopped inside that pass.
    """

    legs: list[Leg]
    distance_m: float
    spray_m: float
    time_s: float
    liquid_l: float
    load_l: float
    energy_wh: float
    soc_landing_pct: float
    min_cell_v: float
    breakpoint: dict | None

    def as_dict(self) -> dict:
        """The sortie's figures (not its legs) as JSON-ready values, rounded for plan.json."""
        bp = self.breakpoint
        return {
            "distance_m": round(self.distance_m, 2),
            "spray_m": round(self.spray_m, 2),
            "time_s": round(self.time_s, 1),
            "liquid_l": round(self.liquid_l, 3),
            "load_l": round(self.load_l, 3),
            "energy_wh": round(self.energy_wh, 1),
            "soc_landing_pct": round(self.soc_landing_pct, 2),
            "min_cell_v": round(self.min_cell_v, 3),
            "breakpoint": None if bp is None else {
                "pass": bp["pass"], "xy": [round(bp["xy"][0], 3), round(bp["xy"][1], 3)]},
        }


@dataclass(frozen=True)
class SortiePlan:
    """The route cut into sorties.

    lower_bound_sorties: max(ceil(liquid / tank), ceil(route energy / usable energy per
    battery)), where the route energy is the whole route flown once with the tank refilled
    whenever it runs dry. total_time_s includes ``swap_time_s`` per battery swap.
    """

    sorties: list[Sortie]
    lower_bound_sorties: int
    total_liquid_l: float
    total_energy_wh: float
    total_time_s: float
    swap_time_s: float

    @property
    def deadhead_m(self) -> float:
        """Pump-off flight over all sorties (m): approaches, turns, returns."""
        return sum(s.distance_m - s.spray_m for s in self.sorties)

    def as_dict(self) -> dict:
        """Top-level figures and per-sortie figures as JSON-ready values."""
        return {
            "sortie_count": len(self.sorties),
            "lower_bound_sorties": self.lower_bound_sorties,
            "total_liquid_l": round(self.total_liquid_l, 3),
            "total_energy_wh": round(self.total_energy_wh, 1),
            "total_time_s": round(self.total_time_s, 1),
            "deadhead_m": round(self.deadhead_m, 2),
            "swap_time_s": self.swap_time_s,
            "sorties": [s.as_dict() for s in self.sorties],
        }


def straight_connect(a_xy: np.ndarray, b_xy: np.ndarray) -> np.ndarray:
    """The straight segment from a to b as a (2, 2) array of local metres."""
    return np.array([a_xy, b_xy], dtype=np.float64)


def split_sorties(
    legs: list[Leg],
    station_xy,
    drone: DroneProfile,
    *,
    rate_l_ha: float,
    swath_m: float,
    speed_m_s: float,
    transit_speed_m_s: float,
    alt_m: float,
    temp_c: float = 25.0,
    field_elevation_m: float = 0.0,
    connect: Connect | None = None,
    swap_time_s: float = 90.0,
    breakpoint_lead_m: tuple[float, float] = (0.0, 0.0),
) -> SortiePlan:
    """Cut ``legs`` (a route from the station back to it) into battery- and tank-feasible sorties.

    rate_l_ha: application rate (L/ha); swath_m: swath width (m); speed_m_s: spraying
    speed; transit_speed_m_s: pump-off speed; alt_m: flight height above the field (m);
    temp_c: air and battery temperature (°C); field_elevation_m: field height above sea
    level (m); connect(a, b): transit polyline from a to b avoiding no-spray zones
    (default straight); swap_time_s: ground time per battery swap and refill (s);
    breakpoint_lead_m: the (lead-in, lead-out) lengths (m) flown pump-off along a pass cut
    at a breakpoint (the route's own leads, :mod:`agridrone.coverage.leads`): the sortie
    that stops spraying there flies the lead-out on over the unsprayed rest before it
    turns home, and the sortie that resumes there flies the lead-in over the sprayed part
    (or the pass's own lead-in) so that it crosses the breakpoint at spray speed; each is
    shorter where the pass and its own lead end sooner.
    Raises AgridroneError when the pump cannot deliver the flow, a speed exceeds the
    drone's, or part of the route cannot be reached from the station and back.
    """
    if not swap_time_s >= 0.0:
        raise AgridroneError(f"battery swap time must be 0 s or more, got {swap_time_s}")
    walker = _Walker(legs, station_xy, drone, rate_l_ha=rate_l_ha, swath_m=swath_m,
                     speed_m_s=speed_m_s, transit_speed_m_s=transit_speed_m_s, alt_m=alt_m,
                     temp_c=temp_c, field_elevation_m=field_elevation_m,
                     connect=connect or straight_connect, breakpoint_lead_m=breakpoint_lead_m)
    sorties = walker.walk()
    usable = walker.model.usable_energy_wh()
    lower_bound = max(math.ceil(walker.total_liquid_l / drone.tank_l - 1e-9),
                      math.ceil(walker.route_energy_wh() / usable - 1e-9), 1)
    total_time = sum(s.time_s for s in sorties) + swap_time_s * (len(sorties) - 1)
    return SortiePlan(
        sorties=sorties,
        lower_bound_sorties=lower_bound,
        total_liquid_l=sum(s.liquid_l for s in sorties),
        total_energy_wh=sum(s.energy_wh for s in sorties),
        total_time_s=total_time,
        swap_time_s=swap_time_s,
    )


def rehome_route(legs: list[Leg], station_xy, connect: Connect | None = None) -> list[Leg]:
    """The route with its leading and trailing transit legs replaced by ``connect`` paths
    from and to ``station_xy`` (local metres)."""
    connect = connect or straight_connect
    if not any(leg.kind == "spray" for leg in legs):
        raise AgridroneError("the route has no spray legs")
    spray = [i for i, leg in enumerate(legs) if leg.kind != "transit"]  # leads included
    station = np.asarray(station_xy, dtype=np.float64)
    first, last = legs[spray[0]], legs[spray[-1]]
    head = Leg("transit", _as_polyline(connect(station, first.xy[0])))
    tail = Leg("transit", _as_polyline(connect(last.xy[-1], station)))
    return [head, *legs[spray[0]:spray[-1] + 1], tail]


def choose_station(
    candidates_xy: np.ndarray,
    legs: list[Leg],
    drone: DroneProfile,
    *,
    rate_l_ha: float,
    swath_m: float,
    speed_m_s: float,
    transit_speed_m_s: float,
    alt_m: float,
    temp_c: float = 25.0,
    field_elevation_m: float = 0.0,
    connect: Connect | None = None,
    swap_time_s: float = 90.0,
    breakpoint_lead_m: tuple[float, float] = (0.0, 0.0),
) -> tuple[int, float]:
    """Index of the candidate station (rows of ``candidates_xy``, local metres) that gives the
    least total dead-head (pump-off flight, m) over all sorties, and that dead-head.

    The route is re-homed to each candidate (:func:`rehome_route`) and split; candidates
    from which the route cannot be flown are skipped. Ties go to the lowest index.
    """
    _check_settings(drone, rate_l_ha, swath_m, speed_m_s, transit_speed_m_s, alt_m)
    cands = np.asarray(candidates_xy, dtype=np.float64).reshape(-1, 2)
    best: tuple[int, float] | None = None
    for i, xy in enumerate(cands):
        route = rehome_route(legs, xy, connect)
        try:
            plan = split_sorties(route, xy, drone, rate_l_ha=rate_l_ha, swath_m=swath_m,
                                 speed_m_s=speed_m_s, transit_speed_m_s=transit_speed_m_s,
                                 alt_m=alt_m, temp_c=temp_c, field_elevation_m=field_elevation_m,
                                 connect=connect, swap_time_s=swap_time_s,
                                 breakpoint_lead_m=breakpoint_lead_m)
        except AgridroneError:
            continue
        if best is None or plan.deadhead_m < best[1]:
            best = (i, plan.deadhead_m)
    if best is None:
        raise AgridroneError(f"none of the {len(cands)} candidate stations can serve the route")
    return best


def cut_polyline(xy: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Split an (n, 2) polyline at arc length ``s`` metres (0 < s < length) into the part
    before and the part after; both contain the cut point."""
    if len(xy) == 2:  # a straight pass
        length = math.hypot(xy[1, 0] - xy[0, 0], xy[1, 1] - xy[0, 1])
        point = xy[0] + (s / length) * (xy[1] - xy[0])
        return np.array([xy[0], point]), np.array([point, xy[1]])
    seg = np.hypot(*np.diff(xy, axis=0).T)
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    k = int(np.searchsorted(cum, s, side="right")) - 1
    k = min(max(k, 0), len(seg) - 1)
    frac = (s - cum[k]) / seg[k] if seg[k] > 0 else 0.0
    point = xy[k] + frac * (xy[k + 1] - xy[k])
    before = np.vstack((xy[: k + 1], point))
    after = np.vstack((point, xy[k + 1:]))
    return before, after


def through_flags(legs: list[Leg], j: int) -> tuple[bool, bool]:
    """Whether leg ``j`` of ``legs`` is entered / left at the spray speed without a stop: a
    pass and its own lead-in or lead-out meet there (the energy model flies them through)."""
    def joined(a: int, b: int) -> bool:
        if a < 0 or b >= len(legs):
            return False
        first, second = legs[a], legs[b]
        return ({first.kind, second.kind} == {"spray", "lead"}
                and first.pass_index == second.pass_index
                and math.dist(first.xy[-1], second.xy[0]) <= STATION_TOL_M)
    return joined(j - 1, j), joined(j, j + 1)


def _check_settings(drone: DroneProfile, rate_l_ha: float, swath_m: float, speed_m_s: float,
                    transit_speed_m_s: float, alt_m: float) -> None:
    """Refuse (AgridroneError) a flow the pump cannot deliver, speeds beyond the drone's,
    a non-positive transit speed or flight height."""
    check_flow(rate_l_ha, swath_m, speed_m_s, drone.pump_max_l_min)
    if not transit_speed_m_s > 0.0:
        raise AgridroneError(f"transit speed must be positive, got {transit_speed_m_s}")
    for label, v in (("spray speed", speed_m_s), ("transit speed", transit_speed_m_s)):
        if v > drone.max_speed_m_s:
            raise AgridroneError(
                f"{label} {v:g} m/s exceeds the {drone.name} maximum of {drone.max_speed_m_s:g} m/s")
    if not alt_m > 0.0:
        raise AgridroneError(f"flight height must be positive, got {alt_m} m")


def _length(xy: np.ndarray) -> float:
    """Polyline length (m); a plain-float fast path for the common two-point leg."""
    if len(xy) == 2:
        return math.hypot(xy[1, 0] - xy[0, 0], xy[1, 1] - xy[0, 1])
    return polyline_length(xy)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """Polylines that meet end to start, as one (the shared points once)."""
    return np.vstack([parts[0], *(part[1:] for part in parts[1:])])


def _straightened(xy: np.ndarray) -> np.ndarray:
    """A polyline whose inner points lie within 1 cm of the line through its ends, as that
    line's two ends (one waypoint fewer where a lead runs on along its pass)."""
    if len(xy) <= 2:
        return xy
    a, b = xy[0], xy[-1]
    d = b - a
    norm = math.hypot(d[0], d[1])
    if norm <= 0.0:
        return xy
    off = np.abs(d[0] * (xy[1:-1, 1] - a[1]) - d[1] * (xy[1:-1, 0] - a[0])) / norm
    return np.array([a, b]) if float(off.max()) <= 0.01 else xy


def _as_polyline(xy) -> np.ndarray:
    arr = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(arr) < 2:
        raise AgridroneError("connect() returned a path with fewer than 2 points")
    return arr


class _Walker:
    """The state of one route walk; see :func:`split_sorties`."""

    def __init__(self, legs, station_xy, drone, *, rate_l_ha, swath_m, speed_m_s,
                 transit_speed_m_s, alt_m, temp_c, field_elevation_m, connect,
                 breakpoint_lead_m=(0.0, 0.0)):
        _check_settings(drone, rate_l_ha, swath_m, speed_m_s, transit_speed_m_s, alt_m)
        self.legs = list(legs)
        self.spray_idx = [i for i, leg in enumerate(self.legs) if leg.kind == "spray"]
        if not self.spray_idx:
            raise AgridroneError("the route has no spray legs")
        self.station = np.asarray(station_xy, dtype=np.float64).reshape(2)
        if (np.hypot(*(self.legs[0].xy[0] - self.station)) > STATION_TOL_M
                or np.hypot(*(self.legs[-1].xy[-1] - self.station)) > STATION_TOL_M):
            raise AgridroneError("the route must start and end at the station")
        self.drone = drone
        self.model = EnergyModel.for_drone(drone, temp_c, field_elevation_m)
        self.lpm = litres_per_metre(rate_l_ha, swath_m)
        self.speed = speed_m_s
        self.transit_speed = transit_speed_m_s
        self.connect = connect
        self.lead_in_m, self.lead_out_m = (float(v) for v in breakpoint_lead_m)
        self.takeoff = self.model.takeoff(alt_m)
        self.landing = self.model.landing(alt_m)
        self.last_spray = self.spray_idx[-1]
        self.total_spray_m = sum(polyline_lengths([self.legs[i].xy for i in self.spray_idx]))
        self.total_liquid_l = self.total_spray_m * self.lpm
        self._leg_cache: dict[int, Pieces] = {}
        self._length_cache: dict[int, tuple[Leg, float]] = {}
        self._return_cache: dict[int, tuple[list[Leg], Pieces]] = {}
        # the way home from a point and out to it: the load search flies the same sortie
        # starts and breakpoints again and again (111 ha: 2,808 ways home, 1,608 distinct)
        self._home_cache: dict[tuple[float, float], tuple[list[Leg], Pieces]] = {}
        self._out_cache: dict[tuple[float, float], tuple[Leg, Pieces]] = {}
        self._home_legs: dict[tuple[float, float], Leg] = {}
        self._approach_cache: dict[tuple[int, int, bool], tuple[Leg | None, list[tuple[Leg, Pieces]]]] = {}
        transit = [leg.kind == "transit" for leg in self.legs]
        self.leg_speeds = np.where(transit, self.transit_speed, self.speed)  # m/s per route leg
        # whether each route leg is entered / left at the spray speed (:meth:`through`)
        self.through_table = np.array([(False, False) if transit[j] else self.through(j)
                                       for j in range(len(self.legs))], dtype=np.bool_).reshape(-1, 2)
        self.tables = self._route_tables()
        self.route_m = self.tables.lengths.tolist()  # route legs' lengths (m)

    # pieces -------------------------------------------------------------------------
    def length(self, leg: Leg) -> float:
        """Length of ``leg`` (m), remembered (the cache keeps the leg alive, so ids stay unique)."""
        hit = self._length_cache.get(id(leg))
        if hit is None:
            hit = self._length_cache[id(leg)] = (leg, _length(leg.xy))
        return hit[1]

    def pieces(self, leg: Leg) -> Pieces:
        """Pieces of ``leg``: sprayed at the spray speed, a lead-in or lead-out flown pump-off
        at the spray speed, or a transit flown pump-off at transit speed."""
        if leg.kind == "spray":
            return self.model.leg(leg.xy, self.speed, self.lpm, True)
        if leg.kind == "lead":
            return self.model.leg(leg.xy, self.speed, 0.0, False)
        return self.model.leg(leg.xy, self.transit_speed, 0.0, False)

    def _route_tables(self) -> RouteTables:
        """The pieces of every route leg (:meth:`leg_pieces`) and of the way home after it
        (:meth:`return_after_leg` without the landing), for the kernel walk. The ways home
        from every leg end before the last pass are asked of ``connect`` here, in route order
        (the walk asks nearly all of them anyway, and the transit planner tests the straight
        ones in one call beforehand)."""
        legs, n, model = self.legs, len(self.legs), self.model
        through = self.through_table
        spray = np.array([leg.kind == "spray" for leg in legs])
        table, offsets = model.legs([leg.xy for leg in legs], self.leg_speeds, self.lpm, spray,
                                    through[:, 0], through[:, 1])
        homes = [self.home_leg(legs[j].xy[-1]).xy for j in range(self.last_spray)]
        no = np.zeros(len(homes), dtype=np.bool_)
        home, home_off = model.legs(homes, np.full(len(homes), self.transit_speed), 0.0, no, no, no) \
            if homes else (np.zeros((5, 0)), np.zeros(1, dtype=np.int64))
        tail = table[:, offsets[self.last_spray + 1]:offsets[n]]
        home_lo = np.concatenate((home_off[:-1], np.full(n - len(homes), home_off[-1])))
        home_hi = np.concatenate((home_off[1:], np.full(n - len(homes), home_off[-1] + tail.shape[1])))
        return RouteTables(table, offsets, np.ascontiguousarray(np.concatenate((home, tail), axis=1)),
                           home_lo, home_hi, self.landing.table, np.array([self.length(leg) for leg in legs]),
                           spray)

    def leg_pieces(self, j: int) -> Pieces:
        """Pieces of route leg ``j``, remembered: a pass between its lead-in and lead-out is
        flown through at the spray speed, a lead-in accelerates into its pass and a
        lead-out leaves its pass at speed (:meth:`through`)."""
        if j not in self._leg_cache:
            self._leg_cache[j] = self.tables.leg(j)
        return self._leg_cache[j]

    def through(self, j: int) -> tuple[bool, bool]:
        """Whether route leg ``j`` is entered / left at the spray speed (:func:`through_flags`)."""
        return through_flags(self.legs, j)

    def return_from(self, xy: np.ndarray) -> tuple[list[Leg], Pieces]:
        """Legs and pieces (incl. landing) home from a point inside the route."""
        key = (float(xy[0]), float(xy[1]))
        if key not in self._home_cache:
            leg = self.home_leg(xy)
            self._home_cache[key] = ([leg], Pieces.concat([self.pieces(leg), self.landing]))
        return self._home_cache[key]

    def home_leg(self, xy: np.ndarray) -> Leg:
        """The transit leg home from a point inside the route, remembered."""
        key = (float(xy[0]), float(xy[1]))
        if key not in self._home_legs:
            self._home_legs[key] = Leg("transit", _as_polyline(
                self.connect(np.asarray(xy, dtype=np.float64), self.station)))
        return self._home_legs[key]

    def way_out(self, xy: np.ndarray) -> tuple[Leg, Pieces]:
        """The transit leg and its pieces from the station to a point inside the route."""
        key = (float(xy[0]), float(xy[1]))
        if key not in self._out_cache:
            leg = Leg("transit", _as_polyline(self.connect(self.station, np.asarray(xy, dtype=np.float64))))
            self._out_cache[key] = (leg, self.pieces(leg))
        return self._out_cache[key]

    def return_after_leg(self, j: int) -> tuple[list[Leg], Pieces]:
        """Home from the end of route leg ``j``: the route's own tail after the last pass."""
        if j not in self._return_cache:
            if j >= self.last_spray:
                tail = self.legs[self.last_spray + 1:]
                pieces = Pieces.concat([self.leg_pieces(i) for i in
                                        range(self.last_spray + 1, len(self.legs))] + [self.landing])
                self._return_cache[j] = (tail, pieces)
            else:
                self._return_cache[j] = self.return_from(self.legs[j].xy[-1])
        return self._return_cache[j]

    # walk ---------------------------------------------------------------------------
    def walk(self) -> list[Sortie]:
        sorties: list[Sortie] = []
        j = 0  # next route leg
        rest: Leg | None = None  # unsprayed remainder of a pass cut at a breakpoint
        sprayed_m = 0.0
        while True:
            if rest is None:
                j = self._next_spray_after(j)
                if j == len(self.legs):
                    return sorties
            first = not sorties
            full_load = min(self.drone.tank_l, max(self.total_spray_m - sprayed_m, 0.0) * self.lpm)
            sortie = self.fly_sortie(j, rest, full_load, first)
            if (isinstance(sortie, str) or self._landing_margin(sortie.result) < 0.0
                    or (not sortie.finished and sortie.liquid_left_l > LIQUID_EPS_L)):
                sortie = self.lighter_sortie(j, rest, full_load, sortie, first)
            sorties.append(sortie.result)
            sprayed_m += sortie.result.spray_m
            j, rest = sortie.next_leg, sortie.rest
            if sortie.finished:
                return sorties

    def lighter_sortie(self, j: int, rest: Leg | None, full_load: float, full: _Flown | str,
                       first: bool) -> _Flown:
        """The battery, not the tank, ended the full-tank sortie ``full`` (or it could not be
        flown within the limits at all): load less liquid so that the lighter drone sprays
        farther - the most that still runs the tank dry (bracketing search on litres). Only
        sorties that land within the reserve and cut-off are ever returned."""
        tank = self.drone.tank_l

        def trial(load: float) -> tuple[float, _Flown | None]:
            flown = self.fly_sortie(j, rest, load, first)
            if isinstance(flown, str):
                return -1.0, None
            if flown.finished or flown.liquid_left_l <= LIQUID_EPS_L:
                return self._landing_margin(flown.result), flown
            return -flown.liquid_left_l / tank, flown

        if isinstance(full, str) or self._landing_margin(full.result) < 0.0:
            lo, f_lo, best = 0.0, 1.0, None
            if not isinstance(full, str):
                p = (rest if rest is not None else self.legs[j]).xy[0]
                full = (f"no tank load lets the {self.drone.name} spray from ({p[0]:.0f}, "
                        f"{p[1]:.0f}) m and return with the reserve")
        else:
            lo = full.result.liquid_l
            f_lo, best = trial(lo)
            if best is None or f_lo < 0.0 or best.result.spray_m < full.result.spray_m:
                lo, f_lo, best = 0.0, 1.0, full
        f_hi = -1.0 if isinstance(full, str) else -full.liquid_left_l / tank
        tol = max(LOAD_TOL_M * self.lpm, LOAD_TOL_TANK * tank)
        _, found = _largest_feasible(trial, lo, f_lo, full_load, f_hi, tol)
        if found is not None and (best is None or found.result.spray_m >= best.result.spray_m) \
                and self._landing_margin(found.result) >= 0.0:
            best = found
        if best is None:
            raise AgridroneError(full)
        return best

    def _landing_margin(self, sortie: Sortie) -> float:
        """The landing margin of ``sortie`` in the units of EnergyModel.margin."""
        bat = self.drone.battery
        return min((sortie.soc_landing_pct - bat.reserve_pct) / 100.0,
                   sortie.min_cell_v - bat.cutoff_v_per_cell)

    def fly_sortie(self, j: int, rest: Leg | None, liquid_l: float, first: bool) -> _Flown | str:
        """Fly one sortie from route leg ``j`` (or the remainder ``rest`` of a cut pass) with
        ``liquid_l`` litres loaded; or say why no spraying sortie can start there."""
        model = self.model
        state = model.fly(model.start(liquid_l), self.takeoff)
        flown: list[Leg] = []
        flown_m: list[float] = []  # their lengths (m)
        for leg, pieces in self.approach(j, rest, first):
            after = model.fly(state, pieces)
            home = self.return_from(leg.xy[-1])[1]
            if not model.landed_ok(model.fly(after, home)):
                return (f"the {self.drone.name} cannot reach ({leg.xy[-1][0]:.0f}, "
                        f"{leg.xy[-1][1]:.0f}) m from the station and return with the reserve")
            flown.append(leg)
            flown_m.append(self.length(leg))
            state = after
        liquid = liquid_l
        breakpoint = None
        home_legs: list[Leg] | None = None
        home_pieces: Pieces | None = None
        finished = False
        sprayed_any = False
        while True:
            if rest is None:  # whole legs, walked in the kernel (model.fly_legs)
                status, j_end, state, liquid, margin_full, sprayed = model.fly_legs(
                    self.tables, j, self.last_spray, state, liquid, self.lpm, LIQUID_EPS_L)
                flown.extend(self.legs[j:j_end])
                flown_m.extend(self.route_m[j:j_end])
                j = j_end
                sprayed_any = sprayed_any or sprayed
                if status == WALK_TAIL:  # the route's own way home
                    home_legs, home_pieces = self.return_after_leg(j - 1)
                    finished = True
                    break
                if status == WALK_END:
                    home_legs, home_pieces = [], self.landing
                    finished = True
                    break
                if status != WALK_CUT:  # a transit leg met with the tank dry, or after which
                    break  # home is out of reach: end before it; the next sortie skips it
                leg = self.legs[j]
            else:  # what is left of a pass cut at a breakpoint
                leg = rest
                margin_full = -1.0
                if self.length(leg) <= liquid / self.lpm + 1e-6:
                    after = model.fly(state, self.rest_pieces(j, leg, flown))
                    margin_full = model.margin(model.fly(after, self.return_after_leg(j)[1]))
                    if margin_full >= 0.0:
                        flown.append(leg)
                        flown_m.append(self.length(leg))
                        state = after
                        liquid = max(liquid - self.length(leg) * self.lpm, 0.0)
                        sprayed_any = True
                        rest = None
                        j += 1
                        if j == len(self.legs):
                            home_legs, home_pieces = [], self.landing
                            finished = True
                            break
                        continue
            s, after, part = self.longest_part(state, leg, liquid, margin_full, j,
                                               self.entered_at_speed(j, rest, flown))
            if s < MIN_SPRAY_PIECE_M:
                if not sprayed_any:
                    p = leg.xy[0]
                    return (f"the {self.drone.name} cannot spray pass {leg.pass_index} at "
                            f"({p[0]:.0f}, {p[1]:.0f}) m and return to the station with the reserve")
                break
            flown.append(Leg("spray", part[0], leg.pass_index))
            flown_m.append(_length(part[0]))
            lead_out = self.breakpoint_lead_out(j, part[1], leg.pass_index)
            if lead_out is not None:
                flown.append(lead_out)
                flown_m.append(self.length(lead_out))
            state = after
            liquid = max(liquid - _length(part[0]) * self.lpm, 0.0)
            rest = Leg("spray", part[1], leg.pass_index)
            breakpoint = {"pass": leg.pass_index, "xy": [float(part[1][0, 0]), float(part[1][0, 1])]}
            break
        if home_pieces is None:
            home_legs, home_pieces = self.return_from(flown[-1].xy[-1])
            if rest is None:
                j = self._next_spray_after(j)
        landed = model.fly(state, home_pieces)
        legs_out = flown + list(home_legs)
        spray_m = sum(m for leg, m in zip(flown, flown_m, strict=True) if leg.kind == "spray")
        result = Sortie(
            legs=legs_out,
            distance_m=sum(flown_m + [self.length(leg) for leg in home_legs]),
            spray_m=spray_m,
            time_s=landed.time_s,
            liquid_l=spray_m * self.lpm,
            load_l=liquid_l,
            energy_wh=landed.energy_wh,
            soc_landing_pct=100.0 * model.soc(landed),
            min_cell_v=landed.min_cell_v,
            breakpoint=breakpoint,
        )
        return _Flown(result, j, rest, finished, liquid)

    def approach(self, j: int, rest: Leg | None, first: bool) -> list[tuple[Leg, Pieces]]:
        """The legs and their pieces from the station to route leg ``j`` (or to ``rest``, what
        is left of it after a breakpoint, over its lead-in): the route's own way out for the
        ``first`` sortie; remembered, as the load search flies the same start again and again."""
        key = (j, id(rest), first)
        hit = self._approach_cache.get(key)
        if hit is not None:
            return hit[1]
        if first:  # the route's own way out
            approach = [(self.legs[i], self.leg_pieces(i)) for i in range(j)]
        else:
            lead_in = self.breakpoint_lead_in(j, rest) if rest is not None else None
            target = (lead_in.xy[0] if lead_in is not None
                      else rest.xy[0] if rest is not None else self.legs[j].xy[0])
            approach = [self.way_out(target)]
            if lead_in is not None:  # left at the spray speed into the resumed pass
                approach.append((lead_in, self.model.leg(lead_in.xy, self.speed, 0.0, False,
                                                         False, True)))
        self._approach_cache[key] = (rest, approach)  # keeps rest alive, so its id stays unique
        return approach

    def _next_spray_after(self, j: int) -> int:
        """Index of the first spray leg at or after ``j``, or of its lead-in when it has one
        (a sortie starts with the lead-in); len(legs) when none."""
        i = next((i for i in self.spray_idx if i >= j), len(self.legs))
        if 0 < i < len(self.legs) and self.legs[i - 1].kind == "lead":
            return i - 1
        return i

    def longest_part(self, state: FlightState, leg: Leg, liquid: float, margin_full: float,
                     j: int, at_speed: bool):
        """Longest start of spray ``leg`` (route leg ``j`` or what is left of it, m) that can
        be flown from ``state``, with its lead-out after the cut, and home again, within
        ``liquid`` litres; with the state after it (lead-out included) and the cut polylines
        (or 0, state, None when less than MIN_SPRAY_PIECE_M fits). ``margin_full``: landing
        margin after the whole leg; ``at_speed``: whether the leg is entered at the spray
        speed (from a lead-in)."""
        model = self.model
        length = self.length(leg)
        hi = min(length, max(liquid, 0.0) / self.lpm)
        if hi < MIN_SPRAY_PIECE_M:
            return 0.0, state, None

        def attempt(s: float):
            before, after_xy = cut_polyline(leg.xy, s)
            lead_out = self.breakpoint_lead_out(j, after_xy, leg.pass_index)
            lead_xy = None if lead_out is None else lead_out.xy  # entered at the spray speed
            end = before[-1] if lead_xy is None else lead_xy[-1]
            st, margin = model.fly_cut(state, before, lead_xy, self.home_leg(end).xy, self.landing,
                                       self.speed, self.transit_speed, self.lpm, at_speed)
            return margin, (st, (before, after_xy))

        if hi < length:
            f_hi, payload = attempt(hi)
            if f_hi >= 0.0:
                return hi, payload[0], payload[1]
        else:
            f_hi = margin_full
        f_lo = max(model.margin(model.fly(state, self.return_from(leg.xy[0])[1])), 0.0)
        s, payload = _largest_feasible(attempt, 0.0, f_lo, hi, f_hi, SEARCH_TOL_M)
        if payload is None or s < MIN_SPRAY_PIECE_M:
            return 0.0, state, None
        return s, payload[0], payload[1]

    def entered_at_speed(self, j: int, rest: Leg | None, flown: list[Leg]) -> bool:
        """Whether the pass about to be flown (route leg ``j``, or its ``rest`` after a
        breakpoint) is entered at the spray speed: from its own lead-in, or from the lead-in
        this sortie flew to the breakpoint."""
        if rest is None:
            return self.through(j)[0]
        return bool(flown) and flown[-1].kind == "lead"

    def rest_pieces(self, j: int, rest: Leg, flown: list[Leg]) -> Pieces:
        """Pieces of ``rest``, what is left of route leg ``j`` after a breakpoint: entered at
        the spray speed when this sortie came in on a lead-in, left at it when the pass has
        its own lead-out."""
        return self.model.leg(rest.xy, self.speed, self.lpm, True,
                              self.entered_at_speed(j, rest, flown), self.through(j)[1])

    def breakpoint_lead_in(self, j: int, rest: Leg) -> Leg | None:
        """The lead-in (kind ``lead``, pump off) of ``rest``, what is left of route leg ``j``
        after a breakpoint: the last ``lead_in_m`` of the pass's own lead-in and the part of
        the pass already sprayed, ending at the breakpoint; None without one."""
        if self.lead_in_m <= 0.0:
            return None
        behind = [self.legs[j].xy]
        if j > 0 and through_flags(self.legs, j)[0]:
            behind.insert(0, self.legs[j - 1].xy)
        path = _joined(behind)
        done = _length(path) - _length(rest.xy)
        if done < MIN_SPRAY_PIECE_M:
            return None
        start = max(done - self.lead_in_m, 0.0)
        xy = cut_polyline(path, done)[0] if done < _length(path) else path
        if start > 0.0:
            xy = cut_polyline(xy, start)[1]
        return Leg("lead", _straightened(xy), rest.pass_index)

    def breakpoint_lead_out(self, j: int, after_xy: np.ndarray, pass_index) -> Leg | None:
        """The lead-out (kind ``lead``, pump off) after a breakpoint of route leg ``j``
        whose unsprayed rest is ``after_xy``: the first ``lead_out_m`` of that rest and of the
        pass's own lead-out; None without one."""
        if self.lead_out_m <= 0.0:
            return None
        ahead = [after_xy]
        if j + 1 < len(self.legs) and through_flags(self.legs, j)[1]:
            ahead.append(self.legs[j + 1].xy)
        path = _joined(ahead)
        length = _length(path)
        if length < MIN_SPRAY_PIECE_M:
            return None
        xy = cut_polyline(path, self.lead_out_m)[0] if self.lead_out_m < length else path
        return Leg("lead", _straightened(xy), pass_index)

    def route_energy_wh(self) -> float:
        """Energy (Wh) of the whole route flown once, one takeoff and landing, the tank
        refilled in flight whenever it runs dry (the energy side of the lower bound)."""
        model = self.model
        remaining = self.total_liquid_l
        liquid = min(self.drone.tank_l, remaining)
        state = model.fly(model.start(liquid), self.takeoff)
        # the legs as leg_pieces flies them, but passes flown on their own (not through)
        spray = self.tables.is_spray
        through = self.through_table & ~spray[:, None]
        legs, offsets = model.legs([leg.xy for leg in self.legs], self.leg_speeds, self.lpm, spray,
                                   through[:, 0], through[:, 1])
        need_l = self.tables.lengths * self.lpm
        j = 0
        while True:
            j, state, liquid, remaining = model.fly_route(legs, offsets, need_l, spray, j, state,
                                                          liquid, remaining)
            if j == len(self.legs):
                break
            xy = self.legs[j].xy  # a pass that needs more than the tank holds
            need = _length(xy) * self.lpm
            while need > liquid + 1e-9:
                if liquid > 1e-9:
                    before, xy = cut_polyline(xy, liquid / self.lpm)
                    state = model.fly(state, model.leg(before, self.speed, self.lpm, True))
                    remaining -= liquid
                    need -= liquid
                liquid = min(self.drone.tank_l, remaining)
                state = FlightState(self.drone.takeoff_mass_kg(liquid), state.charge_ah,
                                    state.energy_wh, state.time_s, state.min_cell_v)
            state = model.fly(state, model.leg(xy, self.speed, self.lpm, True))
            liquid -= need
            remaining -= need
            j += 1
        return model.fly(state, self.landing).energy_wh


def _largest_feasible(fun, a: float, fa: float, b: float, fb: float, tol: float):
    """Largest x in [a, b] with fun(x)[0] >= 0, to within ``tol``, by the Illinois variant of
    regula falsi; fun(x) -> (margin, payload), fa >= 0 > fb. Returns (x, payload at x),
    payload None when no evaluated point was feasible."""
    payload = None
    side = 0
    for _ in range(200):
        if b - a <= tol:
            break
        x = b - fb * (b - a) / (fb - fa)
        x = min(max(x, a + 0.45 * tol), b - 0.45 * tol)
        fx, px = fun(x)
        if fx >= 0.0:
            a, fa, payload = x, fx, px
            if side == 1:
                fb *= 0.5
            side = 1
        else:
            b, fb = x, fx
            if side == -1:
                fa *= 0.5
            side = -1
    return a, payload


@dataclass(frozen=True)
class _Flown:
    result: Sortie
    next_leg: int
    rest: Leg | None
    finished: bool
    liquid_left_l: float
