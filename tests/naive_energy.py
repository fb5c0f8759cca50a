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


def ramp_time(v: float, accel: float, edge: float) -> float:
    """Seconds from standstill to v when the acceleration climbs linearly to ``accel`` in
    ``edge`` s, holds, and falls back in ``edge`` s: the velocity gained is accel·(T - edge),
    so T = v/accel + edge; if v < accel·edge the acceleration peaks at a < accel with
    a·(T/2) = v and a = accel·(T/2)/edge, so T = 2·sqrt(v·edge/accel)."""
    if v <= 0:
        return 0.0
    if v >= accel * edge:
        return v / accel + edge
    return 2 * math.sqrt(v * edge / accel)


def ramp_peak(length: float, v: float, accel: float, edge: float) -> float:
    """Peak speed of a standstill-to-standstill profile over ``length``: the largest
    p <= v whose two ramps (each p·ramp_time(p)/2 long) fit, found by bisection."""
    if v * ramp_time(v, accel, edge) <= length:
        return v
    lo, hi = 0.0, v
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid * ramp_time(mid, accel, edge) <= length:
            lo = mid
        else:
            hi = mid
    return lo


def ramp_distance_at(s: float, accel: float, edge: float) -> float:
    """Distance covered s seconds into a ramp from standstill whose acceleration rises
    linearly (jerk accel/edge) for ``edge`` s and then stays at ``accel``: the jerk phase's
    j·t³/6, then what its end speed and the constant acceleration add."""
    j = accel / edge
    if s <= edge:
        return j * s**3 / 6
    x = s - edge
    return j * edge**3 / 6 + (j * edge**2 / 2) * x + accel * x * x / 2


def ramp_distance_numeric(s: float, accel: float, edge: float, steps: int = 20000) -> float:
    """ramp_distance_at by integrating the acceleration step by step (midpoint rule)."""
    h = s / steps
    x = vel = 0.0
    for k in range(steps):
        a = accel * min((k + 0.5) * h / edge, 1.0)
        x += vel * h + a * h * h / 2
        vel += a * h
    return x


def corner_overlap(c: float, accel: float, edge: float, radius: float) -> float:
    """The longest overlap tau of two ramps at a waypoint (directions' cosine c) whose
    midpoint lies within ``radius``: bisection on ramp_distance_at(tau/2)·sqrt(2 - 2c)."""
    spread = math.sqrt(max(2 - 2 * c, 0.0))
    if spread <= 1e-12:
        return math.inf
    lo, hi = 0.0, 1.0
    while ramp_distance_at(hi, accel, edge) * spread < radius:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if ramp_distance_at(mid, accel, edge) * spread < radius:
            lo = mid
        else:
            hi = mid
    return 2 * lo


def leg_pieces(xy, v, accel, edge, radius, lpm, p_fixed, k_par, fm, v_start=0.0, v_end=0.0):
    """Pieces (dur, dist, liq, padd, pmass) of a polyline: each segment ramps up from a stop
    (not at the leg's start when entered at v), cruises and ramps down to a stop (not at
    the leg's end when left at v); two ramps at a vertex overlap by
    min(corner_overlap(cos), both ramps' times), half taken off each, and a ramp at a
    stopping leg end loses half the right-angle overlap (at most all of itself)."""
    pts = [(float(x), float(y)) for x, y in xy]
    segs = []
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:], strict=True):
        length = math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
        if length > 1e-9:
            segs.append(((x1 - x0) / length, (y1 - y0) / length, length))
    m = len(segs)
    first_ramp = [not (j == 0 and v_start > 0) for j in range(m)]
    last_ramp = [not (j == m - 1 and v_end > 0) for j in range(m)]
    peaks = [ramp_peak(segs[j][2], v, accel, edge) if first_ramp[j] and last_ramp[j] else v
             for j in range(m)]
    times = [ramp_time(p, accel, edge) for p in peaks]
    cut_in, cut_out = [0.0] * m, [0.0] * m
    for j in range(m - 1):
        c = segs[j][0] * segs[j + 1][0] + segs[j][1] * segs[j + 1][1]
        half = min(corner_overlap(c, accel, edge, radius), times[j], times[j + 1]) / 2
        cut_out[j] = cut_in[j + 1] = half
    right = corner_overlap(0.0, accel, edge, radius) / 2
    if m and v_start <= 0:
        cut_in[0] = min(right, times[0])
    if m and v_end <= 0:
        cut_out[-1] = min(right, times[-1])
    out = []
    for j, (_, _, length) in enumerate(segs):
        p, t = peaks[j], times[j]
        d_in = p * t / 2 if first_ramp[j] else 0.0
        d_out = p * t / 2 if last_ramp[j] else 0.0
        t_in = t if first_ramp[j] else 0.0
        t_out = t if last_ramp[j] else 0.0
        if d_in + d_out > length:
            f = length / (d_in + d_out)
            d_in, d_out, t_in, t_out = d_in * f, d_out * f, t_in * f, t_out * f
        cruise = max(0.0, length - d_in - d_out)
        drag = k_par * mean_cube(0.0, p)
        if t_in > 0:  # the kinetic energy p²/2 per kg (through the rotors' FM) over the ramp
            t = max(t_in - cut_in[j], 0.0)
            out.append((t, d_in, d_in * lpm, p_fixed + drag, p * p / (2 * t) / fm if t > 0 else 0.0))
        if cruise > 1e-9:
            out.append((cruise / p, cruise, cruise * lpm, p_fixed + k_par * p**3, 0.0))
        if t_out > 0:
            out.append((max(t_out - cut_out[j], 0.0), d_out, d_out * lpm, p_fixed + drag, 0.0))
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


