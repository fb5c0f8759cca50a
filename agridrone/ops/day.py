"""A day in the field: fields in driving order, each split into one region per drone and
planned with the planner (:func:`agridrone.planner.make_plan`), then the whole day simulated
(:func:`agridrone.ops.scheduler.simulate_day`) with one pool of packs, chargers and generator
that drives from field to field with the crew."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, MultiPolygon, mapping

from agridrone.drone import PRESET_DIR, DroneProfile, load_drone
from agridrone.errors import AgridroneError
from agridrone.field import Field, load_field, read_points
from agridrone.ops import bounds, charging, regions, stops
from agridrone.ops.charging import ChargeSpec
from agridrone.ops.field_order import best_order
from agridrone.ops.packs import Pack
from agridrone.ops.scheduler import Crew, DayResult, DroneJob, SortieJob, simulate_day
from agridrone.ops.sortie_energy import FlightSettings, landing_soc, required_soc
from agridrone.plan_file import PlanInputs
from agridrone.planner import Planned, make_plan

MAX_PADS_PER_REGION = 12  # candidate pads the planner tries per region (each is a split)
MAX_STATION_DISTANCE_M = 2000.0  # a given station serves a region this close to it
GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class OpsInputs:
    """Every option of a day (units in the names). fields: field files or ``example:NAME``;
    packs: (id, health 0..1, cycles) of every pack in the pool; stations_file: candidate
    pads (points), None for the field's edge; start_s: seconds after midnight; moves: most
    drives of each drone's station to a new stop on one field (0: one pad per region)."""

    fields: list[str]
    exclude_files: list[str]
    drone: str
    drones: int
    packs: list[tuple[str, float, int]]
    chargers: int
    charger_kw: float
    generator_kw: float
    refill_l_min: float
    stations_file: str | None
    drive_speed_m_s: float
    start_s: float
    separation_m: float
    swap_time_s: float
    rate_l_ha: float
    speed_m_s: float
    transit_speed_m_s: float
    alt_m: float
    temp_c: float
    autopilot: str
    first_sysid: int
    charge_c_rate: float
    charge_max_temp_c: float
    moves: int = 0


@dataclass
class RegionPlan:
    """One stop of one drone's region of one field: the drone's number, MAVLink system id,
    polygon flown from this stop (local metres of the field), pad (local metres), the
    planner's result and the plan's name; stop (1..) of ``stops``, the station's drive to it
    from the previous stop (m); for the whole region: the sortie lower bound and the sorties
    flown from one pad."""

    drone: int
    sysid: int
    polygon: MultiPolygon
    pad_xy: np.ndarray
    planned: Planned
    name: str
    region_geojson: bytes
    stations_geojson: bytes
    stop: int = 1
    stops: int = 1
    drive_m: float = 0.0
    lower_bound_sorties: int = 0
    one_pad_sorties: int = 0


@dataclass
class FieldDay:
    """One field of the day: the field, its regions and their jobs, the drive to it (s, m),
    the schedule and its lower bound."""

    field: Field
    regions: list[RegionPlan]
    jobs: list[DroneJob]
    drive_s: float
    drive_m: float
    result: DayResult
    bound: bounds.Bound


@dataclass
class Day:
    """The whole day: fields in the order flown, the drone and the charge model used."""

    inputs: OpsInputs
    drone: DroneProfile
    spec: ChargeSpec
    crew: Crew
    fields: list[FieldDay]
    packs: list[Pack]
    planned: list = dc_field(default_factory=list)  # (Field, regions, jobs, drive m) in order


def charge_spec(drone: DroneProfile, inputs: OpsInputs) -> ChargeSpec:
    """The packs' charge model from the drone's battery and the day's options."""
    bat = drone.battery
    return ChargeSpec(capacity_ah=bat.capacity_ah, cells=bat.cells_series, chemistry=bat.chemistry,
                      max_c_rate=inputs.charge_c_rate, max_temp_c=inputs.charge_max_temp_c,
                      resistance_ohm=bat.internal_resistance_mohm / 1000.0, mass_kg=bat.mass_kg)


