"""Swath generation: spray passes one swath apart over the sprayable region at a heading.

Coordinates here are the *heading frame*: local metres rotated so that passes run
along +x (see :func:`to_heading_frame`). A pass is a scan line interval at height y.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from agridrone.coverage.kernels import _clip_lines, _swath_line_ys
from agridrone.coverage.strips import (
    GRID_M,
    Boxes,
    OrientedRings,
    boxes_areas,
    oriented_rings,
    strip_boxes,
    strip_union,
)

LINE_EPS_M = 1e-3  # lines run 1 mm inside the extreme vertices, so flat edges clip cleanly
MIN_PASS_M = 1.0  # passes shorter than this are not worth a turn
CLIP_TOLERANCE_M = 5e-3  # passes may come this much closer to an edge than the margin


@dataclass(frozen=True)
class FlatRings:
    """Rings of a polygonal region flattened for the kernels (closed rings, metres).

    exterior: True for shells, False for holes, one flag per ring.
    """

    xs: np.ndarray
    ys: np.ndarray
    offsets: np.ndarray
    exterior: np.ndarray


@dataclass(frozen=True)
class Passes:
    """Spray passes in the heading frame, ordered by y then x.

    y, x0, x1: float64 arrays (metres); x0 < x1. row: int64 index of the regular scan
    line the pass lies on, or -1 for a pass added at the top or bottom of a part of the
    region that the regular lines leave uncovered.
    """

    y: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    row: np.ndarray

    def __len__(self) -> int:
        return int(self.y.shape[0])


def flatten_rings(region: Polygon | MultiPolygon) -> FlatRings:
    """Every ring of a (multi)polygon as flat coordinate arrays for the kernels."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    offsets = [0]
    exterior: list[bool] = []
    for polygon in shapely.get_parts(region):
        for index, ring in enumerate([polygon.exterior, *polygon.interiors]):
            coords = np.asarray(ring.coords, dtype=np.float64)[:, :2]
            xs.append(coords[:, 0])
            ys.append(coords[:, 1])
            offsets.append(offsets[-1] + len(coords))
            exterior.append(index == 0)
    if not xs:
        empty = np.empty(0, dtype=np.float64)
        return FlatRings(empty, empty, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=bool))
    return FlatRings(
        np.concatenate(xs), np.concatenate(ys), np.asarray(offsets, dtype=np.int64),
        np.asarray(exterior, dtype=bool),
    )


def to_heading_frame(xy: np.ndarray, heading_deg: float) -> np.ndarray:
    """Local metres -> heading frame: compass heading ``heading_deg`` (degrees clockwise
    from north) becomes +x. Input and output are (n, 2) arrays."""
    h = np.deg2rad(heading_deg)
    s, c = np.sin(h), np.cos(h)
    xy = np.asarray(xy, dtype=np.float64)
    return np.column_stack([xy[:, 0] * s + xy[:, 1] * c, -xy[:, 0] * c + xy[:, 1] * s])


def from_heading_frame(xy: np.ndarray, heading_deg: float) -> np.ndarray:
    """Heading frame -> local metres; the inverse of :func:`to_heading_frame`."""
    h = np.deg2rad(heading_deg)
    s, c = np.sin(h), np.cos(h)
    xy = np.asarray(xy, dtype=np.float64)
    return np.column_stack([xy[:, 0] * s - xy[:, 1] * c, xy[:, 0] * c + xy[:, 1] * s])


def rotated(rings: FlatRings, heading_deg: float) -> FlatRings:
    """The same rings in the heading frame."""
    xy = to_heading_frame(np.column_stack([rings.xs, rings.ys]), heading_deg)
    return FlatRings(xy[:, 0].copy(), xy[:, 1].copy(), rings.offsets, rings.exterior)


