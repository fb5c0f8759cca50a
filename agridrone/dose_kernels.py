"""numba kernel of the dose model: the spray pattern of every straight piece of a spray
track summed on a raster.

Private typed-array functions behind :func:`agridrone.dose.dose_raster`; the plain-Python
twin is ``tests/naive.py::deposit_plain``. A piece from (ax, ay) to (bx, by) lays
``lpm`` litres per metre flown, spread across the track by the pattern (offsets
``pat_off`` m, density ``pat_den`` 1/m, linear between points, zero beyond; its integral
is one) widened by the piece's ``scale`` (density at offset d: pat(d / scale) / scale, the
pattern flown higher or lower) and cut square at both ends (the pump switches at the waypoint). Pixel (row i,
column j) has its centre at (x0 + (j + 0.5) cell, y0 + (i + 0.5) cell); row 0 is the
southernmost.
"""

from __future__ import annotations

import numpy as np

from agridrone.aot import kernel

TOL_M = 1e-6  # margin (m) far above the rounding of an offset computed two ways


@kernel()
def _pattern_at(d, pat_off, pat_den):
    """Pattern density (1/m) at lateral offset ``d`` (m)."""
    n = pat_off.shape[0]
    if d <= pat_off[0] or d >= pat_off[n - 1]:
        return 0.0
    k = 0  # np.searchsorted(pat_off, d) - 1, scanned: patterns have a handful of points
    while pat_off[k + 1] < d:
        k += 1
    w = (d - pat_off[k]) / (pat_off[k + 1] - pat_off[k])
    return pat_den[k] + w * (pat_den[k + 1] - pat_den[k])


@kernel()
def _exact_run(row, j0, j1, x0, cell, ax, ryu, ryn, ux, nxv, length, sc, weight, pat_off, pat_den):
    """Add to ``row`` columns ``j0..j1`` (inclusive) of one piece, every pixel checked as in
    the module docstring (on the track, inside the pattern): the pixels near a boundary."""
    for j in range(j0, j1 + 1):
        rx = (x0 + (j + 0.5) * cell) - ax
        t = rx * ux + ryu
        if t < 0.0 or t >= length:
            continue
        row[j] += weight * _pattern_at((rx * nxv + ryn) / sc, pat_off, pat_den)


@kernel()
def _columns(lo, hi, c0, cj, inverse):
    """The columns j (float, unclamped, to rounding) where lo < c0 + j cj < hi: (first,
    last); ``inverse`` is 1 / cj (unused when cj is 0)."""
    if cj > 0.0:
        return (lo - c0) * inverse, (hi - c0) * inverse
    if cj < 0.0:
        return (hi - c0) * inverse, (lo - c0) * inverse
    if lo < c0 < hi:
        return -np.inf, np.inf
    return np.inf, -np.inf


@kernel("float64[:, ::1]"
        "(float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64, float64, float64, int64, int64)")
def _deposit(ax, ay, bx, by, lpm, scale, pat_off, pat_den, x0, y0, cell, ny, nx):
    """Deposit (L/m²) on an (ny, nx) raster of every piece; see the module docstring.

    A piece's cost goes with the raster lines it crosses, so when the pieces run more
    north-south than east-west the raster is swept column by column (x and y swapped,
    the offset's sign kept: the same products summed)."""
    grid = np.zeros((ny, nx), dtype=np.float64)
    if np.abs(by - ay).sum() > np.abs(bx - ax).sum():
        _sweep(grid.T, ay, ax, by, bx, lpm, scale, pat_off, pat_den, y0, x0, cell, -1.0)
    else:
        _sweep(grid, ax, ay, bx, by, lpm, scale, pat_off, pat_den, x0, y0, cell, 1.0)
    return grid


