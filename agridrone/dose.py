"""The dose model: litres per hectare on the ground, summed from every spray leg's lateral
pattern, and the figures plan.json reports about it.

The dose at a point is the sum over the spray legs passing beside it of the litres that leg
lays per metre times the pattern's density at the point's lateral offset (see
:mod:`agridrone.dose_kernels`). It is computed on a square raster in the field's local
frame, a pixel per ``cell_m``; figures are shares of the sprayable pixels (pixel centre in
the field and outside every no-spray zone).

What the vehicle executes (:func:`vehicle_application`): ArduPilot's AC_Sprayer drives
the pump at SPRAY_PUMP_RATE × ground speed, so along every pass it lays the same litres
per metre whatever the speed, and one uploaded parameter set fixes that figure for a whole
mission. The planner therefore gives the vehicle **one spacing per field**: the spray
length-weighted mean of the passes' spacings, which makes the litres the vehicle sprays
equal the litres the planned spacings call for. Cells laid at a spacing other than that
mean get the rate scaled by mean / own spacing, which the dose map and metrics show; per
sortie parameters were not chosen because a sortie can hold cells of several spacings, and
speed changes do not alter AC_Sprayer's litres per metre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import MultiPolygon

from agridrone.coverage.swaths import clip_scanlines, flatten_rings
from agridrone.dose_kernels import _deposit, _dose_sums, _fill_runs
from agridrone.drone import SprayPattern
from agridrone.route import Leg

SQ_M_PER_HA = 10_000.0
MAX_PIXELS = 16_000_000  # the cell grows for larger fields so the raster stays this small


@dataclass(frozen=True)
class Pieces:
    """Straight pieces of spray track in local metres: from (ax, ay) to (bx, by), laying
    ``lpm`` litres per metre flown, the pattern widened by ``scale`` (flown higher or lower
    than the pattern is given for; None: 1 for every piece). float64 arrays of one length."""

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    lpm: np.ndarray
    scale: np.ndarray | None = None

    @property
    def liquid_l(self) -> float:
        """Litres the pieces lay in all."""
        return float((np.hypot(self.bx - self.ax, self.by - self.ay) * self.lpm).sum())


@dataclass(frozen=True)
class DoseRaster:
    """Dose (L/ha) on a north-up raster in the local frame: ``dose[i, j]`` is the pixel whose
    centre is (x0 + (j + 0.5) cell_m, y0 + (i + 0.5) cell_m), row 0 southernmost.
    ``sprayable`` and ``in_field`` are boolean masks of the pixel centres in the sprayable
    area and in the field's outer boundary."""

    dose: np.ndarray
    x0: float
    y0: float
    cell_m: float
    sprayable: np.ndarray
    in_field: np.ndarray


@dataclass(frozen=True)
class DoseMetrics:
    """Dose figures over the sprayable area at rate ``rate_l_ha``.

    mean_l_ha: mean applied rate; cv_pct: coefficient of variation (std / mean, %);
    within_10_pct / within_20_pct: share of the sprayable area within ±10 % / ±20 % of the
    rate; above_150_pct / below_50_pct: share above 1.5× / below 0.5× the rate (all %);
    outside_field_l: litres deposited outside the field's boundary; no_spray_l: litres
    deposited in no-spray zones; liquid_l: litres sprayed (from the tracks);
    target_l: rate × sprayable area; liquid_vs_target_pct: liquid / target × 100.
    """

    mean_l_ha: float
    cv_pct: float
    within_10_pct: float
    within_20_pct: float
    above_150_pct: float
    below_50_pct: float
    outside_field_l: float
    no_spray_l: float
    liquid_l: float
    target_l: float
    liquid_vs_target_pct: float

    def as_dict(self) -> dict:
        """The figures rounded for plan.json."""
        return {
            "mean_l_ha": round(self.mean_l_ha, 3),
            "cv_pct": round(self.cv_pct, 2),
            "within_10_pct": round(self.within_10_pct, 2),
            "within_20_pct": round(self.within_20_pct, 2),
            "above_150_pct": round(self.above_150_pct, 2),
            "below_50_pct": round(self.below_50_pct, 2),
            "outside_field_l": round(self.outside_field_l, 3),
            "no_spray_l": round(self.no_spray_l, 3),
            "liquid_l": round(self.liquid_l, 3),
            "target_l": round(self.target_l, 3),
            "liquid_vs_target_pct": round(self.liquid_vs_target_pct, 2),
        }


