"""Plain-Python references for the numba kernels of agridrone.energy.

Slow and written for reading: loops over Python floats, no numpy, no numba. Tests
compare the kernels against these on random inputs.
"""

from __future__ import annotations

import math


def interp(x: float, xs: list[float], ys: list[float]) -> float:
    """Piecewise-linear interpolation, clamped at both ends."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    for k in range(len(xs) - 1):
        if xs[k] <= x <= xs[k + 1]:
            t = (x - xs[k]) / (xs[k + 1] - xs[k])
            return ys[k] + t * (ys[k + 1] - ys[k])
    raise AssertionError("unreachable")


def mean_cube(v0: float, v1: float) -> float:
    """Time-average of v³ while speed ramps linearly from v0 to v1: the integral of v³ dv
    over the ramp divided by its width, (v1⁴ - v0⁴) / (4 (v1 - v0)), factored."""
    return (v1 + v0) * (v1**2 + v0**2) / 4.0


def leg_pieces(xy, v, accel, lpm, p_fixed, k_par, fm, v_start=0.0, v_end=0.0):
    """Pieces (dur, dist, liq, padd, pmass) of a polyline: on each segment accelerate from the
    entry speed (v_start at the leg's start), cruise, brake to the corner speed (v·cos(turn),
    v_end at the leg's end)."""
    pts = [(float(x), float(y)) for x, y in xy]
    segs = []
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:], strict=True):
        length = math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
        if length > 1e-9:
            segs.append((x1 - x0, y1 - y0, length))
    out = []
    v_in = v_start
    for i, (dx, dy, length) in enumerate(segs):
        if i + 1 < len(segs):
            ex, ey, le = segs[i + 1]
            v_out = v * max(0.0, (dx * ex + dy * ey) / (length * le))
        else:
            v_out = v_end
        d_acc = (v * v - v_in * v_in) / (2 * accel)
        d_dec = (v * v - v_out * v_out) / (2 * accel)
        v_peak = v
        if d_acc + d_dec > length:
            v_peak = max(math.sqrt((2 * accel * length + v_in**2 + v_out**2) / 2), v_in, v_out)
            d_acc = (v_peak**2 - v_in**2) / (2 * accel)
            d_dec = (v_peak**2 - v_out**2) / (2 * accel)
            if d_acc + d_dec > length:
                scale = length / (d_acc + d_dec)
                d_acc, d_dec = d_acc * scale, d_dec * scale
        d_cruise = max(0.0, length - d_acc - d_dec)
        t_acc = (v_peak - v_in) / accel
        t_dec = (v_peak - v_out) / accel
        if t_acc > 0:
            out.append((t_acc, d_acc, d_acc * lpm, p_fixed + k_par * mean_cube(v_in, v_peak),
                        accel * (v_in + v_peak) / 2 / fm))
        if d_cruise > 1e-9:
            out.append((d_cruise / v_peak, d_cruise, d_cruise * lpm, p_fixed + k_par * v_peak**3, 0.0))
        if t_dec > 0:
            out.append((t_dec, d_dec, d_dec * lpm, p_fixed + k_par * mean_cube(v_out, v_peak), 0.0))
        v_in = v_out
    return out


def pack_current(voc: float, r: float, p: float) -> tuple[float, float]:
    """Current and terminal voltage for power p through resistance r; current -1 if impossible."""
    disc = voc * voc - 4 * r * p
    if disc < 0:
        return -1.0, voc / 2
    i = 2 * p / (voc + math.sqrt(disc))  # the smaller root of r i² - voc i + p = 0
    return i, voc - i * r


def fly(pieces, m0, q0, k_h, cap_ah, r, cells, soc_x, ocv_y, step_max, dens):
    """(mass, charge Ah, energy Wh, time s, min cell V, delivered) after flying ``pieces``."""
    m, q, e, t, vmin, ok = m0, q0, 0.0, 0.0, math.inf, True
    for dur, _dist, liq, padd, pmass in pieces:
        if dur <= 0:
            m -= liq * dens
            continue
        n = max(1, math.ceil(dur / step_max))
        h = dur / n
        dm = liq * dens / n
        for _ in range(n):
            mm = m - dm / 2
            p = k_h * mm**1.5 + padd + pmass * mm
            soc = 1 - q / cap_ah
            voc = cells * interp(min(max(soc, 0.0), 1.0), soc_x, ocv_y)
            i, vl = pack_current(voc, r, p)
            if i < 0:
                ok = False
                i = voc / (2 * r)
            q += i * h / 3600
            e += voc * i * h / 3600
            t += h
            m -= dm
            vmin = min(vmin, vl / cells)
    return m, q, e, t, vmin, ok


def hover_endurance(p, cap_ah, r, cells, soc_x, ocv_y, cutoff, h):
    """Seconds of constant power p until the pack is empty or sags below the cut-off."""
    q = t = 0.0
    while True:
        soc = 1 - q / cap_ah
        if soc <= 0:
            return t
        voc = cells * interp(soc, soc_x, ocv_y)
        i, vl = pack_current(voc, r, p)
        if i < 0 or vl / cells < cutoff:
            return t
        q += i * h / 3600
        t += h
