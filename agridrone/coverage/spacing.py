"""Even pass spacing: each cell's passes spread evenly across its width.

The regular scan lines lie one spacing apart and the swath generator adds one more pass
where they leave a strip under an edge, so a cell whose width is not a whole number of
spacings had its last two passes closer than the others and that strip got up to twice the
dose. Here every cell's first and last pass stay where they are (at the edge margin) and
the passes between them are laid with equal gaps: one spacing per cell, at most the swath.

How many passes a cell gets (``fit_counts``): with a drone whose spray height follows the
spacing (:mod:`agridrone.spray_height`), every pass sprays a pattern as wide as its spacing,
so any spacing sums flat; but the vehicle lays one litres-per-metre for the whole field
(ArduPilot's SPRAY_PUMP_RATE × ground speed, :mod:`agridrone.dose`), set from the field's
mean spacing, so a cell laid at spacing ``g`` gets the rate × mean / ``g``. Each cell
therefore takes the count of passes whose spacing is nearest the field's spacing (the
regular lines' spacing, :func:`fitted_spacing`), no wider than the swath: one pass fewer
than the squeezed layout when the wider spacing is nearer, more when a narrower one is.
A cell of ``n`` gaps can be laid within ``field / (2 n)`` of the field's spacing, so cells
of five or more gaps stay within 10 % and the large ones, which carry most of the area,
within a few %. Without ``fit_counts`` a cell keeps its count (the fewest that cover it).
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from agridrone.coverage.strips import OrientedRings, oriented_rings, sprayed_m2
from agridrone.coverage.swaths import LINE_EPS_M, FlatRings, Passes, pass_at

MOVE_EPS_M = 1e-6  # passes closer than this to their even place stay where they are
COVER_TOL = 5e-3  # a cell re-laid with fitted counts may cover this share less of its region
COVER_TOL_M2 = 0.01  # any re-laid cell may cover this much less (m²)
EXTRA_COUNTS = 2  # counts tried beyond the fewest passes that cover a cell


def fitted_spacing(region: shapely.Geometry, margin_share: float, swath_m: float) -> float:
    """The field's spacing (m), at most ``swath_m``: the one, among those at which a part of
    ``region`` (heading frame) fits a whole number of lines, that leaves the least strip
    for squeezed passes.

    Lines start ``margin_share`` × the spacing above the region's lowest point (plus 1 mm).
    A squeezed pass is needed where a top or bottom edge of the region (an edge running
    along the passes) does not lie ``margin_share`` × the spacing beyond a line, and at the
    region's top. Candidates: for the top and for every such edge the spacings that fit it
    exactly (the widest few down to 85 % of the swath) and the swath itself; the cost of a
    spacing is the edges' lengths (the top: the region's width a spacing below it) times
    their distance from fitting (share of the spacing); the least cost wins, then the widest.
    """
    _, y0, _, y1 = region.bounds
    if y1 - y0 <= 2 * LINE_EPS_M:
        return float(swath_m)
    base = y0 + LINE_EPS_M
    edges = _along_edges(region)
    top_width = _width_at(region, y1 - min(swath_m, (y1 - y0) / 2))
    targets = [(y1 - LINE_EPS_M, -1.0, top_width), *edges]
    candidates = {float(swath_m)}
    for y, side, _ in targets:
        share = margin_share * (1 + side) if side < 0 else 0.0  # top: y - m S - (y0 + m S)
        reach = y - base
        if reach <= 0:
            continue
        for k in range(max(1, math.floor(reach / swath_m - share)), int(reach / swath_m / 0.85) + 2):
            spacing = reach / (k + (2 * margin_share if side < 0 else 0.0))
            if 0.85 * swath_m <= spacing <= swath_m:
                candidates.add(float(spacing))

    def cost(spacing: float) -> float:
        total = 0.0
        for y, side, weight in targets:
            want = y + side * margin_share * spacing  # the line the edge needs
            offset = (want - (base + margin_share * spacing)) / spacing
            total += weight * abs(offset - round(offset))
        return total

    return min(sorted(candidates, reverse=True), key=lambda sp: (round(cost(sp), 6), -sp))


def _along_edges(region: shapely.Geometry) -> list[tuple[float, float, float]]:
    """Edges of ``region`` running along the passes (within 2°): (height m, -1 for a top
    edge with the region below it, +1 for a bottom edge, length m)."""
    out = []
    for polygon in shapely.get_parts(region):
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            for (ax, ay), (bx, by) in zip(xy[:-1], xy[1:], strict=True):
                length = math.hypot(bx - ax, by - ay)
                if length < 1.0 or abs(by - ay) > math.tan(math.radians(2.0)) * length:
                    continue
                mx, my = (ax + bx) / 2, (ay + by) / 2
                below = region.contains(shapely.Point(mx, my - 0.05))
                out.append((float(my), -1.0 if below else 1.0, float(length)))
    return out


def _width_at(region: shapely.Geometry, y: float) -> float:
    """Length (m) of the region's cut by the line at height ``y``."""
    x0, _, x1, _ = region.bounds
    return float(region.intersection(shapely.LineString([(x0 - 1, y), (x1 + 1, y)])).length)