def check_inputs(inputs: OpsInputs, spec: ChargeSpec) -> None:
    """AgridroneError for options that cannot make a day."""
    if not inputs.fields:
        raise AgridroneError("no field given; name at least one FIELD (or example:NAME)")
    if not inputs.packs:
        raise AgridroneError("no pack; --packs must be 1 or more")
    if inputs.generator_kw < inputs.charger_kw / spec.efficiency - 1e-9:
        raise AgridroneError(
            f"the {inputs.generator_kw:g} kW generator cannot run one {inputs.charger_kw:g} kW "
            f"charger (it draws {inputs.charger_kw / spec.efficiency:.2f} kW at "
            f"{spec.efficiency:.0%} efficiency)")
    if inputs.temp_c >= spec.max_temp_c:
        charging.cooling_time_s(spec, spec.max_temp_c + 1.0, inputs.temp_c)


def field_order(fields: list[Field]) -> list[int]:
    """Indices of ``fields`` in driving order from the first given, the shortest drive
    between their centres (:func:`agridrone.ops.field_order.best_order`)."""
    centres = [f.boundary.centroid for f in fields]
    dist = np.array([[drive_m(a, b) for b in centres] for a in centres])
    return best_order(dist)


def drive_m(a, b) -> float:
    """Geodesic distance (m) between two WGS84 points."""
    return float(GEOD.inv(a.x, a.y, b.x, b.y)[2])


def plan_day(inputs: OpsInputs) -> Day:
    """Plan and schedule the day; AgridroneError on bad input (nothing is written)."""
    drone = load_drone(inputs.drone)
    spec = charge_spec(drone, inputs)
    check_inputs(inputs, spec)
    crew = Crew(chargers=inputs.chargers, charger_kw=inputs.charger_kw,
                generator_kw=inputs.generator_kw, swap_time_s=inputs.swap_time_s,
                refill_l_min=inputs.refill_l_min, separation_m=inputs.separation_m,
                air_c=inputs.temp_c)
    fields = [load_field(f, exclude_paths=tuple(inputs.exclude_files)) for f in inputs.fields]
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise AgridroneError("two fields have the same name; give each field once")
    order = field_order(fields)
    planned: list[tuple[Field, list[RegionPlan], list[DroneJob], float]] = []
    previous = None
    for index in order:
        field = fields[index]
        plans = plan_regions(field, drone, inputs)
        healths = sorted({h for _, h, _ in inputs.packs})
        jobs = [drone_jobs(field, [p for p in plans if p.drone == n], drone, inputs, healths)
                for n in range(1, inputs.drones + 1)]
        check_paths(jobs, plans, inputs.separation_m)
        dist = 0.0 if previous is None else drive_m(previous.boundary.centroid,
                                                   field.boundary.centroid)
        planned.append((field, plans, jobs, dist))
        previous = field
    return schedule(Day(inputs, drone, spec, crew, [], [], planned), inputs.packs, crew)


def schedule(day: Day, pack_list: list[tuple[str, float, int]], crew: Crew) -> Day:
    """The planned fields of ``day`` flown with these packs and this crew (a new Day)."""
    inputs, spec, drone = day.inputs, day.spec, day.drone
    packs = [Pack(pid, health, charging.full_soc(spec), inputs.temp_c, cycles)
             for pid, health, cycles in pack_list]
    days: list[FieldDay] = []
    t = inputs.start_s
    for field, plans, jobs, dist in day.planned:
        drive_s = dist / inputs.drive_speed_m_s
        for p in packs:  # cooling in the truck
            p.temp_c = charging.heated(spec, p.temp_c, inputs.temp_c, 0.0, drive_s)
        land = _landing_fn(drone, plans, jobs, inputs)
        bound = bounds.lower_bound(jobs, crew, spec, [p.health for p in packs], land)
        result, packs = shorter_day(jobs, packs, spec, crew, t + drive_s, land,
                                    bound.charging_s > bound.flying_s)
        days.append(FieldDay(field, plans, jobs, drive_s, dist, result, bound))
        t = result.end_s
    return Day(inputs, drone, spec, crew, days, packs, day.planned)


