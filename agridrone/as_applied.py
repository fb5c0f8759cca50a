"""The as-applied map: where the pump actually ran, from the vehicle's own telemetry.

Positions come from GLOBAL_POSITION_INT, the pump output from SERVO_OUTPUT_RAW's pump
channel, both stamped with the vehicle's clock. The two series are merged on that clock
(positions interpolated at each pump report) and every stretch flown with the pump on is a
sprayed track. Its footprint is the track buffered by half a swath, as the planner's own
coverage metrics use, so simulated and planned figures compare like with like. Lengths and
areas are metres and m² in the plan's local frame; liquid litres.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import shapely

from agridrone.coverage.metrics import CoverageMetrics, coverage_metrics, spray_footprints
from agridrone.field import Field, as_multipolygon, geojson_geometry
from agridrone.geo import LocalFrame
from agridrone.preview import field_layers, finish_map, map_canvas
from agridrone.raster_canvas import LegendEntry

SPRAYED_FILL = "#9dcdf0"  # #64b5f6 at 60 % over the field's #f3f1e7

COORD_DECIMALS = 8


class FlownSortie(Protocol):
    """What the as-applied map needs of a flown sortie (a ``firmware_bridge.flight.SortieLog``
    or any record of telemetry): ``positions`` (t s, lat deg, lon deg, height m)
    and ``pump`` (t s, pump output 0..1), each in time order."""

    positions: list[tuple[float, float, float, float]]
    pump: list[tuple[float, float]]


@dataclass(frozen=True)
class AsApplied:
    """Sprayed tracks and flown tracks (lists of (n, 2) local-metre arrays, per sortie), the
    sprayed area (MultiPolygon, local metres), its metrics over the field's sprayable area,
    and liquid used (L) per sortie."""

    spray_tracks: list[list[np.ndarray]]
    flown_tracks: list[np.ndarray]
    sprayed_area: object
    metrics: CoverageMetrics
    liquid_l: list[float]

    @property
    def sprayed_m(self) -> float:
        """Length flown with the pump on, all sorties (m)."""
        return sum(_length(track) for tracks in self.spray_tracks for track in tracks)


def spray_width_m(plan: dict) -> float:
    """The width (m) one pass of a plan.json sprays: the field's spacing the vehicle is set
    for (``application.spacing_m``; each pass is flown where the swath equals its spacing),
    or the swath in plans without it."""
    return float((plan.get("application") or {}).get("spacing_m",
                                                     plan["inputs"]["swath_width_m"]))


def _length(xy: np.ndarray) -> float:
    return float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0


def _timeline(log: FlownSortie, frame: LocalFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (s), positions (n, 2 local metres) and pump outputs (0..1, held from each time to
    the next) of a sortie, positions and pump reports merged on the vehicle's clock."""
    if len(log.positions) < 2:
        return np.zeros(0), np.zeros((0, 2)), np.zeros(0)
    pos = np.array(sorted(set(log.positions)), dtype=np.float64)
    pos = pos[np.concatenate(([True], np.diff(pos[:, 0]) > 0))]
    xy = frame.to_local(pos[:, [2, 1]])
    pump = np.array(sorted(set(log.pump)) or [(pos[0, 0], 0.0)], dtype=np.float64)
    times = np.union1d(pos[:, 0], pump[(pump[:, 0] >= pos[0, 0]) & (pump[:, 0] <= pos[-1, 0]), 0])
    points = np.column_stack([np.interp(times, pos[:, 0], xy[:, 0]),
                              np.interp(times, pos[:, 0], xy[:, 1])])
    index = np.searchsorted(pump[:, 0], times, side="right") - 1
    output = np.where(index >= 0, pump[np.maximum(index, 0), 1], 0.0)
    return _split_changes(times, points, output)


