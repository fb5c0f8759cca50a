"""Generated fields for the scale benchmarks: a smooth wavy field of a given area sampled
with a given number of boundary vertices (as a GIS export densifies a boundary, with a few
centimetres of digitising noise), optionally with round holes (wells, trees, pylons)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import shapely

from agridrone.geo import LocalFrame

ORIGIN = (71.45, 30.2)  # lon, lat near Multan
NOISE_M = 0.03  # digitising noise of the generated boundary vertices (m, standard deviation)


def scale_field(area_ha: float, vertices: int, holes: int, seed: int = 0) -> dict:
    """A GeoJSON Polygon (WGS84): a wavy shell of ``area_ha`` hectares with ``vertices``
    boundary vertices and ``holes`` 8-sided holes of 3-6 m radius spread over a grid."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radius = 1.0 + 0.08 * np.sin(3 * angles) + 0.05 * np.sin(7 * angles + 1.0)
    xy = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    xy *= math.sqrt(area_ha * 1e4 / shapely.Polygon(xy).area)
    xy += rng.normal(0.0, NOISE_M, xy.shape) if vertices > 50 else 0.0
    shell = shapely.Polygon(xy)
    rings = [xy]
    if holes:
        inner = shell.buffer(-0.2 * math.sqrt(area_ha * 1e4))
        minx, miny, maxx, maxy = inner.bounds
        side = math.ceil(math.sqrt(holes))
        placed = 0
        for gx in range(side + 2):
            for gy in range(side + 2):
                if placed == holes:
                    break
                cx = minx + (maxx - minx) * (gx + 0.5 + 0.2 * rng.uniform(-1, 1)) / (side + 2)
                cy = miny + (maxy - miny) * (gy + 0.5 + 0.2 * rng.uniform(-1, 1)) / (side + 2)
                if not inner.contains(shapely.Point(cx, cy)):
                    continue
                r = rng.uniform(3.0, 6.0)
                k = np.arange(8) * math.pi / 4 + rng.uniform(0, math.pi / 4)
                rings.append(np.column_stack([cx + r * np.cos(k), cy + r * np.sin(k)]))
                placed += 1
    frame = LocalFrame(*ORIGIN)
    coords = []
    for ring in rings:
        lonlat = [[round(float(lon), 8), round(float(lat), 8)] for lon, lat in frame.to_wgs84(ring)]
        coords.append(lonlat + [lonlat[0]])
    return {"type": "Polygon", "coordinates": coords}


def write_scale_field(path: Path, area_ha: float, vertices: int, holes: int, seed: int = 0) -> Path:
    """:func:`scale_field` written as GeoJSON to ``path``."""
    path.write_text(json.dumps(scale_field(area_ha, vertices, holes, seed)))
    return path
