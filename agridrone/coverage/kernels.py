"""numba kernels of the coverage planner: scan-line clipping, the heading search and the
area of a region under strips.

Private, typed-array-in/typed-array-out functions; the public wrappers in
:mod:`agridrone.coverage.swaths`, :mod:`agridrone.coverage.heading` and
:mod:`agridrone.coverage.strips` document them.
Rings are passed flattened: ``xs``, ``ys`` hold every ring's vertices (closed rings,
last vertex equal to the first) one ring after another, and ``ring_offsets[r]`` …
``ring_offsets[r + 1]`` delimit ring ``r``. For clipping, inside is decided by the even-odd
rule over all rings, so holes need no special case; the area kernels take oriented rings
(exteriors counter-clockwise, holes clockwise), whose signed areas add up to the region's.
"""

from __future__ import annotations

import numpy as np

from agridrone.aot import kernel


@kernel()
def _rotate_to_heading(xs, ys, heading_deg):
    """Rotate points so that the compass heading ``heading_deg`` points along +x."""
    h = np.deg2rad(heading_deg)
    s = np.sin(h)
    c = np.cos(h)
    rx = xs * s + ys * c
    ry = -xs * c + ys * s
    return rx, ry


@kernel()
def _first_at_or_above(values, v):
    """Index of the first of the ascending ``values`` >= v (np.searchsorted, side left),
    written out: numba's searchsorted and sort take seconds to compile on first use."""
    lo = 0
    hi = values.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel()
def _sort_slice(a, start, stop):
    """Sort ``a[start:stop]`` in place (insertion sort: a scan line crosses few edges)."""
    for i in range(start + 1, stop):
        v = a[i]
        j = i - 1
        while j >= start and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@kernel()
def _scanline_crossings(xs, ys, ring_offsets, line_ys):
    """Crossings of horizontal lines with every ring edge.

    An edge crosses line y when min(y1, y2) <= y < max(y1, y2) (half-open, so a line
    through a vertex counts it once). Returns ``(offsets, cross_x)``: the crossings of
    line k are ``cross_x[offsets[k]:offsets[k + 1]]``, sorted by x.
    """
    n_lines = line_ys.shape[0]
    counts = np.zeros(n_lines, dtype=np.int64)
    n_rings = ring_offsets.shape[0] - 1
    for r in range(n_rings):
        for i in range(ring_offsets[r], ring_offsets[r + 1] - 1):
            y1 = ys[i]
            y2 = ys[i + 1]
            lo = min(y1, y2)
            hi = max(y1, y2)
            if lo == hi:
                continue
            k0 = _first_at_or_above(line_ys, lo)
            k1 = _first_at_or_above(line_ys, hi)
            for k in range(k0, k1):
                counts[k] += 1
    offsets = np.zeros(n_lines + 1, dtype=np.int64)
    for k in range(n_lines):
        offsets[k + 1] = offsets[k] + counts[k]
    cross_x = np.empty(offsets[n_lines], dtype=np.float64)
    fill = offsets[:-1].copy()
    for r in range(n_rings):
        for i in range(ring_offsets[r], ring_offsets[r + 1] - 1):
            x1 = xs[i]
            y1 = ys[i]
            x2 = xs[i + 1]
            y2 = ys[i + 1]
            lo = min(y1, y2)
            hi = max(y1, y2)
            if lo == hi:
                continue
            k0 = _first_at_or_above(line_ys, lo)
            k1 = _first_at_or_above(line_ys, hi)
            slope = (x2 - x1) / (y2 - y1)
            for k in range(k0, k1):
                cross_x[fill[k]] = x1 + (line_ys[k] - y1) * slope
                fill[k] += 1
    for k in range(n_lines):
        _sort_slice(cross_x, offsets[k], offsets[k + 1])
    return offsets, cross_x


@kernel()
def _intervals_from_crossings(offsets, cross_x):
    """Inside intervals (even-odd pairs of crossings) of every line.

    Returns ``(line_index, x0, x1)`` arrays, ordered by line then by x. A line with an
    odd number of crossings (only possible through rounding) drops its last one.
    """
    n_lines = offsets.shape[0] - 1
    total = 0
    for k in range(n_lines):
        total += (offsets[k + 1] - offsets[k]) // 2
    line_index = np.empty(total, dtype=np.int64)
    x0 = np.empty(total, dtype=np.float64)
    x1 = np.empty(total, dtype=np.float64)
    j = 0
    for k in range(n_lines):
        n_pairs = (offsets[k + 1] - offsets[k]) // 2
        for p in range(n_pairs):
            line_index[j] = k
            x0[j] = cross_x[offsets[k] + 2 * p]
            x1[j] = cross_x[offsets[k] + 2 * p + 1]
            j += 1
    return line_index, x0, x1