def clip_scanlines(rings: FlatRings, line_ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip horizontal lines at heights ``line_ys`` (metres, ascending) against the rings
    (even-odd rule): returns ``(line_index, x0, x1)`` arrays of inside intervals."""
    line_ys = np.ascontiguousarray(line_ys, dtype=np.float64)
    if rings.xs.size == 0 or line_ys.size == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    return _clip_lines(rings.xs, rings.ys, rings.offsets, line_ys)


def regular_line_ys(rings: FlatRings, swath_m: float) -> np.ndarray:
    """Scan-line heights one swath apart (metres), from 1 mm above the region's lowest
    vertex to its highest, in the frame the rings are given in."""
    if rings.ys.size == 0:
        return np.empty(0, dtype=np.float64)
    return _swath_line_ys(rings.ys, float(swath_m), LINE_EPS_M)


def swath_passes(
    sprayable: MultiPolygon,
    heading_deg: float,
    swath_m: float,
    edge_margin_m: float,
    reach: MultiPolygon | None = None,
) -> Passes:
    """Spray passes over a region at a heading, in the heading frame.

    Pass centres keep ``edge_margin_m`` from the edges beside them (the scan lines are
    clipped against the region shrunk by the margin); a pass's ends run on up to the
    edge it meets head-on (field edge or no-spray zone), so that its spray reaches it. Where the regular lines one swath apart leave a strip under a top edge
    (or above a bottom edge) of a part of the region, one more pass is added along it.
    """
    inner = sprayable.buffer(-edge_margin_m) if edge_margin_m > 0 else sprayable
    layout_rings = rotated(flatten_rings(inner), heading_deg)
    inner_rings, outer_rings = clip_rings(sprayable, heading_deg, edge_margin_m, reach)
    line_ys = regular_line_ys(layout_rings, swath_m)
    rows_y, rows_x0, rows_x1, rows = _clipped_rows(inner_rings, outer_rings, line_ys)

    extra = _gap_passes(
        layout_rings, inner_rings, outer_rings, line_ys, rows, rows_x0, rows_x1, swath_m, edge_margin_m
    )
    y = np.concatenate([rows_y, extra[0]])
    x0 = np.concatenate([rows_x0, extra[1]])
    x1 = np.concatenate([rows_x1, extra[2]])
    region = shapely.transform(sprayable if reach is None else reach,
                               lambda xy: to_heading_frame(xy, heading_deg))
    fill = _fill_passes(region, inner_rings, outer_rings, y, x0, x1, swath_m)
    y = np.concatenate([y, fill[0]])
    x0 = np.concatenate([x0, fill[1]])
    x1 = np.concatenate([x1, fill[2]])
    row = np.concatenate([rows, np.full(y.shape[0] - rows.shape[0], -1, dtype=np.int64)])
    keep = (x1 - x0) >= MIN_PASS_M
    order = np.lexsort((x0[keep], y[keep]))
    return Passes(y[keep][order], x0[keep][order], x1[keep][order], row[keep][order])


def clip_rings(
    sprayable: MultiPolygon, heading_deg: float, edge_margin_m: float,
    reach: MultiPolygon | None = None,
) -> tuple[FlatRings, FlatRings]:
    """The rings passes are clipped against (the region shrunk by the margin, less 5 mm)
    and the rings their ends run on to (``reach``, or the region), in the heading frame.

    The clip region is 5 mm larger than the lines are laid out on, so that a line laid
    1 mm inside an edge that is flat to within a few millimetres is not cut short.
    """
    tolerance = min(CLIP_TOLERANCE_M, edge_margin_m)
    clip_region = sprayable.buffer(tolerance - edge_margin_m) if edge_margin_m > 0 else sprayable
    inner_rings = rotated(flatten_rings(clip_region), heading_deg)
    outer_rings = rotated(flatten_rings(sprayable if reach is None else reach), heading_deg)
    return inner_rings, outer_rings


def pass_at(
    inner: FlatRings, outer: FlatRings, y: float, x0: float, x1: float
) -> tuple[float, float] | None:
    """The pass on the line at height ``y`` (m, heading frame) that takes the place of the
    pass [x0, x1]: the clipped interval of that line, ends run on, that overlaps [x0, x1];
    None when none or more than one does (the line meets a different shape there)."""
    line = np.array([y])
    index, cx0, cx1 = clip_scanlines(inner, line)
    if cx0.size == 0:
        return None
    cx0, cx1 = _extend_ends(outer, line, index, cx0, cx1)
    hits = np.flatnonzero((np.minimum(cx1, x1) > np.maximum(cx0, x0)) & (cx1 - cx0 >= MIN_PASS_M))
    if hits.size != 1:
        return None
    return float(cx0[hits[0]]), float(cx1[hits[0]])


def _clipped_rows(
    inner: FlatRings, outer: FlatRings, line_ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intervals of the shrunk region on each line, run on to the unshrunk region's edge."""
    line_index, x0, x1 = clip_scanlines(inner, line_ys)
    x0, x1 = _extend_ends(outer, line_ys, line_index, x0, x1)
    return line_ys[line_index], x0, x1, line_index


def _extend_ends(
    outer: FlatRings,
    line_ys: np.ndarray,
    line_index: np.ndarray,
    x0: np.ndarray,
    x1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Run interval ends on to the ends of the unshrunk region's interval that holds them:
    a pass flies head-on up to the edge it meets. An end facing another interval inside
    the same unshrunk interval (the line passes within the margin of a zone without
    meeting it) stays where it is, so that passes neither overlap nor spray the zone."""
    if x0.size == 0:
        return x0, x1
    o_line, o_x0, o_x1 = clip_scanlines(outer, line_ys)
    if o_line.size == 0:
        return x0.copy(), x1.copy()
    if line_ys.size == 1:
        return _extend_ends_one_line(o_x0, o_x1, x0, x1)
    # the unshrunk interval holding each interval's middle: the last on its line starting at
    # or before it (the first when none does); intervals come ordered by line, then x
    lo = np.searchsorted(o_line, line_index, side="left")
    hi = np.searchsorted(o_line, line_index, side="right")
    mid = 0.5 * (x0 + x1)
    n_out = o_line.size
    merged = np.lexsort((np.r_[np.zeros(n_out), np.ones(x0.size)], np.r_[o_x0, mid],
                         np.r_[o_line, line_index]))
    outer_before = np.cumsum(merged < n_out)  # unshrunk intervals up to each merged place
    rank = np.empty(merged.size, dtype=np.int64)
    rank[merged] = outer_before
    pos = np.clip(rank[n_out:] - 1, lo, hi - 1)
    sel = np.lexsort((x0, line_index))  # by line, then x0 (stable)
    sel = sel[hi[sel] > lo[sel]]  # lines the unshrunk region does not meet keep their ends
    pos = pos[sel]
    first = np.ones(sel.size, dtype=bool)
    first[1:] = pos[1:] != pos[:-1]
    last = np.ones(sel.size, dtype=bool)
    last[:-1] = pos[:-1] != pos[1:]
    new_x0 = x0.copy()
    new_x1 = x1.copy()
    new_x0[sel[first]] = np.minimum(x0[sel[first]], o_x0[pos[first]])
    new_x1[sel[last]] = np.maximum(x1[sel[last]], o_x1[pos[last]])
    return new_x0, new_x1


def _extend_ends_one_line(o_x0: np.ndarray, o_x1: np.ndarray, x0: np.ndarray,
                          x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_extend_ends` for intervals on one line, in plain Python (a pass re-laid or
    added on a line of its own: a handful of intervals, where array calls cost more)."""
    ox0, ox1 = o_x0.tolist(), o_x1.tolist()
    a, b = x0.tolist(), x1.tolist()
    last_out = len(ox0) - 1
    pos = [min(max(bisect.bisect_right(ox0, 0.5 * (p + q)) - 1, 0), last_out)
           for p, q in zip(a, b, strict=True)]
    order = sorted(range(len(a)), key=a.__getitem__)
    new_a, new_b = list(a), list(b)
    for n, i in enumerate(order):
        if n == 0 or pos[order[n - 1]] != pos[i]:
            new_a[i] = min(a[i], ox0[pos[i]])
        if n == len(order) - 1 or pos[order[n + 1]] != pos[i]:
            new_b[i] = max(b[i], ox1[pos[i]])
    return np.asarray(new_a, dtype=np.float64), np.asarray(new_b, dtype=np.float64)


def _extreme_vertices(rings: FlatRings) -> tuple[np.ndarray, np.ndarray]:
    """Vertices where the region locally ends upward (tops) and downward (bottoms).

    A top is a local maximum of a shell or a local minimum of a hole; a bottom the
    reverse. Runs of equal height (flat edges) count as one extreme at each end.
    Returns two (n, 2) arrays of [x, y].
    """
    tops: list[tuple[float, float]] = []
    bottoms: list[tuple[float, float]] = []
    for r in range(rings.offsets.shape[0] - 1):
        xs = rings.xs[rings.offsets[r] : rings.offsets[r + 1] - 1]
        ys = rings.ys[rings.offsets[r] : rings.offsets[r + 1] - 1]
        n = ys.shape[0]
        if n < 3:
            continue
        for i in range(n):
            prev = _neighbour_height(ys, i, -1)
            nxt = _neighbour_height(ys, i, +1)
            if prev is None or nxt is None:
                continue
            is_max = ys[i] > prev and ys[i] > nxt
            is_min = ys[i] < prev and ys[i] < nxt
            if rings.exterior[r]:
                is_top, is_bottom = is_max, is_min
            else:
                is_top, is_bottom = is_min, is_max
            if is_top:
                tops.append((xs[i], ys[i]))
            if is_bottom:
                bottoms.append((xs[i], ys[i]))
    return np.asarray(tops, dtype=np.float64).reshape(-1, 2), np.asarray(
        bottoms, dtype=np.float64
    ).reshape(-1, 2)


def _neighbour_height(ys: np.ndarray, i: int, step: int) -> float | None:
    """Height of the nearest vertex in direction ``step`` whose height differs from ys[i]."""
    n = ys.shape[0]
    j = (i + step) % n
    while j != i:
        if ys[j] != ys[i]:
            return float(ys[j])
        j = (j + step) % n
    return None


def _gap_passes(
    layout: FlatRings,
    inner: FlatRings,
    outer: FlatRings,
    line_ys: np.ndarray,
    rows: np.ndarray,
    rows_x0: np.ndarray,
    rows_x1: np.ndarray,
    swath_m: float,
    edge_margin_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extra passes along top and bottom edges that the regular lines leave uncovered.

    For each top vertex, the strip between the last line below it and the region's
    edge (the vertex height plus the margin) is left unsprayed when it is wider than
    half a swath beyond that line; one pass just under the vertex covers it, limited to
    the part of its interval that the next line up does not cover.
    """
    tolerance = 0.02 * swath_m
    tops, bottoms = _extreme_vertices(layout)
    out_y: list[float] = []
    out_x0: list[float] = []
    out_x1: list[float] = []
    seen: set[tuple[float, float, float]] = set()
    candidates = [(v, -1) for v in tops] + [(v, +1) for v in bottoms]
    for vertex, direction in candidates:
        vx, vy = float(vertex[0]), float(vertex[1])
        if direction < 0:  # a top: the strip is above the last line below it
            k = int(np.searchsorted(line_ys, vy, side="right")) - 1
            reach = line_ys[k] + swath_m / 2 if k >= 0 else -np.inf
            gap = vy + edge_margin_m - reach
            neighbour = k + 1
        else:  # a bottom: the strip is below the first line above it
            k = int(np.searchsorted(line_ys, vy, side="left"))
            reach = line_ys[k] - swath_m / 2 if k < line_ys.size else np.inf
            gap = reach - (vy - edge_margin_m)
            neighbour = k - 1
        if gap <= tolerance:
            continue
        y = vy + direction * LINE_EPS_M
        _, cx0, cx1 = clip_scanlines(inner, np.array([y]))
        if cx0.size == 0:
            continue
        nearest = int(np.argmin(np.maximum(0.0, np.maximum(cx0 - vx, vx - cx1))))
        a, b = float(cx0[nearest]), float(cx1[nearest])
        ext_a, ext_b = _extend_ends(
            outer, np.array([y]), np.zeros(1, np.int64), np.array([a]), np.array([b])
        )
        pieces = [(float(ext_a[0]), float(ext_b[0]))]
        if 0 <= neighbour < line_ys.size:
            covered = rows == neighbour
            pieces = _subtract_intervals(pieces, rows_x0[covered], rows_x1[covered])
        for p0, p1 in pieces:
            key = (round(y, 6), round(p0, 6), round(p1, 6))
            if p1 - p0 >= MIN_PASS_M and key not in seen:
                seen.add(key)
                out_y.append(y)
                out_x0.append(p0)
                out_x1.append(p1)
    return (
        np.asarray(out_y, dtype=np.float64),
        np.asarray(out_x0, dtype=np.float64),
        np.asarray(out_x1, dtype=np.float64),
    )


def _subtract_intervals(
    pieces: list[tuple[float, float]], cut_x0: np.ndarray, cut_x1: np.ndarray
) -> list[tuple[float, float]]:
    """The parts of ``pieces`` outside every [cut_x0, cut_x1] interval."""
    for c0, c1 in zip(cut_x0, cut_x1, strict=True):
        remaining: list[tuple[float, float]] = []
        for p0, p1 in pieces:
            if c1 <= p0 or c0 >= p1:
                remaining.append((p0, p1))
                continue
            if c0 > p0:
                remaining.append((p0, float(c0)))
            if c1 < p1:
                remaining.append((float(c1), p1))
        pieces = remaining
    return pieces


def _fill_passes(
    region,
    inner: FlatRings,
    outer: FlatRings,
    y: np.ndarray,
    x0: np.ndarray,
    x1: np.ndarray,
    swath_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Passes for the strips the other passes still leave unsprayed.

    The unsprayed part of ``region`` (heading frame) is cut out with shapely (on the 1 mm
    grid), the ground each candidate pass sprays measured exactly (:mod:`.strips`). For each
    piece at least a swath long and covering a swath² or more, the pass heights inside the
    layout are tried (steps of a tenth of a swath), each pass over the piece's length, and
    the one whose strip sprays the most unsprayed ground net of the ground it sprays a
    second time is added, if that net is positive. This catches strips under edges that
    run nearly along the passes without a vertex at their top (no extreme to trigger
    :func:`_gap_passes`); the thin wedges a slanted edge leaves beside each pass end (at most
    half a swath deep) are left: a pass over one would spray more ground twice than it
    fills.
    """
    half = swath_m / 2
    missed = shapely.difference(region, strip_union(y, x0, x1, swath_m), grid_size=GRID_M)
    sprayed = strip_boxes(y, x0, x1, swath_m)
    region_rings = oriented_rings(region)
    out_y: list[float] = []
    out_x0: list[float] = []
    out_x1: list[float] = []
    pieces = shapely.get_parts(missed)
    areas = shapely.area(pieces).tolist()  # all at once: per piece they cost more than the fill
    bounds = [tuple(b) for b in shapely.bounds(pieces).tolist()]
    for k in sorted(range(len(pieces)), key=lambda k: (-areas[k], bounds[k])):
        piece = pieces[k]
        px0, py0, px1, py1 = bounds[k]
        if areas[k] < swath_m**2 or px1 - px0 < swath_m:
            continue
        best: tuple[float, float, float, float] | None = None
        piece_rings = oriented_rings(piece)
        for y_try, a3, b3 in _fill_candidates(inner, outer, px0, py0, px1, py1, swath_m):
            gain = _net_fill_m2(region_rings, piece_rings, sprayed, y_try, a3, b3, half)
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, y_try, a3, b3)
        if best is not None:
            out_y.append(best[1])
            out_x0.append(best[2])
            out_x1.append(best[3])
    return (np.asarray(out_y, dtype=np.float64), np.asarray(out_x0, dtype=np.float64),
            np.asarray(out_x1, dtype=np.float64))


def _fill_candidates(inner: FlatRings, outer: FlatRings, px0: float, py0: float, px1: float,
                     py1: float, swath_m: float) -> list[tuple[float, float, float]]:
    """The passes :func:`_fill_passes` weighs for a missed piece with bounds ``px0, py0, px1,
    py1`` (m, heading frame): ``(y, x0, x1)`` for every interval of the clip region on the
    lines a tenth of a swath apart from half a swath below the piece to half a swath above
    it, cut to the piece's extent widened by half a swath and kept when still a swath long;
    an end that was not cut runs on to the edge of the reach interval holding the
    interval's middle (:func:`_extend_ends` of that interval alone). In order of height,
    then x. All lines are clipped in one call of each kernel."""
    half = swath_m / 2
    line_ys = np.arange(py0 - half, py1 + half, swath_m / 10)
    line, cx0, cx1 = clip_scanlines(inner, line_ys)
    a2 = np.maximum(cx0, px0 - half)
    b2 = np.minimum(cx1, px1 + half)
    kept = np.flatnonzero(b2 - a2 >= swath_m)
    if kept.size == 0:
        return []
    o_line, o_x0, o_x1 = clip_scanlines(outer, line_ys)
    o_lo = np.searchsorted(o_line, line[kept], side="left").tolist()
    o_hi = np.searchsorted(o_line, line[kept], side="right").tolist()
    candidates = []
    for k, lo, hi in zip(kept.tolist(), o_lo, o_hi, strict=True):
        a, b = float(cx0[k]), float(cx1[k])
        ext_a, ext_b = a, b
        if hi > lo:
            ext = _extend_ends_one_line(o_x0[lo:hi], o_x1[lo:hi], cx0[k:k + 1], cx1[k:k + 1])
            ext_a, ext_b = float(ext[0][0]), float(ext[1][0])
        a3 = ext_a if a2[k] == a else float(a2[k])
        b3 = ext_b if b2[k] == b else float(b2[k])
        candidates.append((float(line_ys[line[k]]), a3, b3))
    return candidates


def _net_fill_m2(region: OrientedRings, piece: OrientedRings, sprayed: Boxes, y: float,
                 x0: float, x1: float, half: float) -> float:
    """Ground (m², heading frame) of ``piece`` that the strip of a pass at height ``y`` from
    ``x0`` to ``x1``, ``2 half`` wide, sprays, less the ground of ``region`` it sprays that
    the ``sprayed`` strips cover already (the region under those strips clipped to it)."""
    bottom, top = y - half, y + half
    strip = Boxes(np.array([x0]), np.array([bottom]), np.array([x1]), np.array([top]))
    new = boxes_areas(piece, strip)[0]
    twice = boxes_areas(region, sprayed.clipped(x0, bottom, x1, top))[0]
    return new - twice
