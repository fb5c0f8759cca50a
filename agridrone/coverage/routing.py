"""Route planning: order the cells, pick each cell's entry corner, and link everything
with pump-off transits from the station and back.

Cells are ordered greedily by dead-head distance; every start (cell and corner) is
tried when the station is free to choose, and the station is then the point of the
field boundary nearest the route's start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import MultiPolygon, Point

from agridrone.coverage.leads import LeadRegion, leads_for
from agridrone.coverage.swaths import Passes, from_heading_frame, to_heading_frame
from agridrone.coverage.transit import TransitPlanner
from agridrone.route import Leg

MAX_START_CANDIDATES = 64
MATRIX_TOURS = 2000  # tours up to which the exit-to-entry distances are kept (32 MB)


@dataclass(frozen=True)
class CellTour:
    """One way to cover a cell: its passes in flying order, each as (start, end) points
    in the heading frame (metres), and each pass's spacing (m)."""

    segments: list[tuple[np.ndarray, np.ndarray]]
    spacings: list[float]

    @property
    def entry(self) -> np.ndarray:
        return self.segments[0][0]

    @property
    def exit(self) -> np.ndarray:
        return self.segments[-1][1]


def cell_tours(passes: Passes, cell: list[int], spacing: np.ndarray) -> list[CellTour]:
    """The four ways to fly a cell back and forth: from its bottom or top pass, first
    pass flown towards +x or -x. ``spacing``: every pass's spacing (m), by pass index."""
    tours = []
    for from_top in (False, True):
        order = cell[::-1] if from_top else cell
        for first_forward in (True, False):
            segments = []
            for n, i in enumerate(order):
                a = np.array([passes.x0[i], passes.y[i]])
                b = np.array([passes.x1[i], passes.y[i]])
                forward = first_forward == (n % 2 == 0)
                segments.append((a, b) if forward else (b, a))
            tours.append(CellTour(segments, [float(spacing[i]) for i in order]))
    return tours


def order_cells(
    tours: list[list[CellTour]], start: np.ndarray
) -> tuple[list[CellTour], float]:
    """Greedy order from ``start`` (heading frame): always the nearest entry of a cell not
    yet flown (ties: the lowest cell, then the lowest tour). Returns the tours in order and
    the straight-line dead-head (m) between them, the first approach included."""
    return _Greedy(tours).order(start)


class _Greedy:
    """The cells' entries and exits as arrays, so that each greedy step is one vectorised
    nearest-entry search: an order costs O(cells²) array work, not Python loops. The
    exit-to-entry distances are computed once (for up to MATRIX_TOURS tours) when a second
    order is asked for, and shared by the orders from every start; each step searches only
    the tours of cells not yet flown."""

    def __init__(self, tours: list[list[CellTour]]) -> None:
        self.tours = tours
        self.cell = np.array([c for c, cell in enumerate(tours) for _ in cell], dtype=np.int64)
        self.flat = [tour for cell in tours for tour in cell]
        self.entries = np.array([tour.entry for tour in self.flat]).reshape(-1, 2)
        self.exits = np.array([tour.exit for tour in self.flat]).reshape(-1, 2)
        self.between: np.ndarray | None = None  # [exit k, entry j] distances (m)
        self.orders = 0

    def order(self, start: np.ndarray) -> tuple[list[CellTour], float]:
        self.orders += 1
        if self.orders == 2 and len(self.flat) <= MATRIX_TOURS:  # several starts share it
            self.between = np.hypot(self.entries[None, :, 0] - self.exits[:, None, 0],
                                    self.entries[None, :, 1] - self.exits[:, None, 1])
        here = np.asarray(start, dtype=np.float64)
        left = np.arange(len(self.flat))  # tours of the cells not yet flown, in tour order
        cells = self.cell
        chosen: list[CellTour] = []
        deadhead = 0.0
        k = -1
        for _ in range(len(self.tours)):
            if k < 0 or self.between is None:
                d = np.hypot(self.entries[left, 0] - here[0], self.entries[left, 1] - here[1])
            else:
                d = self.between[k, left]
            j = int(np.argmin(d))
            k = int(left[j])
            deadhead += float(d[j])
            left = left[cells[left] != cells[k]]
            chosen.append(self.flat[k])
            here = self.exits[k]
        return chosen, deadhead