@kernel("Tuple((int64[::1], float64[::1], float64[::1]))"
        "(float64[::1], float64[::1], int64[::1], float64[::1])")
def _clip_lines(xs, ys, ring_offsets, line_ys):
    """Clip horizontal lines at heights ``line_ys`` (sorted ascending) against the rings:
    the inside intervals as ``(line_index, x0, x1)``."""
    offsets, cross_x = _scanline_crossings(xs, ys, ring_offsets, line_ys)
    return _intervals_from_crossings(offsets, cross_x)


@kernel("float64[::1](float64[::1], float64, float64)")
def _swath_line_ys(ry, spacing, end_offset):
    """Scan-line heights one ``spacing`` apart from ``min(ry) + end_offset`` up to
    ``max(ry) - end_offset``."""
    y_min = ry.min() + end_offset
    y_max = ry.max() - end_offset
    if y_max < y_min:
        return np.empty(0, dtype=np.float64)
    n = int(np.floor((y_max - y_min) / spacing)) + 1
    return y_min + spacing * np.arange(n).astype(np.float64)


@kernel()
def _heading_cost_terms(xs, ys, ring_offsets, heading_deg, spacing, end_offset, end_extension):
    """Spray length (m), number of passes and number of changes in the count of passes per
    line (a proxy for cells) for one heading."""
    rx, ry = _rotate_to_heading(xs, ys, heading_deg)
    line_ys = _swath_line_ys(ry, spacing, end_offset)
    offsets, cross_x = _scanline_crossings(rx, ry, ring_offsets, line_ys)
    spray = 0.0
    passes = 0
    changes = 0
    previous = 0
    for k in range(line_ys.shape[0]):
        n_pairs = (offsets[k + 1] - offsets[k]) // 2
        for p in range(n_pairs):
            spray += cross_x[offsets[k] + 2 * p + 1] - cross_x[offsets[k] + 2 * p]
            spray += 2.0 * end_extension
        passes += n_pairs
        changes += abs(n_pairs - previous)
        previous = n_pairs
    changes += previous
    return spray, passes, changes


@kernel("Tuple((float64[::1], int64[::1], int64[::1]))"
        "(float64[::1], float64[::1], int64[::1], float64[::1], float64, float64, float64)")
def _heading_costs(xs, ys, ring_offsets, headings_deg, spacing, end_offset, end_extension):
    """:func:`_heading_cost_terms` for every heading. Serial on purpose: numba's parallel
    compilation took 12.5 s of the first plan after install, for a search of ~40 ms; and
    ``agridrone batch`` already keeps every core busy with one field per process."""
    n = headings_deg.shape[0]
    spray = np.empty(n, dtype=np.float64)
    passes = np.empty(n, dtype=np.int64)
    changes = np.empty(n, dtype=np.int64)
    for i in range(n):
        s, p, c = _heading_cost_terms(
            xs, ys, ring_offsets, headings_deg[i], spacing, end_offset, end_extension
        )
        spray[i] = s
        passes[i] = p
        changes[i] = c
    return spray, passes, changes


@kernel()
def _clamped_integral(ya, yb, length, bottom, top):
    """∫ (clamp(y, bottom, top) - bottom) dx along a straight piece ``length`` long (m) whose
    height runs linearly from ``ya`` to ``yb``: split where it crosses ``bottom`` and ``top``."""
    if ya == yb:
        return length * (min(max(ya, bottom), top) - bottom)
    lo = min(ya, yb)
    hi = max(ya, yb)
    span = hi - lo
    below = max(0.0, min(hi, bottom) - lo) / span  # share of the piece under the bottom
    above = max(0.0, hi - max(lo, top)) / span  # share of it over the top
    inside = max(0.0, 1.0 - below - above)
    mid_lo = max(lo, bottom)
    mid_hi = min(hi, top)
    return length * (above * (top - bottom) + inside * (0.5 * (mid_lo + mid_hi) - bottom))


@kernel()
def _rect_area(xs, ys, ring_offsets, left, bottom, right, top):
    """Area (m²) of the oriented rings (exteriors counter-clockwise, holes clockwise) inside
    the rectangle [left, right] × [bottom, top]: -∮ (clamp(y, bottom, top) - bottom) dx over
    the rings, x clipped to [left, right] (Green's theorem with an integrand that is zero
    outside the rectangle's columns)."""
    total = 0.0
    for r in range(ring_offsets.shape[0] - 1):
        for i in range(ring_offsets[r], ring_offsets[r + 1] - 1):
            x1 = xs[i]
            x2 = xs[i + 1]
            if x1 == x2:
                continue
            sign = 1.0
            xa, ya, xb, yb = x1, ys[i], x2, ys[i + 1]
            if x1 > x2:
                sign = -1.0
                xa, ya, xb, yb = x2, ys[i + 1], x1, ys[i]
            u = max(xa, left)
            v = min(xb, right)
            if v <= u:
                continue
            slope = (yb - ya) / (xb - xa)
            pu = ya + (u - xa) * slope if u > xa else ya
            pv = ya + (v - xa) * slope if v < xb else yb
            total -= sign * _clamped_integral(pu, pv, v - u, bottom, top)
    return total


