"""Hand-built plan.json dicts for the mission, fence, export and show tests (until the
planner exists they stand in for its output), and a check that they follow the schema."""

from __future__ import annotations

import json
import math
from importlib import resources

import jsonschema
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, mapping

from agridrone.drone import load_drone
from agridrone.geo import LocalFrame
from agridrone.outputs import write_files_atomically
from agridrone.plan_file import SCHEMA_VERSION
from missions.files import render_mission_files

LON_0, LAT_0 = 74.3587, 31.5204  # Lahore
SWATH_M = 5.0
RATE_L_HA = 15.0


def _round(lonlat: np.ndarray) -> list[list[float]]:
    return [[round(float(lon), 8), round(float(lat), 8)] for lon, lat in lonlat]


def _scan_segments(sprayable: Polygon, swath: float) -> list[list[tuple[float, float]]]:
    """Boustrophedon-ish passes along x (local metres): per scan line the intervals inside
    the sprayable area, left cells first (the tests only need a flyable order)."""
    minx, miny, maxx, maxy = sprayable.bounds
    lines = []
    y = miny + swath / 2
    while y < maxy:
        cut = sprayable.intersection(LineString([(minx - 1, y), (maxx + 1, y)]))
        parts = sorted(
            (list(g.coords) for g in getattr(cut, "geoms", [cut]) if not g.is_empty),
            key=lambda c: min(p[0] for p in c),
        )
        lines.append([[(min(p[0] for p in c), y), (max(p[0] for p in c), y)] for c in parts])
        y += swath
    cells: dict[int, list] = {}
    for line in lines:
        for k, segment in enumerate(line):
            cells.setdefault(k if len(line) > 1 else -1, []).append(segment)
    ordered = []
    for key in sorted(cells):
        for n, (a, b) in enumerate(cells[key]):
            ordered.append([a, b] if n % 2 == 0 else [b, a])
    return ordered


# figures a sortie of plan.json carries; hand-built plans only need them to be well-formed
SORTIE_FIGURES = {"distance_m": 0.0, "spray_m": 0.0, "time_s": 0.0, "liquid_l": 0.0,
                  "load_l": 0.0, "energy_wh": 0.0, "soc_landing_pct": 100.0,
                  "min_cell_v": 4.2, "breakpoint": None}


