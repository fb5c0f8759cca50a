"""Dose maps: dose.png (colour scale in L/ha) and dose.tif (a georeferenced GeoTIFF for
QGIS), of a plan or of an as-applied flight.

The GeoTIFF holds one float32 band in L/ha on the plan's local transverse Mercator frame
(its CRS written as WKT), north up, with nodata (-9999) where nothing landed outside
the field. Written by :mod:`agridrone.geotiff` as GDAL writes it, so QGIS and every GIS
read it.
"""

from __future__ import annotations

import numpy as np

from agridrone.dose import (
    DoseMetrics,
    DoseRaster,
    Pieces,
    default_cell_m,
    dose_metrics,
    dose_raster,
)
from agridrone.dose_kernels import _block_means
from agridrone.drone import SprayPattern
from agridrone.field import Field
from agridrone.geotiff import tmerc_geotiff

NODATA = -9999.0
MIN_SPEED_M_S = 0.1  # as-applied samples slower than this count at this speed
FIGURE_PX = (1100, 800)  # dose.png's size (width, height) in pixels: 11 × 8 in at 100 dpi
PLOT_BOX = (0.08, 0.84, 0.2, 0.92)  # the plot's left, right, bottom, top (fractions); bar below
# its plot area at most: the raster is averaged down to no fewer blocks than this, still one
# block or more per screen pixel
PLOT_PX = (round(FIGURE_PX[0] * (PLOT_BOX[1] - PLOT_BOX[0])),
           round(FIGURE_PX[1] * (PLOT_BOX[3] - PLOT_BOX[2])))


def dose_caption(title: str, metrics: DoseMetrics, rate_l_ha: float) -> str:
    """dose.png's caption: ``title`` and a line of the dose's figures against the rate."""
    m = metrics
    return (f"{title}\ndose: mean {m.mean_l_ha:.1f} L/ha (target {rate_l_ha:g}), CV "
            f"{m.cv_pct:.1f} %, {m.within_10_pct:.1f} % within ±10 %, "
            f"{m.above_150_pct:.1f} % above 1.5×")


def render_dose_png(field: Field, raster: DoseRaster, rate_l_ha: float, title: str) -> bytes:
    """PNG bytes: the dose in L/ha (blue under, white at the rate, red over; 0 to 2× the
    rate, matplotlib's RdBu_r), field and no-spray outlines, a colour bar in L/ha below,
    metre axes and ``title`` (:mod:`agridrone.raster_canvas`)."""
    from agridrone.raster_canvas import Canvas, LegendEntry

    dose, blank, cell = screen_raster(raster, PLOT_PX)
    ny, nx = dose.shape
    x_min, y_min, x_max, y_max = field.outer_local.bounds
    bounds = (min(raster.x0, x_min), min(raster.y0, y_min), max(raster.x0 + nx * cell, x_max),
              max(raster.y0 + ny * cell, y_max))
    canvas = Canvas(bounds, size_px=FIGURE_PX, plot=PLOT_BOX)
    # 0 .. 2x the rate -> 0 .. 1 (the rate at the middle, white); above 2x the rate it stays
    # at the top colour (the colour bar's arrow end)
    canvas.raster(dose / (2.0 * rate_l_ha), blank, raster.x0, raster.y0, cell)  # blank: white
    canvas.polygons(field.outer_local, edge="#3a6b1f", width_px=1)
    canvas.legend.append(LegendEntry("field", "patch", fill="white", edge="#3a6b1f"))
    if not field.no_spray_local.is_empty:
        canvas.polygons(field.no_spray_local, edge="black", hatch="black")
        canvas.legend.append(LegendEntry("no-spray zone", "patch", fill="white", edge="black", hatch=True))
    canvas.draw_legend()
    canvas.frame()
    canvas.colour_bar([0.0, 0.5 * rate_l_ha, 0.9 * rate_l_ha, rate_l_ha, 1.1 * rate_l_ha,
                       1.5 * rate_l_ha, 2.0 * rate_l_ha], 2.0 * rate_l_ha, "applied dose, L/ha")
    canvas.title(title)
    return canvas.png()