@kernel()
def _union_rects(left, bottom, right, top):
    """The union of boxes [left, right] × [bottom, top] as disjoint rectangles: the boxes'
    bottoms and tops cut the plane into bands, each band's covering x-intervals are merged,
    and a band whose merged intervals equal the band's below it extends that one's
    rectangles. Boxes with no area are left out. Returns (left, bottom, right, top) arrays."""
    n = left.shape[0]
    cuts = np.empty(2 * n, dtype=np.float64)
    m = 0
    for i in range(n):
        if right[i] > left[i] and top[i] > bottom[i]:
            cuts[m] = bottom[i]
            cuts[m + 1] = top[i]
            m += 2
    _sort_slice(cuts, 0, m)
    out_l = np.empty(n * max(m, 1), dtype=np.float64)
    out_b = np.empty_like(out_l)
    out_r = np.empty_like(out_l)
    out_t = np.empty_like(out_l)
    count = 0
    # the rectangles of the band below: out_*[previous_start:count] (none after a band no box
    # covers, so that rectangles extend only across touching bands)
    previous_start = 0
    band_l = np.empty(n, dtype=np.float64)
    band_r = np.empty(n, dtype=np.float64)
    for k in range(m - 1):
        lo = cuts[k]
        hi = cuts[k + 1]
        if hi <= lo:
            continue
        covering = 0
        for i in range(n):
            if right[i] > left[i] and bottom[i] <= lo and top[i] >= hi:
                # insert by left end (insertion sort: a band meets few boxes)
                j = covering
                while j > 0 and band_l[j - 1] > left[i]:
                    band_l[j] = band_l[j - 1]
                    band_r[j] = band_r[j - 1]
                    j -= 1
                band_l[j] = left[i]
                band_r[j] = right[i]
                covering += 1
        merged = 0
        for j in range(covering):
            if merged > 0 and band_l[j] <= band_r[merged - 1]:
                band_r[merged - 1] = max(band_r[merged - 1], band_r[j])
            else:
                band_l[merged] = band_l[j]
                band_r[merged] = band_r[j]
                merged += 1
        same = merged > 0 and count - previous_start == merged
        if same:
            for j in range(merged):
                if out_l[previous_start + j] != band_l[j] or out_r[previous_start + j] != band_r[j]:
                    same = False
                    break
        if same:
            for j in range(merged):
                out_t[previous_start + j] = hi
            continue
        previous_start = count
        for j in range(merged):
            out_l[count] = band_l[j]
            out_b[count] = lo
            out_r[count] = band_r[j]
            out_t[count] = hi
            count += 1
    return out_l[:count], out_b[:count], out_r[:count], out_t[:count]


@kernel("Tuple((float64, float64))(float64[::1], float64[::1], int64[::1], float64[::1], "
        "float64[::1], float64[::1], float64[::1])")
def _boxes_areas(xs, ys, ring_offsets, left, bottom, right, top):
    """Area (m²) of the region of the oriented rings (exteriors counter-clockwise, holes
    clockwise) under the union of boxes [left, right] × [bottom, top], and the area of that
    union (m²); exact up to rounding, O(boxes² + rectangles × vertices)."""
    rl, rb, rr, rt = _union_rects(left, bottom, right, top)
    inside = 0.0
    union = 0.0
    for j in range(rl.shape[0]):
        union += (rr[j] - rl[j]) * (rt[j] - rb[j])
        inside += _rect_area(xs, ys, ring_offsets, rl[j], rb[j], rr[j], rt[j])
    return inside, union


@kernel("float64[::1](float64[::1], float64[::1], int64[::1], float64[::1], float64[::1], "
        "float64[::1], float64[::1])")
def _each_box_area(xs, ys, ring_offsets, left, bottom, right, top):
    """Area (m²) of the region of the oriented rings under each box [left, right] ×
    [bottom, top] on its own (0 for a box with no area)."""
    n = left.shape[0]
    out = np.zeros(n, dtype=np.float64)
    for i in range(n):
        if right[i] > left[i] and top[i] > bottom[i]:
            out[i] = _rect_area(xs, ys, ring_offsets, left[i], bottom[i], right[i], top[i])
    return out