def shorter_day(jobs: list[DroneJob], packs: list[Pack], spec: ChargeSpec, crew: Crew,
                start_s: float, land, charger_bound: bool) -> tuple[DayResult, list[Pack]]:
    """The field flown from ``start_s`` (s) with ``packs`` as they are; when the chargers
    bound the day (``charger_bound``), flown both with the full packs kept for the hungriest
    sorties and without (:func:`agridrone.ops.scheduler.simulate_day`'s ``save_full``), and
    the shorter day kept (on ties the plain one): keeping full packs back saves charger
    time with several drones but can leave a lone drone waiting. The packs as they end it."""
    plain = copy.deepcopy(packs)
    result = simulate_day(jobs, plain, spec, crew, start_s, land)
    if charger_bound:
        saved = copy.deepcopy(packs)
        other = simulate_day(jobs, saved, spec, crew, start_s, land, save_full=True)
        if other.end_s < result.end_s - 1e-6:
            return other, saved
    return result, plain


def _landing_fn(drone: DroneProfile, plans: list[RegionPlan], jobs: list[DroneJob],
                inputs: OpsInputs):
    """``landing(job, health, soc)`` for the scheduler: SoC on landing from the energy model."""
    flown = {}
    for d in jobs:
        stops = [p for p in plans if p.drone == d.number]
        for job, (plan, sortie) in zip(d.sorties, stop_sorties(stops), strict=True):
            flown[id(job)] = (sortie, flight_settings(plan.planned, inputs))

    def land(job: SortieJob, health: float, soc: float) -> float:
        sortie, settings = flown[id(job)]
        return landing_soc(drone, health, sortie, settings, soc)
    return land


def stop_sorties(stops: list[RegionPlan]) -> list[tuple[RegionPlan, object]]:
    """(stop plan, planned sortie) of a drone's stops, in the order flown."""
    return [(plan, sortie) for plan in sorted(stops, key=lambda p: p.stop)
            for sortie in plan.planned.sorties.sorties]


def flight_settings(planned: Planned, inputs: OpsInputs) -> FlightSettings:
    """How the planner flew a region's sorties (for re-flying them from other packs)."""
    return FlightSettings(rate_l_ha=inputs.rate_l_ha, spacing_m=planned.dose.application.spacing_m,
                          speed_m_s=inputs.speed_m_s, transit_speed_m_s=inputs.transit_speed_m_s,
                          alt_m=inputs.alt_m, temp_c=inputs.temp_c)


def plan_regions(field: Field, drone: DroneProfile, inputs: OpsInputs) -> list[RegionPlan]:
    """``field`` split into one region per drone, each planned from its best pad."""
    parts = regions.split_field(field, inputs.drones)
    if inputs.stations_file is None:
        cands = regions.boundary_pads(field, parts, inputs.separation_m)
    else:
        xy = field.frame.to_local(read_points(inputs.stations_file))
        cands = regions.given_pads(xy, parts, inputs.separation_m, MAX_STATION_DISTANCE_M)
    plans = []
    for k, (polygon, pads) in enumerate(zip(parts, cands, strict=True)):
        name = f"{field.name}-d{k + 1}" if inputs.drones > 1 else field.name
        one = plan_region(field, polygon, thin(pads), name, k + 1, drone, inputs)
        others = shapely.union_all([r for j, r in enumerate(parts) if j != k])
        best = moving_stops(field, polygon, others, one, drone, inputs)
        lb, single = one.planned.sorties.lower_bound_sorties, len(one.planned.sorties.sorties)
        for plan in best:
            plan.lower_bound_sorties, plan.one_pad_sorties = lb, single
        plans.extend(best)
    regions.check_pads([p.pad_xy for p in plans], inputs.separation_m,
                       [p.drone for p in plans])
    return plans


def thin(pads: np.ndarray) -> np.ndarray:
    """At most MAX_PADS_PER_REGION of ``pads``, evenly spread."""
    if len(pads) <= MAX_PADS_PER_REGION:
        return pads
    return pads[np.linspace(0, len(pads) - 1, MAX_PADS_PER_REGION).round().astype(int)]


def work_s(stops: list[RegionPlan], inputs: OpsInputs) -> float:
    """A drone's time (s) on its stops: airborne, ground before each sortie, drives."""
    t = 0.0
    for plan in stops:
        for sortie in plan.planned.sorties.sorties:
            t += sortie.time_s + max(inputs.swap_time_s, sortie.load_l / inputs.refill_l_min * 60)
        t += plan.drive_m / inputs.drive_speed_m_s
    return t