def _split_changes(times: np.ndarray, points: np.ndarray, output: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insert the midpoint (in time) of every stretch over which the pump output changes:
    the change happened somewhere in between, the middle is the best guess when reports are
    sparse."""
    change = np.nonzero((output[:-1] > 0.0) != (output[1:] > 0.0))[0]
    if len(change) == 0:
        return times, points, output
    mid_t = 0.5 * (times[change] + times[change + 1])
    mid_xy = 0.5 * (points[change] + points[change + 1])
    at = change + 1
    return (np.insert(times, at, mid_t), np.insert(points, at, mid_xy, axis=0),
            np.insert(output, at, output[change]))


def _runs(points: np.ndarray, on: np.ndarray) -> list[np.ndarray]:
    """Polylines of the stretches whose start point has the pump on (each stretch ends at
    the next point)."""
    tracks, start = [], None
    for i in range(len(points) - 1):
        if on[i] and start is None:
            start = i
        if not on[i] and start is not None:
            tracks.append(points[start:i + 1])
            start = None
    if start is not None:
        tracks.append(points[start:])
    return [t for t in tracks if len(t) > 1 and _length(t) > 0.0]


def as_applied(logs: list[FlownSortie], field: Field, swath_m: float, pump_max_l_min: float
               ) -> AsApplied:
    """The as-applied map of the sorties flown: tracks, sprayed area and its coverage,
    overlap and outside figures over ``field`` (swath ``swath_m`` metres), and litres used
    (pump output × ``pump_max_l_min`` L/min over time)."""
    spray_tracks, flown, liquid = [], [], []
    for log in logs:
        times, points, output = _timeline(log, field.frame)
        spray_tracks.append(_runs(points, output > 0.0))
        flown.append(points)
        litres = float(np.sum(output[:-1] * np.diff(times))) * pump_max_l_min / 60.0 \
            if len(times) > 1 else 0.0
        liquid.append(litres)
    lines = [track for tracks in spray_tracks for track in tracks]
    metrics = coverage_metrics(lines, field.sprayable_local, swath_m)
    area = as_multipolygon(shapely.union_all(spray_footprints(lines, swath_m))) if lines \
        else as_multipolygon(shapely.Polygon())
    return AsApplied(spray_tracks, flown, area, metrics, liquid)


@dataclass(frozen=True)
class StraySpray:
    """How far the sprayed tracks (the pump running, before the half-swath buffer) strayed:
    the farthest point outside the field's outer boundary (m, 0 when none), the deepest
    point inside a no-spray zone (m, 0 when none), and the longest sprayed stretch farther
    than ``tolerance_m`` from every planned spray leg (m: pump on during a transit or a
    return)."""

    outside_field_m: float
    inside_no_spray_m: float
    off_spray_legs_m: float


def stray_spray(applied: AsApplied, field: Field, spray_lines: list[np.ndarray],
                tolerance_m: float = 1.5) -> StraySpray:
    """Measure :class:`StraySpray` of ``applied`` against ``field`` and the plan's spray legs
    ``spray_lines`` ((n, 2) local metres each)."""
    tracks = [t for tracks in applied.spray_tracks for t in tracks]
    if not tracks:
        return StraySpray(0.0, 0.0, 0.0)
    points = shapely.points(np.concatenate(tracks))
    outer = field.outer_local
    outside = float(np.max(shapely.distance(outer, points), initial=0.0))
    zones = field.no_spray_local
    inside = 0.0
    if not zones.is_empty:
        within = shapely.contains_xy(zones, np.concatenate(tracks)[:, 0],
                                     np.concatenate(tracks)[:, 1])
        if within.any():
            inside = float(np.max(shapely.distance(zones.boundary, points[within])))
    legs = shapely.union_all([shapely.LineString(line) for line in spray_lines]).buffer(tolerance_m)
    off = shapely.union_all([shapely.LineString(t) for t in tracks]).difference(legs)
    parts = getattr(off, "geoms", [off])
    longest = max((float(part.length) for part in parts if not part.is_empty), default=0.0)
    return StraySpray(outside, inside, longest)


def _lonlat(frame: LocalFrame, xy: np.ndarray) -> list[list[float]]:
    return [[round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)]
            for lon, lat in frame.to_wgs84(xy)]


def as_applied_geojson(applied: AsApplied, field: Field,
                       breakpoint_lonlat: tuple[float, float] | None) -> bytes:
    """as-applied.geojson: the field, the sprayed area, the sprayed and flown tracks per
    sortie, and the point where an interrupted sortie left its mission (``kind`` says which)."""
    features = [
        {"type": "Feature", "properties": {"kind": "field"},
         "geometry": geojson_geometry(field.boundary, COORD_DECIMALS)},
        {"type": "Feature", "properties": {
            "kind": "sprayed_area", "coverage_pct": round(applied.metrics.coverage_pct, 3),
            "overlap_pct": round(applied.metrics.overlap_pct, 3),
            "outside_m2": round(applied.metrics.outside_m2, 2)},
         "geometry": geojson_geometry(
             as_multipolygon(field.frame.geometry_to_wgs84(applied.sprayed_area)),
             COORD_DECIMALS)},
    ]
    for number, (tracks, flown) in enumerate(zip(applied.spray_tracks, applied.flown_tracks,
                                                 strict=True), start=1):
        for track in tracks:
            features.append({"type": "Feature", "properties": {
                "kind": "spray_track", "sortie": number, "length_m": round(_length(track), 2)},
                "geometry": {"type": "LineString", "coordinates": _lonlat(field.frame, track)}})
        if len(flown) > 1:
            features.append({"type": "Feature", "properties": {
                "kind": "flown_track", "sortie": number, "length_m": round(_length(flown), 2),
                "liquid_l": round(applied.liquid_l[number - 1], 3)},
                "geometry": {"type": "LineString", "coordinates": _lonlat(field.frame, flown)}})
    if breakpoint_lonlat is not None:
        features.append({"type": "Feature", "properties": {"kind": "breakpoint"},
                         "geometry": {"type": "Point", "coordinates": [
                             round(breakpoint_lonlat[0], COORD_DECIMALS),
                             round(breakpoint_lonlat[1], COORD_DECIMALS)]}})
    document = {"type": "FeatureCollection", "features": features}
    return (json.dumps(document, indent=1) + "\n").encode("utf-8")


def render_as_applied(applied: AsApplied, field: Field, station_xy: np.ndarray, title: str,
                      breakpoint_xy: np.ndarray | None = None) -> bytes:
    """PNG bytes: the field, the sprayed area, the flown tracks, the station and an
    interrupted sortie's breakpoint, in metres east and north of the field's centre."""
    flown = [np.asarray(track) for track in applied.flown_tracks if len(track) > 1]
    points = [np.asarray(station_xy).reshape(1, 2), *flown]
    if breakpoint_xy is not None:
        points.append(np.asarray(breakpoint_xy).reshape(1, 2))
    canvas = map_canvas(field, points, 0.78)
    field_layers(canvas, field, {"fill": "#f3f1e7", "edge": "#3a6b1f"})
    if not applied.sprayed_area.is_empty:
        canvas.polygons(as_multipolygon(applied.sprayed_area), fill=SPRAYED_FILL, edge="#1565c0")
        canvas.legend.append(LegendEntry("sprayed", "patch", fill=SPRAYED_FILL, edge="#1565c0"))
    if flown:
        canvas.lines(flown, "#424242", width_px=1)
        canvas.legend.append(LegendEntry("flown track", "line", colour="#424242", width_px=1))
    canvas.markers(points[0], "star", "#ff8f00", size_pt=16)
    canvas.legend.append(LegendEntry("station", "marker", colour="#ff8f00"))
    if breakpoint_xy is not None:
        canvas.markers(points[-1], "x", "#d32f2f", size_pt=12)
        canvas.legend.append(LegendEntry("sortie interrupted", "marker", colour="#d32f2f", marker="x"))
    return finish_map(canvas, title).png()
