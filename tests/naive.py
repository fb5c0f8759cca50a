"""Slow, obviously correct references for the numba kernels (after stumpy's tests/naive.py)."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString


def clip_lines_plain(rings: list[list[tuple[float, float]]], line_ys: list[float]):
    """Even-odd clipping of horizontal lines against closed rings, in plain Python.

    Returns a list of (line_index, x0, x1) tuples ordered by line then x.
    """
    out = []
    for k, y in enumerate(line_ys):
        xs = []
        for ring in rings:
            for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:], strict=True):
                if min(y1, y2) <= y < max(y1, y2):
                    xs.append(x1 + (y - y1) * (x2 - x1) / (y2 - y1))
        xs.sort()
        for i in range(0, len(xs) - 1, 2):
            out.append((k, xs[i], xs[i + 1]))
    return out


def clip_lines_shapely(region, line_ys: list[float]):
    """The same clipping done by shapely: each line intersected with the region."""
    x_min, _, x_max, _ = region.bounds
    out = []
    for k, y in enumerate(line_ys):
        piece = region.intersection(LineString([(x_min - 1, y), (x_max + 1, y)]))
        for part in shapely.get_parts(piece):
            if part.geom_type == "LineString" and part.length > 0:
                xs = sorted(c[0] for c in part.coords)
                out.append((k, xs[0], xs[-1]))
    return sorted(out)


def heading_terms_plain(rings, heading_deg: float, spacing: float, end_offset: float, extension: float):
    """Spray length, pass count and pass-count changes for one heading, in plain Python."""
    h = math.radians(heading_deg)
    s, c = math.sin(h), math.cos(h)
    rotated = [[(x * s + y * c, -x * c + y * s) for x, y in ring] for ring in rings]
    all_y = [p[1] for ring in rotated for p in ring]
    y_min, y_max = min(all_y) + end_offset, max(all_y) - end_offset
    n = int(math.floor((y_max - y_min) / spacing)) + 1 if y_max >= y_min else 0
    line_ys = [y_min + spacing * i for i in range(n)]
    intervals = clip_lines_plain(rotated, line_ys)
    per_line = [0] * n
    spray = 0.0
    for k, x0, x1 in intervals:
        per_line[k] += 1
        spray += x1 - x0 + 2 * extension
    changes, previous = 0, 0
    for count in per_line:
        changes += abs(count - previous)
        previous = count
    return spray, len(intervals), changes + previous


def shapely_heading_spray(region, heading_deg: float, spacing: float) -> tuple[float, int]:
    """Spray length and pass count at a heading computed with shapely alone (the bench's
    reference implementation): rotate the region, cut it with lines, measure."""
    rotated = shapely.affinity.rotate(region, heading_deg - 90.0, origin=(0, 0))
    _, y_min, _, y_max = rotated.bounds
    x_min, _, x_max, _ = rotated.bounds
    ys = np.arange(y_min + 1e-3, y_max - 1e-3 + 1e-12, spacing)
    lines = shapely.linestrings(
        np.stack([np.column_stack([np.full_like(ys, x_min - 1), ys]),
                  np.column_stack([np.full_like(ys, x_max + 1), ys])], axis=1)
    )
    pieces = shapely.intersection(lines, rotated)
    return float(shapely.length(pieces).sum()), int(sum(len(shapely.get_parts(p)) for p in pieces))


def deposit_plain(pieces, offsets, density, x0: float, y0: float, cell: float, ny: int, nx: int):
    """The dose kernel in plain Python: for every pixel centre and every straight piece
    (ax, ay, bx, by, litres per metre), the piece's litres per metre times the pattern
    density at the lateral offset, when the centre's projection falls on the piece
    (0 <= t < length). A piece may carry a sixth value, its pattern's widening ``scale``
    (density pat(d / scale) / scale). Returns a list of rows (row 0 southernmost), L/m²."""
    grid = [[0.0] * nx for _ in range(ny)]
    for piece in pieces:
        ax, ay, bx, by, lpm = piece[:5]
        scale = piece[5] if len(piece) > 5 else 1.0
        length = math.hypot(bx - ax, by - ay)
        if length <= 0 or lpm <= 0:
            continue
        ux, uy = (bx - ax) / length, (by - ay) / length
        for i in range(ny):
            py = y0 + (i + 0.5) * cell
            for j in range(nx):
                px = x0 + (j + 0.5) * cell
                t = (px - ax) * ux + (py - ay) * uy
                if not 0 <= t < length:
                    continue
                d = -(px - ax) * uy + (py - ay) * ux
                grid[i][j] += lpm / scale * float(np.interp(d / scale, offsets, density,
                                                            left=0.0, right=0.0))
    return grid


def naive_transit_path(allowed, a, b, tolerance_m=0.01):
    """The shortest path from a to b inside ``allowed`` (local metres) the plain way: a
    dense visibility graph over every reflex vertex, each pair tested with shapely, and
    one Dijkstra from a to b (the planner's structure before caching); (n, 2) array or
    None when b cannot be reached."""
    import heapq

    import shapely

    free = shapely.buffer(allowed, tolerance_m)
    oriented = shapely.orient_polygons(allowed)
    nodes = []
    for polygon in shapely.get_parts(oriented):
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)[:-1, :2]
            for k in range(len(xy)):
                before, here, after = xy[k - 1], xy[k], xy[(k + 1) % len(xy)]
                turn = (here - before)[0] * (after - here)[1] - (here - before)[1] * (after - here)[0]
                if turn < 0:
                    nodes.append(here)
    points = [np.asarray(a, float), np.asarray(b, float), *nodes]

    def sees(p, q):
        return bool(free.covers(shapely.LineString([p, q])))

    if sees(points[0], points[1]):
        return np.vstack([points[0], points[1]])
    dist = {0: 0.0}
    parent = {0: -1}
    heap = [(0.0, 0)]
    done = set()
    while heap:
        d, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u == 1:
            break
        for v in range(len(points)):
            if v == u or v in done or not sees(points[u], points[v]):
                continue
            nd = d + float(np.hypot(*(points[v] - points[u])))
            if nd < dist.get(v, np.inf):
                dist[v] = nd
                parent[v] = u
                heapq.heappush(heap, (nd, v))
    if 1 not in done:
        return None
    route = [1]
    while parent[route[-1]] != -1:
        route.append(parent[route[-1]])
    return np.vstack([points[k] for k in route[::-1]])


def dose_sums_plain(dose: np.ndarray, sprayable: np.ndarray, in_field: np.ndarray, rate: float):
    """numpy twin of ``agridrone.dose_kernels._dose_sums`` (the figures dose_metrics had
    from numpy masks before the kernel)."""
    inside = dose[sprayable]
    n = int(inside.size)
    mean = float(inside.mean()) if n else 0.0
    std = float(inside.std()) if n else 0.0
    ratio = inside / rate
    return (n, mean, std, int((np.abs(ratio - 1.0) <= 0.1).sum()),
            int((np.abs(ratio - 1.0) <= 0.2).sum()), int((ratio > 1.5).sum()),
            int((ratio < 0.5).sum()), float(dose[~in_field].sum()),
            float(dose[in_field & ~sprayable].sum()))


def attach_extras_plain(ys, x0s, x1s, rows, cells: list[list[int]]) -> list[list[int]]:
    """The extra passes (row < 0) joined to the cells one by one, as the decomposition did
    before its search for the rows beside a pass was hoisted out of the loop over cells:
    each extra joins the first cell whose last pass overlaps it and lies on the highest
    regular row below it, or whose first pass overlaps it on the lowest regular row above
    it; else it starts a cell of its own."""
    cells = [list(c) for c in cells]
    regular = [i for i in range(len(ys)) if rows[i] >= 0]

    def beside(y, below):
        found = None
        for i in regular:  # the first of equally high passes, in pass order
            if (ys[i] < y if below else ys[i] > y) and (
                    found is None or (ys[i] > ys[found] if below else ys[i] < ys[found])):
                found = i
        return -1 if found is None else rows[found]

    def overlap(a, b):
        return min(x1s[a], x1s[b]) > max(x0s[a], x0s[b])

    for extra in [i for i in range(len(ys)) if rows[i] < 0]:
        y = ys[extra]
        for cell in cells:
            last, first = cell[-1], cell[0]
            if overlap(last, extra) and ys[last] < y and beside(y, True) == rows[last]:
                cell.append(extra)
                break
            if overlap(first, extra) and ys[first] > y and beside(y, False) == rows[first]:
                cell.insert(0, extra)
                break
        else:
            cells.append([extra])
    return cells


def extend_ends_plain(outer: list[tuple[int, float, float]], line_index, x0, x1):
    """Pass ends run on to the ends of the unshrunk interval (``outer``: (line, x0, x1),
    ordered by line then x) holding each pass's middle (the last starting at or before
    it, the first when none does): on each line, among passes sorted by x0 that share an
    unshrunk interval, the first takes its start and the last its end; passes on a line
    the unshrunk region does not meet stay as they are."""
    new_x0, new_x1 = list(x0), list(x1)
    for line in sorted(set(line_index)):
        spans = [(a, b) for k, a, b in outer if k == line]
        if not spans:
            continue
        mine = sorted((i for i in range(len(x0)) if line_index[i] == line), key=lambda i: x0[i])
        held = []
        for i in mine:
            middle = 0.5 * (x0[i] + x1[i])
            starts = [j for j, (a, _) in enumerate(spans) if a <= middle]
            held.append(starts[-1] if starts else 0)
        for n, i in enumerate(mine):
            if n == 0 or held[n - 1] != held[n]:
                new_x0[i] = min(x0[i], spans[held[n]][0])
            if n == len(mine) - 1 or held[n + 1] != held[n]:
                new_x1[i] = max(x1[i], spans[held[n]][1])
    return new_x0, new_x1


def fill_runs_plain(rows, starts, stops, ny: int, nx: int) -> np.ndarray:
    """Plain-Python twin of ``agridrone.dose_kernels._fill_runs``."""
    mask = np.zeros((ny, nx), dtype=bool)
    for r, a, b in zip(rows, starts, stops, strict=True):
        for j in range(a, b):
            mask[r, j] = True
    return mask


def block_means_plain(dose: np.ndarray, in_field: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """numpy twin of ``agridrone.dose_kernels._block_means`` (what dose_map.screen_raster
    computed before): block sums one offset at a time."""
    shown = in_field | (dose > 0.0)
    by, bx = dose.shape[0] // k, dose.shape[1] // k
    weight = np.zeros((by, bx), dtype=np.int64)
    total = np.zeros((by, bx))
    for a in range(k):
        for b in range(k):
            part = shown[a: by * k: k, b: bx * k: k]
            weight += part
            total += np.where(part, dose[a: by * k: k, b: bx * k: k], 0.0)
    return total / np.maximum(weight, 1), weight == 0


def _clipped_ring_area(ring, left: float, bottom: float, right: float, top: float) -> float:
    """Signed area of a closed ring clipped to a rectangle (Sutherland-Hodgman, one
    half-plane per side: exact for the area of any ring against a convex window)."""
    points = list(ring[:-1])
    sides = [(0, left, 1.0), (0, right, -1.0), (1, bottom, 1.0), (1, top, -1.0)]
    for axis, value, keep in sides:
        if not points:
            return 0.0
        clipped = []
        for i, p in enumerate(points):
            q = points[(i + 1) % len(points)]
            p_in = keep * (p[axis] - value) >= 0
            q_in = keep * (q[axis] - value) >= 0
            if p_in:
                clipped.append(p)
            if p_in != q_in:
                t = (value - p[axis]) / (q[axis] - p[axis])
                cut = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
                cut[axis] = value
                clipped.append(tuple(cut))
        points = clipped
    return 0.5 * sum(p[0] * q[1] - q[0] * p[1]
                     for p, q in zip(points, points[1:] + points[:1], strict=True))


def boxes_areas_plain(rings, left, bottom, right, top) -> tuple[float, float]:
    """Area of the region of oriented closed rings (exteriors counter-clockwise, holes
    clockwise) under the union of boxes, and the union's area, in plain Python: the plane
    cut into cells by every box side, each covered cell clipped against every ring."""
    boxes = [(a, b, c, d) for a, b, c, d in zip(left, bottom, right, top, strict=True)
             if c > a and d > b]
    xs = sorted({v for a, _, c, _ in boxes for v in (a, c)})
    ys = sorted({v for _, b, _, d in boxes for v in (b, d)})
    inside = union = 0.0
    for y0, y1 in zip(ys[:-1], ys[1:], strict=True):
        for x0, x1 in zip(xs[:-1], xs[1:], strict=True):
            if any(a <= x0 and x1 <= c and b <= y0 and y1 <= d for a, b, c, d in boxes):
                union += (x1 - x0) * (y1 - y0)
                inside += sum(_clipped_ring_area(ring, x0, y0, x1, y1) for ring in rings)
    return inside, union


def each_box_area_plain(rings, left, bottom, right, top) -> list[float]:
    """Area of the region of oriented closed rings under each box on its own (0 for a box
    with no area), in plain Python."""
    return [sum(_clipped_ring_area(ring, a, b, c, d) for ring in rings) if c > a and d > b else 0.0
            for a, b, c, d in zip(left, bottom, right, top, strict=True)]