def screen_raster(raster: DoseRaster, min_px: tuple[int, int]
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """The raster averaged over k × k blocks for drawing: ``(dose, blank, cell_m)``, where
    ``dose`` (L/ha) is the mean over each block's shown pixels (in the field, or with dose
    outside it), ``blank`` marks blocks with none and ``cell_m`` is k × the raster's cell (m).
    k is the largest whole number leaving at least ``min_px`` (width, height) blocks, so the
    picture (no larger than ``min_px``) still samples finer than one block per screen pixel
    while the canvas resamples a raster k² times smaller; k = 1 returns the raster as it is.
    The last partial row and column of blocks are dropped when k > 1 (under k cells of the
    margin around the field)."""
    ny, nx = raster.dose.shape
    k = max(1, min(nx // min_px[0], ny // min_px[1]))
    if k == 1:
        return raster.dose, ~(raster.in_field | (raster.dose > 0.0)), raster.cell_m
    means, blank = _block_means(raster.dose, raster.in_field, k)  # 111 ha: 63-81 -> ~10 ms
    return means, blank, raster.cell_m * k


def drawing_raster(raster: DoseRaster) -> DoseRaster:
    """The raster as dose.png draws it (:func:`screen_raster` at dose.png's size), for
    drawing only: its masks are both "block with a shown pixel". :func:`render_dose_png`
    draws it into the same bytes as ``raster``; 111 ha: 7.8 MB to hand to another process
    instead of 78 MB."""
    dose, blank, cell = screen_raster(raster, PLOT_PX)
    return DoseRaster(dose, raster.x0, raster.y0, cell, ~blank, ~blank)


def dose_geotiff(field: Field, raster: DoseRaster) -> bytes:
    """GeoTIFF bytes (float32 L/ha, local transverse Mercator CRS, nodata -9999)."""
    ny, _ = raster.dose.shape
    band = raster.dose.astype(np.float32)
    band[~(raster.in_field | (raster.dose > 0.0))] = NODATA
    return tmerc_geotiff(band[::-1], field.frame.lat_0, field.frame.lon_0, raster.x0,
                         raster.y0 + ny * raster.cell_m, raster.cell_m, NODATA,
                         {"units": "L/ha"})  # row 0 north


def as_applied_dose(
    field: Field, lonlat: np.ndarray, pump_on: np.ndarray, speed_m_s: np.ndarray,
    flow_l_min: np.ndarray, pattern: SprayPattern, rate_l_ha: float, cell_m: float | None = None,
) -> tuple[DoseRaster, DoseMetrics]:
    """The dose of a flown track: samples ``lonlat`` (n, 2) degrees in time order, the pump
    state, ground speed (m/s) and pump flow (L/min) at each; the stretch from sample i to
    i + 1 lays flow_i / (60 × speed_i) litres per metre when the pump is on at sample i.

    Returns ``(raster, metrics)`` (:class:`agridrone.dose.DoseRaster`,
    :class:`agridrone.dose.DoseMetrics`); write them with :func:`as_applied_files`.
    """
    xy = field.frame.to_local(np.asarray(lonlat, dtype=np.float64))
    on = np.asarray(pump_on, dtype=bool)[:-1]
    speed = np.maximum(np.asarray(speed_m_s, dtype=np.float64)[:-1], MIN_SPEED_M_S)
    lpm = np.asarray(flow_l_min, dtype=np.float64)[:-1] / (60.0 * speed)
    pieces = Pieces(xy[:-1, 0][on].copy(), xy[:-1, 1][on].copy(), xy[1:, 0][on].copy(),
                    xy[1:, 1][on].copy(), lpm[on].copy())
    cell = default_cell_m(2 * pattern.half_width_m / 1.3) if cell_m is None else cell_m
    raster = dose_raster(pieces, pattern, field.sprayable_local, field.outer_local, cell)
    return raster, dose_metrics(raster, rate_l_ha, pieces.liquid_l, field.sprayable_m2)


def as_applied_files(field: Field, raster: DoseRaster, rate_l_ha: float, title: str
                     ) -> dict[str, bytes]:
    """as-applied-dose.png and as-applied-dose.tif, name -> bytes."""
    return {
        "as-applied-dose.png": render_dose_png(field, raster, rate_l_ha, title),
        "as-applied-dose.tif": dose_geotiff(field, raster),
    }
