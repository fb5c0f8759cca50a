"""As-applied data of a flight as ISOXML: the plan's TASKDATA with the task marked completed
and a type-2 grid (``GRD00001.bin``, written by the ``isoxml`` package's grid converter) of the
volume per area actually applied in each cell, from the tracks flown and the pump's state."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import shapely

from agridrone.geo import LocalFrame
from missions.formats.isoxml_task import (
    ACTUAL_RATE_DDI,
    build_taskdata,
    ddi_bytes,
    rate_value,
    zip_taskdata,
)

METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude times cos(latitude)
GRID_NAME = "GRD00001"
APPLIED_ZONE = 2


@dataclass(frozen=True)
class FlownTrack:
    """What one sortie flew: positions (n, 3) of [t s, lon deg, lat deg] and the pump's
    output (m, 2) of [t s, output 0..1], each output held until the next report."""

    positions: np.ndarray
    pump: np.ndarray


def applied_rate_grid(plan: dict, tracks: list[FlownTrack], rate_l_ha: float, swath_m: float,
                      cell_m: float) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """Litres per hectare applied in each cell of a grid over the field: ``rate_l_ha`` times
    the number of pump-on swaths (``swath_m`` wide, centred on the track) covering the cell's
    centre. Returns (rows × columns array, row 0 the southernmost; (south, west) corner in
    degrees; (cell north, cell east) size in degrees), cells about ``cell_m`` metres."""
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    west, south, east, north = shapely.geometry.shape(plan["field"]).bounds
    cell_north = cell_m / METRES_PER_DEGREE
    cell_east = cell_m / (METRES_PER_DEGREE * np.cos(np.radians(0.5 * (south + north))))
    rows = max(int(np.ceil((north - south) / cell_north)), 1)
    cols = max(int(np.ceil((east - west) / cell_east)), 1)
    lat = south + (np.arange(rows) + 0.5) * cell_north
    lon = west + (np.arange(cols) + 0.5) * cell_east
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    centres = frame.to_local(np.column_stack([lon_grid.ravel(), lat_grid.ravel()]))
    count = np.zeros(len(centres))
    for track in tracks:
        for run in _pump_on_runs(track, frame):
            swath = shapely.LineString(run).buffer(swath_m / 2, cap_style="flat")
            count += shapely.contains_xy(swath, centres[:, 0], centres[:, 1])
    return (count * rate_l_ha).reshape(rows, cols), (south, west), (cell_north, cell_east)


def _pump_on_runs(track: FlownTrack, frame: LocalFrame) -> list[np.ndarray]:
    """Local-metre polylines of the stretches flown with the pump on (output > 0)."""
    positions = np.asarray(track.positions, dtype=np.float64).reshape(-1, 3)
    pump = np.asarray(track.pump, dtype=np.float64).reshape(-1, 2)
    if len(positions) < 2 or len(pump) == 0:
        return []
    index = np.searchsorted(pump[:, 0], positions[:, 0], side="right") - 1
    on = (index >= 0) & (pump[np.maximum(index, 0), 1] > 0.0)
    xy = frame.to_local(positions[:, 1:3])
    runs, start = [], None
    for i, state in enumerate(on):
        if state and start is None:
            start = i
        if (not state or i == len(on) - 1) and start is not None:
            if i + 1 - start >= 2:  # a stretch ends at the first point after it
                runs.append(xy[start:i + 1])
            start = None
    return runs


def render_as_applied_taskdata(plan: dict, tracks: list[FlownTrack], rate_l_ha: float,
                               swath_m: float, cell_m: float = 1.0) -> bytes:
    """TASKDATA.zip of a flight: the plan's partfield and task (status completed) with a
    type-2 grid of the actual volume per area applied (DDI 2, mm³/m²) in cells of about
    ``cell_m`` metres. tracks: the sorties flown (:class:`FlownTrack`); rate_l_ha: the rate
    flown where the pump ran; swath_m: the width one pass sprays (metres)."""
    import isoxml.models.base.v4 as iso
    from isoxml.converter.np_grid import from_numpy_array

    applied, (south, west), (cell_north, cell_east) = applied_rate_grid(
        plan, tracks, rate_l_ha, swath_m, cell_m)
    task_data, task = build_taskdata(plan, status="Completed")
    task.treatment_zones.append(iso.TreatmentZone(
        code=APPLIED_ZONE, designator="as applied", process_data_variables=[
            iso.ProcessDataVariable(process_data_ddi=ddi_bytes(ACTUAL_RATE_DDI),
                                    process_data_value=0, product_id_ref="PDT1")]))
    values = np.vectorize(lambda r: rate_value(ACTUAL_RATE_DDI, r))(applied).astype(np.int32)
    grid = iso.Grid(
        minimum_north_position=round(Decimal(float(south)), 9),
        minimum_east_position=round(Decimal(float(west)), 9),
        cell_north_size=round(float(cell_north), 12), cell_east_size=round(float(cell_east), 12),
        maximum_column=values.shape[1], maximum_row=values.shape[0], filename=GRID_NAME,
        type=iso.GridType.GridType2, treatment_zone_code=APPLIED_ZONE)
    data = from_numpy_array(values, grid)
    grid.filelength = len(data)
    task.grids.append(grid)
    return zip_taskdata(task_data, {GRID_NAME: data})
