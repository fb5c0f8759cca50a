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


@kernel("float64[:, ::1]"
        "(float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64, float64, float64, int64, int64)")
def _deposit(ax, ay, bx, by, lpm, scale, pat_off, pat_den, x0, y0, cell, ny, nx):
    """Deposit (L/m²) on an (ny, nx) raster of every piece; see the module docstring."""
    grid = np.zeros((ny, nx), dtype=np.float64)
    half0 = max(-pat_off[0], pat_off[pat_off.shape[0] - 1])
    cx = np.empty(4)
    cy = np.empty(4)
    for s in range(ax.shape[0]):
        dx = bx[s] - ax[s]
        dy = by[s] - ay[s]
        length = np.hypot(dx, dy)
        if length <= 0.0 or lpm[s] <= 0.0 or scale[s] <= 0.0:
            continue
        half = half0 * scale[s]
        weight = lpm[s] / scale[s]
        ux = dx / length
        uy = dy / length
        nxv = -uy
        nyv = ux
        # the strip the pattern covers: a rectangle, corners in order
        cx[0] = ax[s] + nxv * half
        cy[0] = ay[s] + nyv * half
        cx[1] = bx[s] + nxv * half
        cy[1] = by[s] + nyv * half
        cx[2] = bx[s] - nxv * half
        cy[2] = by[s] - nyv * half
        cx[3] = ax[s] - nxv * half
        cy[3] = ay[s] - nyv * half
        i0 = max(0, int(np.floor((cy.min() - y0) / cell - 0.5)))
        i1 = min(ny - 1, int(np.ceil((cy.max() - y0) / cell - 0.5)))
        for i in range(i0, i1 + 1):
            py = y0 + (i + 0.5) * cell
            xlo = np.inf
            xhi = -np.inf
            for e in range(4):
                f = (e + 1) % 4
                ylo = min(cy[e], cy[f])
                yhi = max(cy[e], cy[f])
                if py < ylo or py > yhi:
                    continue
                if cy[f] == cy[e]:
                    xlo = min(xlo, min(cx[e], cx[f]))
                    xhi = max(xhi, max(cx[e], cx[f]))
                else:
                    xc = cx[e] + (py - cy[e]) * (cx[f] - cx[e]) / (cy[f] - cy[e])
                    xlo = min(xlo, xc)
                    xhi = max(xhi, xc)
            if xhi < xlo:
                continue
            j0 = max(0, int(np.floor((xlo - x0) / cell - 0.5)))
            j1 = min(nx - 1, int(np.ceil((xhi - x0) / cell - 0.5)))
            for j in range(j0, j1 + 1):
                px = x0 + (j + 0.5) * cell
                rx = px - ax[s]
                ry = py - ay[s]
                t = rx * ux + ry * uy
                if t < 0.0 or t >= length:
                    continue
                d = rx * nxv + ry * nyv
                grid[i, j] += weight * _pattern_at(d / scale[s], pat_off, pat_den)
    return grid


@kernel("Tuple((int64, float64, float64, int64, int64, int64, int64, float64, float64))"
        "(float64[:, ::1], boolean[:, ::1], boolean[:, ::1], float64)")
def _dose_sums(dose, sprayable, in_field, rate):
    """One pass over a (ny, nx) dose raster (L/ha) and its boolean masks: the sprayable
    pixels' count, mean, standard deviation (population) and counts within ±10 %, within
    ±20 %, above 1.5× and below 0.5× ``rate``; the dose summed outside the field and over
    the field's no-spray pixels (L/ha × pixels). Twin: ``tests/naive.py::dose_sums_plain``."""
    ny, nx = dose.shape
    n = 0
    total = 0.0
    w10 = 0
    w20 = 0
    hi = 0
    lo = 0
    outside = 0.0
    no_spray = 0.0
    for i in range(ny):
        for j in range(nx):
            x = dose[i, j]
            if sprayable[i, j]:
                n += 1
                total += x
                ratio = x / rate
                off = abs(ratio - 1.0)
                if off <= 0.1:
                    w10 += 1
                if off <= 0.2:
                    w20 += 1
                if ratio > 1.5:
                    hi += 1
                if ratio < 0.5:
                    lo += 1
            if not in_field[i, j]:
                outside += x
            elif not sprayable[i, j]:
                no_spray += x
    mean = total / n if n > 0 else 0.0
    squares = 0.0
    for i in range(ny):
        for j in range(nx):
            if sprayable[i, j]:
                squares += (dose[i, j] - mean) ** 2
    std = np.sqrt(squares / n) if n > 0 else 0.0
    return n, mean, std, w10, w20, hi, lo, outside, no_spray


@kernel("boolean[:, ::1](int64[::1], int64[::1], int64[::1], int64, int64)")
def _fill_runs(rows, starts, stops, ny, nx):
    """An (ny, nx) mask, True from column ``starts[k]`` up to, not including, ``stops[k]`` on
    row ``rows[k]`` for every k (columns within 0..nx, rows within 0..ny - 1)."""
    mask = np.zeros((ny, nx), dtype=np.bool_)
    for k in range(rows.shape[0]):
        r = rows[k]
        for j in range(starts[k], stops[k]):
            mask[r, j] = True
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