def legs_pieces(legs, accel, edge, radius, k_par, fm):
    """Pieces of legs flown one after the other, ``legs`` as (xy, v, lpm, p_fixed, v_start,
    v_end) each: every leg's leg_pieces in turn, and the index where each leg's start (one
    more: the count)."""
    out, starts = [], [0]
    for xy, v, lpm, p_fixed, v_start, v_end in legs:
        out += leg_pieces(xy, v, accel, edge, radius, lpm, p_fixed, k_par, fm, v_start, v_end)
        starts.append(len(out))
    return out, starts


def margin(q, vmin, ok, cap_ah, reserve_soc, cutoff):
    """How far a landing with q Ah drawn and lowest cell voltage vmin stays inside the
    reserve and cut-off: min(SoC - reserve, vmin - cut-off); -1 when a power was not delivered."""
    if not ok:
        return -1.0
    return min(1 - q / cap_ah - reserve_soc, vmin - cutoff)


def fly_legs(legs, homes, landing, lengths, is_spray, j, last_spray, state, liquid, lpm, dry_l,
             flight, reserve_soc, cutoff):
    """The sortie walk over whole legs from leg j as the sortie splitter wrote it: ``legs``
    and ``homes`` the pieces of each leg and of the way home after it (landing apart),
    ``state`` (mass, Ah, Wh, s, min cell V, delivered), ``flight`` fly's battery arguments
    (k_h, cap_ah, r, cells, soc_x, ocv_y, step_max, dens). A transit leg (not a pass) after
    the last pass ends the walk ("tail"), as does one met with at most dry_l litres ("dry")
    and one after which the way home breaks the reserve ("transit fails"); a pass is kept
    when its liquid is on board and the way home after it keeps the reserve, else the walk
    stops there ("cut", with that margin, -1 without the liquid); after the last leg "end".
    Returns (how, leg, state, liquid, margin, sprayed)."""
    sprayed = False
    cap_ah = flight[1]
    while True:
        if not is_spray[j]:
            if j > last_spray:
                return "tail", j, state, liquid, -1.0, sprayed
            if liquid <= dry_l:
                return "dry", j, state, liquid, -1.0, sprayed
        elif not lengths[j] <= liquid / lpm + 1e-6:
            return "cut", j, state, liquid, -1.0, sprayed
        m, q, e, t, vmin, ok = state
        m1, q1, e1, t1, v1, ok1 = fly(legs[j], m, q, *flight)
        after = (m1, q1, e + e1, t + t1, min(vmin, v1), ok and ok1)
        m2, q2, _, _, v2, ok2 = fly(homes[j] + landing, m1, q1, *flight)
        land = margin(q2, min(after[4], v2), after[5] and ok2, cap_ah, reserve_soc, cutoff)
        if land < 0:
            return ("cut" if is_spray[j] else "transit fails"), j, state, liquid, \
                (land if is_spray[j] else -1.0), sprayed
        if is_spray[j]:
            liquid = max(liquid - lengths[j] * lpm, 0.0)
            sprayed = True
        state = after
        j += 1
        if j == len(legs):
            return "end", j, state, liquid, -1.0, sprayed


def fly_route(legs, need, is_spray, j, state, liquid, remaining, flight):
    """Legs flown one after the other from leg j (``legs`` each leg's pieces, ``state`` as
    in fly_legs) with ``liquid`` litres in the tank and ``remaining`` to spray, pass i using
    need[i] L, until a pass needs more than the tank holds (+1e-9 L) or the legs end:
    (leg stopped at, state, liquid, remaining)."""
    while j < len(legs):
        if is_spray[j] and need[j] > liquid + 1e-9:
            break
        m, q, e, t, vmin, ok = state
        m1, q1, e1, t1, v1, ok1 = fly(legs[j], m, q, *flight)
        state = (m1, q1, e + e1, t + t1, min(vmin, v1), ok and ok1)
        if is_spray[j]:
            liquid -= need[j]
            remaining -= need[j]
        j += 1
    return j, state, liquid, remaining


def fly_cut(part, lead, home, landing, v, v_transit, lpm, p_spray, p_idle, at_speed, state, flight,
            reserve_soc, cutoff, accel, edge, radius, k_par, fm):
    """A pass sprayed to a breakpoint (``part``, entered at v when ``at_speed``, left at v
    into the lead-out ``lead`` when there is one, None otherwise), then that lead-out
    pump-off, from ``state`` as in fly_legs: (state after them, landing margin after the
    transit ``home`` at v_transit and the ``landing`` pieces)."""
    legs = [leg_pieces(part, v, accel, edge, radius, lpm, p_spray, k_par, fm,
                       v if at_speed else 0.0, v if lead is not None else 0.0)]
    if lead is not None:
        legs.append(leg_pieces(lead, v, accel, edge, radius, 0.0, p_idle, k_par, fm, v, 0.0))
    for pieces in legs:
        m, q, e, t, vmin, ok = state
        m1, q1, e1, t1, v1, ok1 = fly(pieces, m, q, *flight)
        state = (m1, q1, e + e1, t + t1, min(vmin, v1), ok and ok1)
    way_home = leg_pieces(home, v_transit, accel, edge, radius, 0.0, p_idle, k_par, fm) + landing
    _, q2, _, _, v2, ok2 = fly(way_home, state[0], state[1], *flight)
    return state, margin(q2, min(state[4], v2), state[5] and ok2, flight[1], reserve_soc, cutoff)