def make_plan(
    field_local: Polygon,
    *,
    station_local: tuple[float, float] = (-30.0, -30.0),
    passes_per_sortie: int = 8,
    speed: float = 5.0,
    transit_speed: float = 8.0,
    alt: float = 3.0,
    frame: LocalFrame | None = None,
) -> dict:
    """A plan.json dict for a field given in local metres around Lahore: passes one swath
    apart inside the field minus its holes, grouped into sorties from and to the station."""
    frame = frame or LocalFrame(LON_0, LAT_0)
    flow_l_min = RATE_L_HA * SWATH_M * speed * 60.0 / 10_000.0
    sprayable = Polygon(field_local.exterior).difference(
        shapely.union_all([Polygon(r) for r in field_local.interiors])
    ) if field_local.interiors else field_local
    segments = _scan_segments(sprayable.buffer(-SWATH_M / 2), SWATH_M)
    station = np.array(station_local, dtype=float)
    sorties = []
    for start in range(0, len(segments), passes_per_sortie):
        chunk = segments[start:start + passes_per_sortie]
        legs = []
        position = station
        for offset, (a, b) in enumerate(chunk):
            legs.append({"kind": "transit", "coords": _round(frame.to_wgs84([position, a]))})
            legs.append({"kind": "spray", "pass": start + offset,
                         "coords": _round(frame.to_wgs84([a, b])), "spacing_m": SWATH_M,
                         "speed_m_s": speed, "flow_l_min": flow_l_min})
            position = np.array(b)
        legs.append({"kind": "transit", "coords": _round(frame.to_wgs84([position, station]))})
        sorties.append({"index": len(sorties) + 1, "legs": legs, **SORTIE_FIGURES})
    field_wgs = frame.geometry_to_wgs84(field_local)
    holes = [frame.geometry_to_wgs84(Polygon(r)) for r in field_local.interiors]
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": "tests",
        "inputs": {
            "field_file": "test.geojson", "exclude_files": [], "drone": "agras-t30",
            "rate_l_ha": RATE_L_HA, "swath_width_m": SWATH_M,
            "edge_margin_m": SWATH_M / 2, "headland_passes": 0, "heading_deg": 0.0,
            "home": None, "stations_file": None, "speed_m_s": speed,
            "transit_speed_m_s": transit_speed, "alt_m": alt, "turn_time_s": 2.0,
            "temp_c": 25.0, "swap_time_s": 90.0, "autopilot": "ardupilot",
            "alt_frame": "relative", "transit_alt_m": None, "end": "rtl", "max_items": None,
            "fence_margin_m": 10.0, "repair": False, "max_area_ha": 2000.0,
        },
        "frame": {"proj": frame.proj, "lon_0": frame.lon_0, "lat_0": frame.lat_0},
        "field": mapping(MultiPolygon([field_wgs])),
        "no_spray": mapping(MultiPolygon(holes)),
        "metrics": {
            "area_ha": field_local.area / 1e4, "sprayable_ha": sprayable.area / 1e4,
            "coverage_pct": 0.0, "overlap_pct": 0.0, "outside_m2": 0.0, "heading_deg": 0.0,
            "passes": len(segments), "turns": 0, "spray_m": 0.0, "deadhead_m": 0.0,
            "est_time_s": 0.0,
            "dose": {"mean_l_ha": RATE_L_HA, "cv_pct": 0.0, "within_10_pct": 100.0,
                     "within_20_pct": 100.0, "above_150_pct": 0.0, "below_50_pct": 0.0,
                     "outside_field_l": 0.0, "no_spray_l": 0.0, "liquid_l": 0.0,
                     "target_l": 0.0, "liquid_vs_target_pct": 100.0, "cell_m": 1.0},
        },
        "drone": load_drone("agras-t30").as_dict(),
        "rate_l_ha": RATE_L_HA,
        "application": {"spacing_m": SWATH_M, "litres_per_m": RATE_L_HA * SWATH_M / 10_000.0,
                        "flow_l_min": flow_l_min,
                        "spray_pump_rate": flow_l_min / load_drone("agras-t30").pump_max_l_min
                        * 100.0 / speed},
        "lower_bound_sorties": 1,
        "totals": {"sorties": len(sorties), "liquid_l": 0.0, "energy_wh": 0.0, "time_s": 0.0,
                   "swap_time_s": 90.0, "deadhead_m": 0.0},
        "station": _round(frame.to_wgs84([station]))[0],
        "sorties": sorties,
    }


def as_json(plan: dict) -> dict:
    """The plan as it comes back from plan.json (tuples become lists)."""
    return json.loads(json.dumps(plan))


def rectangle_plan(**kwargs) -> dict:
    """A 200 m × 100 m field rotated by 20°, station 30 m off a corner."""
    field = shapely.affinity.rotate(Polygon([(0, 0), (200, 0), (200, 100), (0, 100)]), 20,
                                    origin=(0, 0))
    return as_json(make_plan(field, **kwargs))


def holed_plan(**kwargs) -> dict:
    """A 200 m × 120 m field with a 40 m square hole (a tube well) in the middle."""
    field = Polygon([(0, 0), (200, 0), (200, 120), (0, 120)],
                    [[(80, 40), (120, 40), (120, 80), (80, 80)]])
    return as_json(make_plan(field, **kwargs))


def key(item) -> tuple:
    """An item's fields with NaN made comparable (NaN != NaN in Python)."""
    return tuple("nan" if isinstance(v, float) and math.isnan(v) else v
                 for v in (item.seq, item.frame, item.command, item.param1, item.param2,
                           item.param3, item.param4, item.x, item.y, item.z,
                           item.autocontinue, item.mission_type, item.current))


def keys(items) -> list[tuple]:
    """:func:`key` of every item."""
    return [key(item) for item in items]


def plan_schema() -> dict:
    """agridrone/schema/plan.schema.json."""
    return json.loads(resources.files("agridrone").joinpath("schema/plan.schema.json").read_text())


@pytest.mark.parametrize("factory", [rectangle_plan, holed_plan])
def test_hand_built_plans_follow_the_plan_schema(factory):
    plan = factory()
    jsonschema.Draft202012Validator(plan_schema()).validate(plan)
    assert len(plan["sorties"]) >= 2
    assert all(leg["coords"][0] != leg["coords"][-1] for s in plan["sorties"] for leg in s["legs"])


def write_mission_files(plan: dict, outdir, **options) -> list[str]:
    """Write a plan's mission files as `agridrone plan` does (one atomic batch) and return
    the warnings."""
    files, warnings = render_mission_files(plan, **options)
    write_files_atomically(outdir, files)
    return warnings