def moving_stops(field: Field, polygon: MultiPolygon, others, one: RegionPlan,
                 drone: DroneProfile, inputs: OpsInputs) -> list[RegionPlan]:
    """The region flown from 1 to ``inputs.moves + 1`` stops (:mod:`agridrone.ops.stops`),
    whichever keeps the drone busy the least time (airborne, ground, drives); ``one`` is its
    plan from one pad."""
    best, best_s = [one], work_s([one], inputs)
    liquid = one.planned.sorties.total_liquid_l
    sprayable = polygon.intersection(field.sprayable_local)
    points = None if inputs.stations_file is None else \
        field.frame.to_local(read_points(inputs.stations_file))
    for moves in range(1, inputs.moves + 1):
        shares = stops.strip_shares(liquid, drone.tank_l, moves + 1)
        if shares is None:
            break
        trial = []
        strips = regions.cut_strips(polygon, sprayable, shares)
        for k, strip in enumerate(strips):
            if points is None:
                pads = regions.edge_pads(field, strip, others, inputs.separation_m)
            else:
                pads = regions.near_pads(points, strip, others, inputs.separation_m,
                                         MAX_STATION_DISTANCE_M)
            if not len(pads):
                trial = None
                break
            plan = plan_region(field, strip, thin(pads), f"{one.name}-s{k + 1}", one.drone,
                               drone, inputs)
            plan.stop, plan.stops = k + 1, len(strips)
            if trial:
                plan.drive_m = stops.drive_m(field, trial[-1].pad_xy, plan.pad_xy)
            trial.append(plan)
            if work_s(trial, inputs) >= best_s:  # already no better: skip its other strips
                trial = None
                break
        if trial is None:
            continue
        t = work_s(trial, inputs)
        if t < best_s:
            best, best_s = trial, t
    return best


def _geojson(geometry) -> bytes:
    return (json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(geometry)})
            + "\n").encode("utf-8")


def plan_region(field: Field, polygon: MultiPolygon, pads: np.ndarray, name: str, number: int,
                drone: DroneProfile, inputs: OpsInputs) -> RegionPlan:
    """Plan one region with the planner, its station chosen among ``pads`` (local metres)."""
    wgs = shapely.set_precision(field.frame.geometry_to_wgs84(polygon), 1e-8)
    pads_wgs = field.frame.to_wgs84(pads)
    region_bytes = _geojson(wgs)
    stations_bytes = _geojson(shapely.MultiPoint(np.round(pads_wgs, 8)))
    with tempfile.TemporaryDirectory(prefix="agridrone-ops-") as tmp:
        region_path = Path(tmp) / f"{name}.geojson"
        stations_path = Path(tmp) / "stations.geojson"
        region_path.write_bytes(region_bytes)
        stations_path.write_bytes(stations_bytes)
        health = min(h for _, h, _ in inputs.packs)
        drone_file = inputs.drone
        if health < 1.0:  # sorties cut for the most worn pack of the pool
            drone_file = str(Path(tmp) / f"{drone.name}-{health:.0%}.toml".replace("%", "pct"))
            Path(drone_file).write_text(worn_profile_toml(inputs.drone, health), "utf-8")
        plan_inputs = PlanInputs(
            field_file=str(region_path), exclude_files=list(inputs.exclude_files),
            drone=drone_file, rate_l_ha=inputs.rate_l_ha, swath_width_m=drone.swath_width_m,
            edge_margin_m=drone.swath_width_m / 2, headland_passes=0, heading_deg=None,
            home="auto", stations_file=str(stations_path), speed_m_s=inputs.speed_m_s,
            transit_speed_m_s=inputs.transit_speed_m_s, alt_m=inputs.alt_m, turn_time_s=4.0,
            temp_c=inputs.temp_c, swap_time_s=inputs.swap_time_s, autopilot=inputs.autopilot,
            alt_frame="relative", transit_alt_m=None, end="rtl", max_items=None,
            fence_margin_m=10.0, repair=False, max_area_ha=2000.0,
            # no lead-ins/outs yet: they fly up to 12 m beyond the region's edge, into the
            # separation kept from the other drones' pads (see check_paths)
            leads=False)
        planned = make_plan(plan_inputs)
    # the plan folder holds its own region and stations files under these names
    document = planned.document
    document["inputs"]["field_file"] = f"{name}.geojson"
    document["inputs"]["stations_file"] = "stations.geojson"
    document["inputs"]["drone"] = inputs.drone
    warnings = [w for w in planned.warnings if "lies outside the field" not in w]
    planned = replace(planned, document=document, warnings=warnings)
    pad_wgs = np.asarray([document["station"]], dtype=np.float64)
    return RegionPlan(number, inputs.first_sysid + number - 1, polygon,
                      field.frame.to_local(pad_wgs)[0], planned, name, region_bytes,
                      stations_bytes)