@dataclass(frozen=True)
class Application:
    """What the vehicle is set to: spacing_m (m) the pump is sized for, litres per metre
    flown, flow_l_min at the spray speed (L/min) and, for ArduPilot, spray_pump_rate
    (SPRAY_PUMP_RATE: pump output in % of its maximum per m/s of ground speed)."""

    spacing_m: float
    litres_per_m: float
    flow_l_min: float
    spray_pump_rate: float

    def as_dict(self) -> dict:
        return {
            "spacing_m": round(self.spacing_m, 4),
            "litres_per_m": round(self.litres_per_m, 6),
            "flow_l_min": round(self.flow_l_min, 4),
            "spray_pump_rate": round(self.spray_pump_rate, 4),
        }


def flow_l_min(rate_l_ha: float, spacing_m: float, speed_m_s: float) -> float:
    """flow (L/min) = rate (L/ha) × spacing (m) × speed (m/s) × 60 / 10 000."""
    return rate_l_ha * spacing_m * speed_m_s * 60.0 / SQ_M_PER_HA


def vehicle_application(
    spray_legs: list[Leg], spacing_m: np.ndarray, rate_l_ha: float, speed_m_s: float,
    pump_max_l_min: float,
) -> Application:
    """The one setting per field the vehicle flies (see the module docstring):
    ``spacing_m`` holds each pass's spacing by pass index."""
    lengths = np.array([leg.length_m for leg in spray_legs])
    spacings = np.array([spacing_m[leg.pass_index] for leg in spray_legs])
    spacing = float((lengths * spacings).sum() / lengths.sum()) if lengths.sum() > 0 else float(
        spacings.mean())
    return Application(
        spacing_m=spacing,
        litres_per_m=rate_l_ha * spacing / SQ_M_PER_HA,
        flow_l_min=flow_l_min(rate_l_ha, spacing, speed_m_s),
        spray_pump_rate=100.0 * flow_l_min(rate_l_ha, spacing, 1.0) / pump_max_l_min,
    )


def pieces_of_legs(legs: list[Leg], litres_per_m: float,
                   pass_scale: np.ndarray | None = None) -> Pieces:
    """The straight pieces of the spray legs of ``legs``, each laying ``litres_per_m``;
    ``pass_scale``: each pass's pattern widening by pass index (None: 1)."""
    spray = [leg for leg in legs if leg.kind == "spray"]
    if not spray:
        empty = np.empty(0)
        return Pieces(empty, empty, empty, empty, empty, empty)
    a = np.vstack([leg.xy[:-1] for leg in spray]).astype(np.float64)
    b = np.vstack([leg.xy[1:] for leg in spray]).astype(np.float64)
    if pass_scale is None:
        scales = np.ones(a.shape[0])
    else:  # each leg's pass scale repeated over its pieces (one array op, not one per leg)
        per_leg = np.asarray(pass_scale, dtype=np.float64)[[leg.pass_index for leg in spray]]
        scales = np.repeat(per_leg, [len(leg.xy) - 1 for leg in spray])
    return Pieces(a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy(),
                  np.full(a.shape[0], float(litres_per_m)), scales)


def pattern_density(pattern: SprayPattern) -> tuple[np.ndarray, np.ndarray]:
    """The pattern's offsets (m) and its density (1/m), scaled so that it integrates to 1."""
    off = np.asarray(pattern.offsets_m, dtype=np.float64)
    val = np.asarray(pattern.deposit, dtype=np.float64)
    area = float(np.trapezoid(val, off)) if hasattr(np, "trapezoid") else float(np.trapz(val, off))
    return off, val / area


def default_cell_m(swath_m: float) -> float:
    """Pixel size (m): a twentieth of the swath, between 0.2 and 0.5 m."""
    return float(min(0.5, max(0.2, swath_m / 20.0)))


def dose_raster(
    pieces: Pieces, pattern: SprayPattern, sprayable: MultiPolygon, outer: MultiPolygon,
    cell_m: float,
) -> DoseRaster:
    """The dose (L/ha) of ``pieces`` over the field (local metres) and a margin of the
    pattern's half width around it and around every piece; masks of the sprayable area
    (``sprayable``) and of the field (``outer``)."""
    off, den = pattern_density(pattern)
    scale = np.ones(pieces.ax.shape[0]) if pieces.scale is None else pieces.scale
    half = pattern.half_width_m * float(scale.max(initial=1.0))
    left, bottom, right, top = outer.bounds
    x_lo = min(left, pieces.ax.min(initial=left), pieces.bx.min(initial=left)) - half - cell_m
    x_hi = max(right, pieces.ax.max(initial=right), pieces.bx.max(initial=right)) + half + cell_m
    y_lo = min(bottom, pieces.ay.min(initial=bottom), pieces.by.min(initial=bottom)) - half - cell_m
    y_hi = max(top, pieces.ay.max(initial=top), pieces.by.max(initial=top)) + half + cell_m
    cell = float(cell_m)
    while ((x_hi - x_lo) / cell) * ((y_hi - y_lo) / cell) > MAX_PIXELS:
        cell *= 1.25
    x0 = float(np.floor(x_lo / cell) * cell)
    y0 = float(np.floor(y_lo / cell) * cell)
    nx = int(np.ceil((x_hi - x0) / cell))
    ny = int(np.ceil((y_hi - y0) / cell))
    grid = _deposit(pieces.ax, pieces.ay, pieces.bx, pieces.by, pieces.lpm,
                    np.ascontiguousarray(scale, dtype=np.float64), off, den,
                    x0, y0, cell, ny, nx)
    grid *= SQ_M_PER_HA  # L/m² -> L/ha in place: no second raster
    return DoseRaster(
        dose=grid, x0=x0, y0=y0, cell_m=cell,
        sprayable=_mask(sprayable, x0, y0, cell, ny, nx),
        in_field=_mask(outer, x0, y0, cell, ny, nx),
    )


