"""Fit the energy model to logged flights: power terms by bounded weighted least squares over
steady segments, the pack's internal resistance and usable capacity from its voltage.

Power: over every steady segment (:mod:`.segments`), mean logged terminal power (V × I,
less the profile's pump power while spraying) = a × induced + CdA × drag + avionics, with
a = 1/FM (:mod:`.power`), weighted by the segment's duration; parameters stay within the
ranges a drone profile allows (a parameter at its bound is reported so, without an
uncertainty); one the segments do not determine (its uncertainty more than half its
scale: forward flight at a single speed leaves drag and avionics power entangled) keeps
the base profile's value, the worst determined first. Uncertainties are one standard deviation from the residual variance and
(XᵀWX)⁻¹.

Battery: per flight, loaded voltage = cubic in the charge drawn (the open-circuit curve
over the span flown) - I × R; R is their duration-weighted mean. Usable capacity C: the
open-circuit voltage V + I R against the chemistry's OCV(SoC) curve at SoC = s0 - Q / C,
s0 from the first sample, C by golden-section search, its uncertainty from the curvature.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from agridrone.calibrate.flightlog import FlightLog
from agridrone.calibrate.power import Terms
from agridrone.calibrate.segments import Segment
from agridrone.drone import DroneProfile
from agridrone.energy import OCV_SOC, OCV_TABLES
from agridrone.errors import AgridroneError

# (low, high) of a = 1/FM, CdA m², avionics W: a drone profile's allowed ranges
BOUNDS = np.array([[1.0 / 0.85, 1.0 / 0.2], [0.0, 5.0], [0.0, 3000.0]])
MIN_SEGMENTS = 4
# a parameter whose uncertainty exceeds UNDETERMINED × max(|base value|, MIN_SCALE) is not
# determined by the logs (scales: a = 1/FM, CdA m², avionics W)
UNDETERMINED = 0.5
MIN_SCALE = np.array([0.5, 0.1, 50.0])


@dataclass(frozen=True)
class Estimate:
    """A fitted value, its one-sigma uncertainty (None when held: at a bound of its range,
    or at the base profile's value when ``kept``, the logs not determining it)."""

    value: float
    sigma: float | None
    kept: bool = False

    def text(self, digits: int = 3, unit: str = "") -> str:
        """``value ± sigma unit`` (or why it has no sigma)."""
        unit = f" {unit}" if unit else ""
        if self.kept:
            return f"{self.value:.{digits}g}{unit} (kept: the logs do not determine it)"
        if self.sigma is None:
            return f"{self.value:.{digits}g}{unit} (at its bound)"
        return f"{self.value:.{digits}g} ± {self.sigma:.{digits}g}{unit}"


@dataclass(frozen=True)
class Residual:
    """One segment's fit: its flight, kind, start (s into the flight), duration (s),
    logged and modelled mean power (W)."""

    flight: str
    kind: str
    start_s: float
    duration_s: float
    logged_w: float
    model_w: float


@dataclass(frozen=True)
class PowerFit:
    """Fitted figure of merit, drag area (m²) and avionics power (W), the segments' residuals
    and their duration-weighted RMS (W and % of the mean logged power)."""

    figure_of_merit: Estimate
    drag_area_m2: Estimate
    avionics_w: Estimate
    residuals: tuple[Residual, ...]
    rms_w: float
    rms_pct: float


@dataclass(frozen=True)
class BatteryFit:
    """Pack internal resistance (ohm) and usable capacity (Ah) with the RMS voltage misfit (V)."""

    resistance_ohm: Estimate
    capacity_ah: Estimate
    rms_v: float


def segment_rows(flight: FlightLog, segs: list[Segment], t: Terms) -> np.ndarray:
    """(n, 5) rows per segment: induced, drag, 1, logged power less pump (W), duration (s);
    means weighted by each sample's time."""
    power = flight.voltage_v * flight.current_a - t.pump
    dt = np.diff(flight.t_s, append=flight.t_s[-1])
    columns = np.vstack([t.induced, t.drag, np.ones_like(power), power])
    rows = []
    for s in segs:
        w = dt[s.start:s.stop]
        means = columns[:, s.start:s.stop] @ w / w.sum()
        rows.append((*means, s.duration_s))
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


def _sigmas(x: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray,
            free: np.ndarray) -> np.ndarray:
    """One-sigma uncertainties of the free coefficients (NaN for the held ones): residual
    variance × (XᵀWX)⁻¹; infinite along a direction the data do not determine."""
    sigma = np.full(x.shape[1], math.nan)
    if not free.any():
        return sigma
    resid = y - x @ coef
    s2 = float(np.sum(w * resid**2)) / max(x.shape[0] - int(free.sum()), 1)
    xf = x[:, free]
    normal = xf.T @ (xf * w[:, None])
    scale = np.sqrt(np.diag(normal))
    scale[scale == 0] = 1.0
    corr = normal / np.outer(scale, scale)
    if np.linalg.cond(corr) > 1e10:
        inv = np.full(normal.shape, math.inf)
    else:
        inv = np.linalg.inv(normal)
    sigma[free] = np.sqrt(np.maximum(np.diag(inv) * s2, 0.0))
    return sigma


def _held_where_undetermined(x: np.ndarray, y: np.ndarray, w: np.ndarray,
                             base: np.ndarray) -> np.ndarray:
    """The coefficients to hold at the base profile's: one by one, the worst determined
    (largest uncertainty against UNDETERMINED of its scale) until the rest are determined."""
    hold = np.zeros(x.shape[1], dtype=bool)
    scale = np.maximum(np.abs(base), MIN_SCALE)
    while not hold.all():
        free = ~hold
        coef = base.copy()
        sol, *_ = np.linalg.lstsq(x[:, free] * np.sqrt(w)[:, None],
                                  (y - x[:, hold] @ base[hold]) * np.sqrt(w), rcond=None)
        coef[free] = sol
        ratio = _sigmas(x, y, w, coef, free) / scale
        ratio[hold] = -1.0
        worst = int(np.argmax(ratio))
        if ratio[worst] <= UNDETERMINED:
            break
        hold[worst] = True
    return hold


def _bounded_lsq(x: np.ndarray, y: np.ndarray, w: np.ndarray, held: np.ndarray | None = None):
    """Weighted least squares of y on x's columns with every coefficient inside BOUNDS:
    the best of the solutions with each coefficient free or held at either bound (or at its
    value in ``held``, NaN where not held). Returns (coefficients, which are free)."""
    best = None
    sw = np.sqrt(w)
    held = np.full(x.shape[1], math.nan) if held is None else held
    options = [(None, 0, 1) if math.isnan(h) else ("held",) for h in held]
    for choice in itertools.product(*options):
        coef = np.array([math.nan if c is None else held[k] if c == "held" else BOUNDS[k, c]
                         for k, c in enumerate(choice)])
        free = np.isnan(coef)
        rhs = y - x[:, ~free] @ coef[~free]
        if free.any():
            sol, *_ = np.linalg.lstsq(x[:, free] * sw[:, None], rhs * sw, rcond=None)
            coef[free] = sol
        if np.any(coef < BOUNDS[:, 0] - 1e-12) or np.any(coef > BOUNDS[:, 1] + 1e-12):
            continue
        sse = float(np.sum(w * (y - x @ coef) ** 2))
        if best is None or sse < best[0] - 1e-9:
            best = (sse, coef, free)
    return best[1], best[2]


def fit_power(rows_by_flight: list[tuple[str, FlightLog, list[Segment], np.ndarray]],
              base: DroneProfile) -> PowerFit:
    """Fit a = 1/FM, CdA and avionics to the segment rows (:func:`segment_rows`) of every
    flight, given as (name, flight, segments, rows); a parameter the segments do not
    determine (e.g. drag area from forward flight at one speed only) keeps ``base``'s value.
    Raises AgridroneError with fewer than MIN_SEGMENTS segments."""
    rows = np.concatenate([r for *_, r in rows_by_flight]) if rows_by_flight else np.zeros((0, 5))
    if rows.shape[0] < MIN_SEGMENTS:
        raise AgridroneError(f"the logs hold {rows.shape[0]} steady segments (hover, forward "
                             f"flight, climb, descent of {3:g} s or more); the fit needs "
                             f"{MIN_SEGMENTS} or more")
    x, y, w = rows[:, :3], rows[:, 3], rows[:, 4]
    base_coef = np.array([1.0 / base.figure_of_merit, base.drag_area_m2, base.avionics_w])
    hold = _held_where_undetermined(x, y, w, base_coef)
    coef, free = _bounded_lsq(x, y, w, np.where(hold, base_coef, math.nan))
    resid = y - x @ coef
    sigma = _sigmas(x, y, w, coef, free)
    a = coef[0]
    fm = Estimate(1.0 / a, float(sigma[0] / a**2) if free[0] else None, bool(hold[0]))
    cda = Estimate(float(coef[1]), float(sigma[1]) if free[1] else None, bool(hold[1]))
    avi = Estimate(float(coef[2]), float(sigma[2]) if free[2] else None, bool(hold[2]))
    residuals = []
    for name, flight, segs, r in rows_by_flight:
        model = r[:, :3] @ coef
        for s, row, m in zip(segs, r, model, strict=True):
            residuals.append(Residual(name, s.kind, float(flight.t_s[s.start]), s.duration_s,
                                      float(row[3]), float(m)))
    rms = math.sqrt(float(np.sum(w * resid**2) / np.sum(w)))
    mean_power = float(np.sum(w * y) / np.sum(w))
    return PowerFit(fm, cda, avi, tuple(residuals), rms, 100.0 * rms / mean_power)


def _resistance_one(flight: FlightLog) -> tuple[float, float, float]:
    """(R ohm, its sigma, duration s) of one flight: V = cubic(Q) - I R by least squares."""
    q = flight.charge_ah()
    x = np.column_stack([np.ones_like(q), q, q**2, q**3, -flight.current_a])
    coef, *_ = np.linalg.lstsq(x, flight.voltage_v, rcond=None)
    resid = flight.voltage_v - x @ coef
    s2 = float(resid @ resid) / max(q.size - 5, 1)
    cov = s2 * np.linalg.pinv(x.T @ x)
    return float(coef[4]), math.sqrt(max(cov[4, 4], 0.0)), float(flight.t_s[-1])


def _soc_of(ocv_cell: float, table: np.ndarray) -> float:
    """State of charge (0..1) whose open-circuit cell voltage is ``ocv_cell`` (clamped)."""
    return float(np.interp(ocv_cell, table, OCV_SOC))


def fit_battery(flights: list[FlightLog], drone: DroneProfile) -> BatteryFit:
    """The pack's internal resistance and usable capacity from the flights' voltage and
    current (see the module text). Raises AgridroneError when no flight drew any charge."""
    fits = [_resistance_one(f) for f in flights]
    durations = np.array([d for *_, d in fits])
    r = float(np.sum([f[0] * d for f, d in zip(fits, durations, strict=True)]) / durations.sum())
    r_sigma = float(math.sqrt(np.sum([(f[1] * d) ** 2 for f, d in zip(fits, durations, strict=True)]))
                    / durations.sum())
    r = max(r, 0.0)
    table = OCV_TABLES[drone.battery.chemistry]
    cells = drone.battery.cells_series
    data = []
    for f in flights:
        ocv = (f.voltage_v + f.current_a * r) / cells
        data.append((_soc_of(float(ocv[0]), table), f.charge_ah(), ocv))
    if max(float(q[-1]) for _, q, _ in data) <= 0.0:
        raise AgridroneError("the logs draw no charge from the pack: nothing to fit")

    def sse(cap: float) -> float:
        return float(sum(np.sum((np.interp(s0 - q / cap, OCV_SOC, table) - ocv) ** 2)
                         for s0, q, ocv in data))

    lo, hi = 0.2 * drone.battery.capacity_ah, 2.0 * drone.battery.capacity_ah
    cap = _golden(sse, lo, hi)
    n = sum(q.size for _, q, _ in data)
    s2 = sse(cap) / max(n - 1, 1)
    h = 1e-3 * cap
    curv = (sse(cap + h) - 2.0 * sse(cap) + sse(cap - h)) / h**2
    cap_sigma = math.sqrt(2.0 * s2 / curv) if curv > 0 else None
    return BatteryFit(Estimate(r, r_sigma), Estimate(cap, cap_sigma),
                      math.sqrt(sse(cap) / n) * cells)


def _golden(f, lo: float, hi: float, tol: float = 1e-6) -> float:
    """The minimiser of a unimodal ``f`` on [lo, hi] by golden-section search."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol * (abs(a) + abs(b)):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return 0.5 * (a + b)