@kernel()
def _sweep(grid, ax, ay, bx, by, lpm, scale, pat_off, pat_den, x0, y0, cell, turn):
    """Add every piece to ``grid`` line by line (each line stays in cache while every piece
    crossing it adds to it, pieces in order, so each pixel sums them in the same order as
    piece by piece); ``turn``: the offset's sign (-1 with x and y swapped).

    On a line a piece's lateral offset and position along it are affine in the column: the
    columns safely inside one linear stretch of the pattern and on the track (``TOL_M``
    from every boundary) take the stretch's formula without tests (a flat stretch's value
    to the bit, a sloped one's to rounding); the few near a boundary are tested pixel by
    pixel (:func:`_exact_run`), so no pixel is given to the wrong stretch."""
    ny, nx = grid.shape
    m = ax.shape[0]
    npat = pat_off.shape[0]
    lo0 = pat_off[0]
    hi0 = pat_off[npat - 1]
    half0 = max(-lo0, hi0)
    ux = np.zeros(m)
    uy = np.zeros(m)
    length = np.zeros(m)
    weight = np.zeros(m)
    tj_of = np.zeros(m)  # steps along the track and across it (pattern units) per column
    ej_of = np.zeros(m)
    tj_inv = np.zeros(m)
    ej_inv = np.zeros(m)
    row_lo = np.full(m, ny, dtype=np.int64)  # rows a piece may reach (empty for none)
    row_hi = np.full(m, -1, dtype=np.int64)
    for s in range(m):
        dx = bx[s] - ax[s]
        dy = by[s] - ay[s]
        length[s] = np.hypot(dx, dy)
        if length[s] <= 0.0 or lpm[s] <= 0.0 or scale[s] <= 0.0:
            continue
        ux[s] = dx / length[s]
        uy[s] = dy / length[s]
        weight[s] = lpm[s] / scale[s]
        tj_of[s] = cell * ux[s]
        ej_of[s] = cell * (-uy[s] * turn) / scale[s]
        tj_inv[s] = 1.0 / tj_of[s] if tj_of[s] != 0.0 else 0.0
        ej_inv[s] = 1.0 / ej_of[s] if ej_of[s] != 0.0 else 0.0
        reach = half0 * scale[s] * abs(ux[s]) + TOL_M
        row_lo[s] = max(0, int(np.floor((min(ay[s], by[s]) - reach - y0) / cell - 0.5)))
        row_hi[s] = min(ny - 1, int(np.ceil((max(ay[s], by[s]) + reach - y0) / cell - 0.5)))
    r0 = x0 + 0.5 * cell
    for i in range(ny):
        row = grid[i]
        py = y0 + (i + 0.5) * cell
        for s in range(m):
            if i < row_lo[s] or i > row_hi[s]:
                continue
            sc = scale[s]
            nxv = -uy[s] * turn
            ry = py - ay[s]
            ryu = ry * uy[s]
            ryn = ry * (ux[s] * turn)
            # along the track t = t0 + j tj, across it (in pattern units) e = e0 + j ej,
            # to rounding (far below TOL_M)
            t0 = (r0 - ax[s]) * ux[s] + ryu
            e0 = ((r0 - ax[s]) * nxv + ryn) / sc
            ej = ej_of[s]
            # columns outside [first, last] are off the track or beyond the pattern
            ta, tb = _columns(-TOL_M, length[s] + TOL_M, t0, tj_of[s], tj_inv[s])
            ea, eb = _columns(lo0 - TOL_M, hi0 + TOL_M, e0, ej, ej_inv[s])
            first = max(ta, ea, 0.0)
            last = min(tb, eb, nx - 1.0)
            if first > last:
                continue
            jlo = int(np.ceil(first))
            jhi = int(np.floor(last))
            ta, tb = _columns(TOL_M, length[s] - TOL_M, t0, tj_of[s], tj_inv[s])
            cursor = jlo
            for q in range(npat - 1):
                k = q if ej >= 0.0 else npat - 2 - q
                ka, kb = _columns(pat_off[k] + TOL_M, pat_off[k + 1] - TOL_M, e0, ej, ej_inv[s])
                a = max(ka, ta, cursor - 0.5)
                b = min(kb, tb, jhi + 0.5)
                if a >= b:
                    continue
                j0 = int(np.ceil(a))
                j1 = int(np.floor(b))
                if j0 > j1:
                    continue
                if cursor < j0:  # (a call costs more than the empty loop: test first)
                    _exact_run(row, cursor, j0 - 1, x0, cell, ax[s], ryu, ryn, ux[s], nxv,
                               length[s], sc, weight[s], pat_off, pat_den)
                den = pat_den[k]
                rise = pat_den[k + 1] - den
                if rise == 0.0:  # den + w * 0 is den: a flat stretch adds one value
                    value = weight[s] * den
                    for j in range(j0, j1 + 1):
                        row[j] += value
                else:
                    # a sloped stretch: the offset stepped column by column (two divisions
                    # a pixel cost more than the rest of the sweep; rounding ~1e-13 L/ha)
                    slope = weight[s] * rise / (pat_off[k + 1] - pat_off[k])
                    level = weight[s] * den
                    e = ((x0 + (j0 + 0.5) * cell - ax[s]) * nxv + ryn) / sc - pat_off[k]
                    for j in range(j0, j1 + 1):
                        row[j] += level + e * slope
                        e += ej
                cursor = j1 + 1
            if cursor <= jhi:
                _exact_run(row, cursor, jhi, x0, cell, ax[s], ryu, ryn, ux[s], nxv, length[s],
                           sc, weight[s], pat_off, pat_den)