def _mask(region: MultiPolygon, x0: float, y0: float, cell: float, ny: int, nx: int) -> np.ndarray:
    """Pixels whose centre lies inside ``region`` (even-odd scan lines through the centres)."""
    if region.is_empty:
        return np.zeros((ny, nx), dtype=bool)
    rows = y0 + (np.arange(ny) + 0.5) * cell
    index, a, b = clip_scanlines(flatten_rings(region), rows)
    j0 = np.clip(np.ceil((a - x0) / cell - 0.5).astype(np.int64), 0, nx)
    j1 = np.clip(np.floor((b - x0) / cell - 0.5).astype(np.int64) + 1, 0, nx)
    # each run [j0, j1) of a row set in one pass (a cumulative sum of +1/-1 steps took 3
    # rasters and 40-70 ms on 111 ha)
    return _fill_runs(index, j0, j1, ny, nx)


def dose_metrics(raster: DoseRaster, rate_l_ha: float, liquid_l: float,
                 sprayable_m2: float) -> DoseMetrics:
    """The figures of :class:`DoseMetrics` from a raster; ``liquid_l`` is what the tracks
    sprayed and ``sprayable_m2`` the sprayable area (m²) the target is computed on."""
    n, mean, std, c10, c20, c_hi, c_lo, outside, no_spray = _dose_sums(
        raster.dose, raster.sprayable, raster.in_field, float(rate_l_ha))
    pixel_ha = raster.cell_m**2 / SQ_M_PER_HA
    target = rate_l_ha * sprayable_m2 / SQ_M_PER_HA
    if n == 0:
        mean = cv = w10 = w20 = hi = lo = 0.0
    else:
        cv = 100.0 * std / mean if mean > 0 else 0.0
        w10, w20, hi, lo = (100.0 * (c / n) for c in (c10, c20, c_hi, c_lo))
    return DoseMetrics(
        mean_l_ha=mean, cv_pct=cv, within_10_pct=w10, within_20_pct=w20,
        above_150_pct=hi, below_50_pct=lo,
        outside_field_l=outside * pixel_ha, no_spray_l=no_spray * pixel_ha,
        liquid_l=liquid_l, target_l=target,
        liquid_vs_target_pct=100.0 * liquid_l / target if target > 0 else 0.0,
    )


@dataclass(frozen=True)
class PlanDose:
    """The dose of a plan: the vehicle's setting, the raster and its figures."""

    application: Application
    raster: DoseRaster
    metrics: DoseMetrics


def spacings_or_swath(spacing_m: np.ndarray | None, legs: list[Leg], swath_m: float) -> np.ndarray:
    """Each pass's spacing (m) by pass index; the swath for every pass when None."""
    if spacing_m is not None:
        return spacing_m
    count = 1 + max((leg.pass_index for leg in legs if leg.pass_index is not None), default=-1)
    return np.full(count, float(swath_m))


def plan_dose(
    legs: list[Leg], application: Application, pattern: SprayPattern, sprayable: MultiPolygon,
    outer: MultiPolygon, rate_l_ha: float, cell_m: float, pass_scale: np.ndarray | None = None,
) -> PlanDose:
    """The dose the vehicle lays flying ``legs`` (every sortie's, local metres) at
    ``application``, over the field ``outer`` whose sprayable part is ``sprayable``;
    ``pass_scale``: each pass's pattern width against ``pattern`` by pass index, where
    the spray height follows the spacing (:func:`agridrone.spray_height.pattern_scales`)."""
    pieces = pieces_of_legs(legs, application.litres_per_m, pass_scale)
    raster = dose_raster(pieces, pattern, sprayable, outer, cell_m)
    return PlanDose(application, raster,
                    dose_metrics(raster, rate_l_ha, pieces.liquid_l, float(sprayable.area)))
