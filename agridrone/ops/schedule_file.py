"""schedule.json: the day as flown, per drone, per pack and per station, with totals, the
lower bound and the bottleneck. Times are seconds after midnight (``*_s``) with an
``HH:MM:SS`` copy; states of charge in percent; positions [lon, lat] degrees (1e-8)."""

from __future__ import annotations

from dataclasses import asdict

from agridrone import __version__
from agridrone.ops import bounds
from agridrone.ops.day import Day
from agridrone.plan_file import lonlat_list

SCHEDULE_VERSION = 1


def clock(t_s: float) -> str:
    """Seconds after midnight as ``HH:MM:SS`` (hours go past 24 on a long day)."""
    s = int(round(t_s))
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _r(x: float, n: int = 1) -> float:
    return round(float(x), n)


def plan_dir(field_name: str, drone: int, stop: int = 1, stops: int = 1) -> str:
    """Folder name (inside DIR) of a drone's region plan on a field (of one of its stops when
    its station moves)."""
    return f"{field_name}/drone-{drone}" + (f"/stop-{stop}" if stops > 1 else "")


def schedule_document(day: Day) -> dict:
    """The schedule.json content of ``day``."""
    crew = day.crew
    drones: dict[int, dict] = {}
    stations = []
    fields = []
    flown_ha = 0.0
    airborne = 0.0
    wait_pack = wait_sep = busy = limited = charged = 0.0
    for fd in day.fields:
        r = fd.result
        by_stop = {(plan.drone, plan.stop): plan for plan in fd.regions}
        for plan in fd.regions:
            station = lonlat_list(fd.field, plan.pad_xy[None, :])[0]
            drones.setdefault(plan.drone, {"drone": plan.drone, "sysid": plan.sysid,
                                           "params_file": f"{fd.field.name}/drone-{plan.drone}/"
                                                          "sysid.parm", "sorties": []})
            uses = [{"ground_s": _r(f.ground_s), "takeoff_s": _r(f.takeoff_s),
                     "land_s": _r(f.land_s)} for f in r.flights
                    if f.drone == plan.drone and f.job.stop == plan.stop]
            stations.append({"field": fd.field.name, "drone": plan.drone, "stop": plan.stop,
                             "position": station, "used": uses})
        for f in r.flights:
            plan = by_stop[(f.drone, f.job.stop)]
            drones[f.drone]["sorties"].append({
                "field": fd.field.name,
                "plan": plan_dir(fd.field.name, f.drone, plan.stop, plan.stops),
                "plan_sortie": f.sortie - sum(len(p.planned.sorties.sorties) for p in fd.regions
                                              if p.drone == f.drone and p.stop < plan.stop),
                "stop": plan.stop,
                "sortie": f.sortie, "ground_s": _r(f.ground_s),
                "takeoff_s": _r(f.takeoff_s), "land_s": _r(f.land_s),
                "takeoff": clock(f.takeoff_s), "land": clock(f.land_s), "pack": f.pack,
                "soc_takeoff_pct": _r(100 * f.soc_takeoff, 2),
                "soc_landing_pct": _r(100 * f.soc_landing, 2),
                "station": lonlat_list(fd.field, plan.pad_xy[None, :])[0],
            })
            airborne += f.land_s - f.takeoff_s
        span = r.end_s - r.start_s
        ha = fd.field.sprayable_m2 / 1e4
        flown_ha += ha
        wait_pack += r.wait_pack_s
        wait_sep += r.wait_separation_s
        busy += r.charger_busy_s
        limited += r.generator_limited_s
        charged += r.charged_wh
        fields.append({
            "field": fd.field.name, "sprayable_ha": _r(ha, 4),
            "drive_from": fields[-1]["field"] if fields else None,
            "drive_m": _r(fd.drive_m), "drive_s": _r(fd.drive_s),
            "start_s": _r(r.start_s), "end_s": _r(r.end_s),
            "start": clock(r.start_s), "end": clock(r.end_s), "makespan_s": _r(span),
            "lower_bound_s": {"flying": _r(fd.bound.flying_s), "charging": _r(fd.bound.charging_s),
                              "makespan": _r(fd.bound.makespan_s)},
            "makespan_over_bound": _r(span / fd.bound.makespan_s, 4),
            "bottleneck": bounds.bottleneck(r, len(fd.jobs), crew),
            "regions": [region_entry(fd, d.number) for d in fd.jobs],
            "moves": [{"drone": m.drone, "to_stop": m.stop, "start_s": _r(m.start_s),
                       "end_s": _r(m.end_s), "start": clock(m.start_s), "end": clock(m.end_s),
                       "drive_m": _r(by_stop[(m.drone, m.stop)].drive_m),
                       "from": lonlat_list(fd.field, by_stop[(m.drone, m.stop - 1)].pad_xy[None, :])[0],
                       "to": lonlat_list(fd.field, by_stop[(m.drone, m.stop)].pad_xy[None, :])[0]}
                      for m in r.drives],
        })
    start = day.fields[0].result.start_s
    end = day.fields[-1].result.end_s
    day_s = max(end - start, 1e-9)
    n = day.inputs.drones
    packs = []
    for p in day.packs:
        packs.append({
            "id": p.id, "health_pct": _r(100 * p.health, 2), "cycles": p.cycles,
            "intervals": [{"kind": i.kind, "start_s": _r(i.start_s), "end_s": _r(i.end_s),
                           "soc_start_pct": _r(100 * i.soc_start, 2),
                           "soc_end_pct": _r(100 * i.soc_end, 2),
                           **({"drone": i.drone, "sortie": i.sortie} if i.kind == "flight" else {})}
                          for i in p.history],
        })
    whole = day.fields[0].result if len(day.fields) == 1 else None
    return {
        "schedule_version": SCHEDULE_VERSION,
        "generator": f"agridrone {__version__}",
        "inputs": asdict(day.inputs),
        "charge_model": {**asdict(day.spec), "charge_v": _r(day.spec.charge_v, 2)},
        "start": clock(start), "end": clock(end),
        "fields": fields,
        "drones": [drones[k] for k in sorted(drones)],
        "packs": packs,
        "stations": stations,
        "totals": {
            "sprayable_ha": _r(flown_ha, 4),
            "day_s": _r(day_s),
            "ha_per_hour": _r(flown_ha / (day_s / 3600.0), 3),
            "airborne_s": _r(airborne),
            "flying_share": _r(airborne / (n * day_s), 4),
            "idle_waiting_for_packs_s": _r(wait_pack),
            "idle_waiting_for_separation_s": _r(wait_sep),
            "charger_busy_share": _r(busy / (crew.chargers * day_s), 4),
            "generator_limited_s": _r(limited),
            "charged_kwh": _r(charged / 1000.0, 3),
            "bottleneck": (bounds.bottleneck(whole, n, crew) if whole is not None
                           else _day_bottleneck(fields)),
        },
    }


def region_entry(fd, drone: int) -> dict:
    """A drone's region of a field: sysid, its stops' plans, sorties against the region's
    lower bound (max(ceil(liquid / tank), ceil(route energy / usable pack energy)), the
    planner's, for the whole region flown once) and against one pad for the whole region."""
    stops = sorted((p for p in fd.regions if p.drone == drone), key=lambda p: p.stop)
    first = stops[0]
    return {"drone": drone, "sysid": first.sysid,
            "plans": [plan_dir(fd.field.name, drone, p.stop, p.stops) for p in stops],
            "plan": plan_dir(fd.field.name, drone, first.stop, first.stops),
            "sprayable_ha": _r(sum(p.planned.field.sprayable_m2 for p in stops) / 1e4, 4),
            "sorties": sum(len(p.planned.sorties.sorties) for p in stops),
            "lower_bound_sorties": first.lower_bound_sorties,
            "one_pad_sorties": first.one_pad_sorties,
            "moves": len(stops) - 1}


def _day_bottleneck(fields: list[dict]) -> str:
    """The bottleneck of the longest field."""
    return max(fields, key=lambda f: f["makespan_s"])["bottleneck"]