@kernel()
def _least_dose(rate, c, shift, strict):
    """The least dose x with x / rate - shift > c (``strict``) or >= c, computed as the
    figures compare it, rounding included: x / rate - shift never decreases with x, so
    the doses passing are exactly those from this one up."""
    x = rate * (c + shift)
    while (x / rate - shift > c) if strict else (x / rate - shift >= c):
        x = np.nextafter(x, -np.inf)
    while not ((x / rate - shift > c) if strict else (x / rate - shift >= c)):
        x = np.nextafter(x, np.inf)
    return x


@kernel("Tuple((int64, float64, float64, int64, int64, int64, int64, float64, float64))"
        "(float64[:, ::1], boolean[:, ::1], boolean[:, ::1], float64)")
def _dose_sums(dose, sprayable, in_field, rate):
    """Two passes over a (ny, nx) dose raster (L/ha) and its boolean masks: the sprayable
    pixels' count, mean, standard deviation (population) and counts within ±10 %, within
    ±20 %, above 1.5× and below 0.5× ``rate`` (|dose / rate - 1| <= 0.1, ...: compared as
    doses against the bounds :func:`_least_dose` finds, a division less per pixel); the
    dose summed outside the field and over the field's no-spray pixels (L/ha × pixels).
    Twin: ``tests/naive.py::dose_sums_plain``."""
    ny, nx = dose.shape
    from10 = _least_dose(rate, -0.1, 1.0, False)
    past10 = _least_dose(rate, 0.1, 1.0, True)
    from20 = _least_dose(rate, -0.2, 1.0, False)
    past20 = _least_dose(rate, 0.2, 1.0, True)
    past150 = _least_dose(rate, 1.5, 0.0, True)
    from50 = _least_dose(rate, 0.5, 0.0, False)
    # sums by column, row after row, the columns added at the end: the additions of a row
    # are independent (vectorised) where one running sum waited on every previous one
    total = np.zeros(nx)
    outside = np.zeros(nx)
    no_spray = np.zeros(nx)
    n = 0
    w10 = 0
    w20 = 0
    hi = 0
    lo = 0
    for i in range(ny):
        for j in range(nx):
            x = dose[i, j]
            s = sprayable[i, j]
            f = in_field[i, j]
            total[j] += x if s else 0.0
            outside[j] += 0.0 if f else x
            no_spray[j] += x if f and not s else 0.0
            n += s
            w10 += s & (x >= from10) & (x < past10)
            w20 += s & (x >= from20) & (x < past20)
            hi += s & (x >= past150)
            lo += s & (x < from50)
    mean = _ordered_sum(total) / n if n > 0 else 0.0
    squares = np.zeros(nx)
    for i in range(ny):
        for j in range(nx):
            v = dose[i, j] - mean
            squares[j] += v * v if sprayable[i, j] else 0.0
    std = np.sqrt(_ordered_sum(squares) / n) if n > 0 else 0.0
    return n, mean, std, w10, w20, hi, lo, _ordered_sum(outside), _ordered_sum(no_spray)


@kernel()
def _ordered_sum(values):
    """The sum of a 1-D array added first to last."""
    total = 0.0
    for v in values:
        total += v
    return total


@kernel("boolean[:, ::1](int64[::1], int64[::1], int64[::1], int64, int64)")
def _fill_runs(rows, starts, stops, ny, nx):
    """An (ny, nx) mask, True from column ``starts[k]`` up to, not including, ``stops[k]`` on
    row ``rows[k]`` for every k (columns within 0..nx, rows within 0..ny - 1)."""
    mask = np.zeros((ny, nx), dtype=np.bool_)
    for k in range(rows.shape[0]):
        if starts[k] < stops[k]:  # a slice: one fill, 10x faster than a loop of stores
            mask[rows[k], starts[k]:stops[k]] = True
    return mask


@kernel("Tuple((float64[:, ::1], boolean[:, ::1]))(float64[:, ::1], boolean[:, ::1], int64)")
def _block_means(dose, in_field, k):
    """Means over k × k blocks of the pixels of ``dose`` shown (in the field, or dosed),
    added in the order of the block's rows then columns, and the blocks with none shown;
    the last partial row and column of blocks are dropped."""
    by = dose.shape[0] // k
    bx = dose.shape[1] // k
    means = np.zeros((by, bx), dtype=np.float64)
    blank = np.zeros((by, bx), dtype=np.bool_)
    for i in range(by):
        for j in range(bx):
            total = 0.0
            count = 0
            for a in range(k):
                for b in range(k):
                    v = dose[i * k + a, j * k + b]
                    if in_field[i * k + a, j * k + b] or v > 0.0:
                        total += v
                        count += 1
            means[i, j] = total / max(count, 1)
            blank[i, j] = count == 0
    return means, blank