def plan_order(
    tours: list[list[CellTour]],
    boundary: MultiPolygon,
    heading_deg: float,
    station_local: np.ndarray | None,
) -> tuple[list[CellTour], np.ndarray]:
    """Cell order and the station (local metres).

    With a station given, the greedy order starts there. Without, each cell corner is
    tried as the start with the nearest boundary point as station, and the order with
    the least dead-head (station legs included) wins.
    """
    greedy = _Greedy(tours)
    if station_local is not None:
        start = _to_heading(station_local, heading_deg)
        chosen, _ = greedy.order(start)
        return chosen, station_local
    candidates = [tour.entry for cell in tours for tour in cell][:MAX_START_CANDIDATES]
    best: tuple[float, list[CellTour], np.ndarray] | None = None
    outline = _outline(boundary)
    for entry in candidates:
        station = _nearest_on(outline, _from_heading(entry, heading_deg))
        start = _to_heading(station, heading_deg)
        chosen, deadhead = greedy.order(start)
        total = deadhead + float(np.hypot(*(chosen[-1].exit - start)))
        if best is None or total < best[0] - 1e-9:
            best = (total, chosen, station)
    assert best is not None
    return best[1], best[2]


def nearest_boundary_point(boundary: MultiPolygon, point: np.ndarray) -> np.ndarray:
    """The point of the field's outer boundary nearest ``point`` (local metres)."""
    return _nearest_on(_outline(boundary), point)


def _outline(boundary: MultiPolygon):
    """The outer rings of the field as one prepared geometry."""
    outline = shapely.union_all([p.exterior for p in boundary.geoms])
    shapely.prepare(outline)
    return outline


def _nearest_on(outline, point: np.ndarray) -> np.ndarray:
    nearest = shapely.ops.nearest_points(outline, Point(point))[0]
    return np.array([nearest.x, nearest.y])


def build_legs(
    loops: list[np.ndarray],
    cell_order: list[CellTour],
    station: np.ndarray,
    heading_deg: float,
    transit: TransitPlanner,
    leads: tuple[LeadRegion, float, float] | None = None,
) -> list[Leg]:
    """The route from the station through the headland loops and the cells and back, as
    legs in local metres. Pass indices count spray legs in flying order (the order of
    :func:`pass_spacings`). leads: (region, lead-in m, lead-out m): every straight pass
    gets a lead-in and a lead-out leg (kind ``"lead"``, :mod:`.leads`) of up to those
    lengths inside the region."""
    legs: list[Leg] = []
    here = station
    pass_index = 0

    def fly_to(target: np.ndarray) -> None:
        nonlocal here
        if float(np.hypot(*(target - here))) > 1e-9:
            legs.append(Leg("transit", transit.path(here, target)))
        here = target

    for loop in loops:
        start = int(np.argmin(np.hypot(*(loop[:-1] - here).T)))
        ring = np.vstack([loop[start:-1], loop[:start], loop[start : start + 1]])
        fly_to(ring[0])
        legs.append(Leg("spray", ring, pass_index))
        pass_index += 1
        here = ring[-1]
    for tour in cell_order:
        for a, b in tour.segments:
            segment = from_heading_frame(np.vstack([a, b]), heading_deg)
            lead_in, lead_out = leads_for(segment, *leads) if leads else (None, None)
            if lead_in is not None:
                fly_to(lead_in[0])
                legs.append(Leg("lead", lead_in, pass_index))
                here = lead_in[1]
            fly_to(segment[0])
            legs.append(Leg("spray", segment, pass_index))
            here = segment[1]
            if lead_out is not None:
                legs.append(Leg("lead", lead_out, pass_index))
                here = lead_out[1]
            pass_index += 1
    fly_to(station)
    return legs


def pass_spacings(loops: list[np.ndarray], cell_order: list[CellTour], swath_m: float) -> np.ndarray:
    """The spacing (m) of every pass of :func:`build_legs`'s route, by pass index: the
    swath for headland loops, the cell's spacing for back-and-forth passes."""
    cells = [spacing for tour in cell_order for spacing in tour.spacings]
    return np.asarray([float(swath_m)] * len(loops) + cells, dtype=np.float64)


def _to_heading(xy: np.ndarray, heading_deg: float) -> np.ndarray:
    return to_heading_frame(xy[None, :], heading_deg)[0]


def _from_heading(xy: np.ndarray, heading_deg: float) -> np.ndarray:
    return from_heading_frame(xy[None, :], heading_deg)[0]