def even_spacing(
    passes: Passes, cells: list[list[int]], inner: FlatRings, outer: FlatRings,
    region: shapely.Geometry, spacing_m: float, max_spacing_m: float | None = None,
    fit_counts: bool = False,
) -> tuple[Passes, list[list[int]], np.ndarray]:
    """Passes re-laid with equal gaps inside each cell, the cells (lists of pass indices,
    bottom to top) and each pass's spacing (m), by pass index.

    ``cells`` are lists of pass indices ordered bottom to top (see
    :func:`agridrone.coverage.decomposition.decompose`); ``inner`` / ``outer`` the clip
    and reach rings of :func:`agridrone.coverage.swaths.clip_rings`; ``spacing_m`` the
    regular lines' spacing, which a cell of one pass gets; ``max_spacing_m`` the widest gap
    allowed (the swath; default ``spacing_m``); ``fit_counts``: choose each cell's count
    of passes (see the module docstring). A pass on a new line is the interval of that line
    that overlaps the nearest old pass, its ends run on to the edges it meets; when the new
    line meets the region differently (a small obstacle between two lines), or when the
    re-laid cell would spray less of ``region`` (0.5 % less with ``fit_counts``, 0.01 m²
    without) (the sprayable region in the
    heading frame; passes as wide as their spacing with ``fit_counts``, else ``spacing_m``)
    than the old one, the cell keeps its old passes and ``spacing_m``.
    """
    widest = float(spacing_m if max_spacing_m is None else max_spacing_m)
    out_y: list[float] = []
    out_x0: list[float] = []
    out_x1: list[float] = []
    out_row: list[int] = []
    out_spacing: list[float] = []
    out_cells: list[list[int]] = []
    region_rings = oriented_rings(region)
    for cell in cells:
        idx = np.asarray(cell, dtype=np.int64)
        laid = _relaid(passes, idx, inner, outer, region_rings, spacing_m, widest, fit_counts)
        start = len(out_y)
        if laid is None:
            ys, x0s, x1s = passes.y[idx], passes.x0[idx], passes.x1[idx]
            rows, gaps = passes.row[idx], np.full(len(idx), float(spacing_m))
        else:
            ys, x0s, x1s, rows, gaps = laid
        out_y += [float(v) for v in ys]
        out_x0 += [float(v) for v in x0s]
        out_x1 += [float(v) for v in x1s]
        out_row += [int(v) for v in rows]
        out_spacing += [float(v) for v in gaps]
        out_cells.append(list(range(start, len(out_y))))
    result = Passes(np.asarray(out_y, dtype=np.float64), np.asarray(out_x0, dtype=np.float64),
                    np.asarray(out_x1, dtype=np.float64), np.asarray(out_row, dtype=np.int64))
    return result, out_cells, np.asarray(out_spacing, dtype=np.float64)


def _relaid(passes: Passes, idx: np.ndarray, inner: FlatRings, outer: FlatRings,
            region: OrientedRings, spacing_m: float, widest: float, fit_counts: bool):
    """One cell's passes at equal gaps: (y, x0, x1, row, spacing), or None to keep it as it
    is (``region``: the rings of the sprayable region in the heading frame). With
    ``fit_counts`` the cell's first and last pass keep the field's spacing (they spray as
    wide as the passes of the cell beside them, or out to the field's edge at the margin)
    and the passes between them get the cell's gap."""
    if len(idx) < 2:
        return None
    first, last = float(passes.y[idx[0]]), float(passes.y[idx[-1]])
    span = last - first
    if span <= MOVE_EPS_M:
        return None
    count = len(idx)
    if fit_counts:
        fewest = max(2, math.ceil(span / widest - 1e-9) + 1)
        count = min(range(fewest, fewest + EXTRA_COUNTS + 1),
                    key=lambda n: (abs(math.log(span / (n - 1) / spacing_m)), n))
    gap = span / (count - 1)
    target = first + gap * np.arange(count)
    old_y = passes.y[idx]
    spacings = np.full(count, gap)
    if fit_counts:
        spacings[[0, -1]] = spacing_m
    if count == len(idx) and np.all(np.abs(target - old_y) <= MOVE_EPS_M):
        return old_y, passes.x0[idx], passes.x1[idx], passes.row[idx], spacings
    ys, x0s, x1s = [], [], []
    for k, y_new in enumerate(target):
        near = int(idx[np.argmin(np.abs(old_y - y_new))])
        if k in (0, count - 1) or abs(y_new - passes.y[near]) <= MOVE_EPS_M:
            ys.append(float(passes.y[near]))
            x0s.append(float(passes.x0[near]))
            x1s.append(float(passes.x1[near]))
            continue
        ends = pass_at(inner, outer, float(y_new), float(passes.x0[near]), float(passes.x1[near]))
        if ends is None:
            return None
        ys.append(float(y_new))
        x0s.append(ends[0])
        x1s.append(ends[1])
    ys_a, x0_a, x1_a = np.asarray(ys), np.asarray(x0s), np.asarray(x1s)
    before = sprayed_m2(region, old_y, passes.x0[idx], passes.x1[idx], spacing_m)
    after = sprayed_m2(region, ys_a, x0_a, x1_a, spacings if fit_counts else spacing_m)
    if after < before - (max(COVER_TOL_M2, COVER_TOL * before) if fit_counts else COVER_TOL_M2):
        return None
    rows = np.full(count, -1, dtype=np.int64)
    return ys_a, x0_a, x1_a, rows, spacings