def worn_profile_toml(drone: str, health: float) -> str:
    """The TOML text of profile ``drone`` (preset or file) with its battery's state of health
    multiplied by ``health``."""
    path = Path(drone) if Path(drone).suffix.lower() == ".toml" else PRESET_DIR / f"{drone}.toml"
    text = path.read_text("utf-8")
    soh = load_drone(drone).battery.state_of_health_pct * health
    line = re.compile(r"^state_of_health_pct\s*=.*$", re.M)
    if line.search(text):
        return line.sub(f"state_of_health_pct = {soh:.4f}", text)
    return text.replace("[battery]\n", f"[battery]\nstate_of_health_pct = {soh:.4f}\n", 1)


def drone_jobs(field: Field, plans: list[RegionPlan], drone: DroneProfile, inputs: OpsInputs,
               healths: list[float]) -> DroneJob:
    """A drone's sorties on ``field`` (its stops in order) as jobs for the scheduler, paths
    in the field's frame, numbered 1.. over the stops."""
    jobs = []
    previous = None
    for index, (plan, sortie) in enumerate(stop_sorties(plans), start=1):
        settings = flight_settings(plan.planned, inputs)
        needs = {h: required_soc(drone, h, sortie, settings) for h in healths}
        if all(v is None for v in needs.values()):
            raise AgridroneError(
                f"{plan.name}: no pack can lift sortie {index} ({sortie.energy_wh:.0f} Wh); "
                "use a drone with a larger battery or healthier packs")
        frame = plan.planned.field.frame
        lines = [field.frame.to_local(frame.to_wgs84(leg.xy)) for leg in sortie.legs]
        path = np.vstack(lines)
        # time along the path: each leg at its speed (0 s between legs), scaled to the
        # sortie's airborne time (take-off, landing, turns)
        dts = []
        for k, (x, leg) in enumerate(zip(lines, sortie.legs, strict=True)):
            speed = inputs.speed_m_s if leg.kind != "transit" else inputs.transit_speed_m_s
            dts.extend(([0.0] if k else []) + list(np.hypot(*np.diff(x, axis=0).T) / speed))
        cum = np.concatenate(([0.0], np.cumsum(dts)))
        path_t = cum / max(cum[-1], 1e-9) * sortie.time_s
        moved = previous is not None and plan is not previous
        jobs.append(SortieJob(
            index=index, time_s=sortie.time_s, load_l=sortie.load_l, energy_wh=sortie.energy_wh,
            need=_need_lookup({h: (None if v is None else v[0]) for h, v in needs.items()}),
            footprint=MultiLineString([LineString(x) for x in lines]), path_xy=path,
            path_t=path_t, stop=plan.stop,
            move_s=plan.drive_m / inputs.drive_speed_m_s if moved else 0.0))
        previous = plan
    first = min(plans, key=lambda p: p.stop)
    return DroneJob(first.drone, first.sysid, first.pad_xy, jobs)


def _need_lookup(table: dict[float, float | None]):
    def need(health: float) -> float | None:
        return table[health]
    return need


def check_paths(jobs: list[DroneJob], plans: list[RegionPlan], separation_m: float) -> None:
    """AgridroneError when a sortie of one drone passes closer than the separation to a pad
    of another drone (that drone may be there whenever it is not flying)."""
    for a in jobs:
        for plan in plans:
            if plan.drone == a.number:
                continue
            pad = shapely.Point(plan.pad_xy)
            for job in a.sorties:
                d = job.footprint.distance(pad)
                if d < separation_m:
                    raise AgridroneError(
                        f"sortie {job.index} of drone {a.number} passes {d:.0f} m from drone "
                        f"{plan.drone}'s pad, closer than the {separation_m:g} m separation")
