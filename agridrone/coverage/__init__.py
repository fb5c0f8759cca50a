"""Coverage planning: from the sprayable region to a flyable spray route.

Stages, one module each (after Fields2Cover's layout): :mod:`.headland` (loops along
the edges), :mod:`.heading` (pass direction search), :mod:`.swaths` (passes),
:mod:`.decomposition` (cells), :mod:`.routing` (cell order, entry corners, route),
:mod:`.transit` (paths around obstacles), :mod:`.objectives` (costs), :mod:`.metrics`;
:mod:`.strips` is the ground under straight passes that the layout stages measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import shapely

from agridrone.coverage.decomposition import decompose
from agridrone.coverage.heading import SearchSettings, search_heading, shortlist
from agridrone.coverage.headland import headland_loops
from agridrone.coverage.leads import LeadRegion
from agridrone.coverage.metrics import CoverageMetrics, coverage_metrics
from agridrone.coverage.objectives import search_estimate_s, work_time_s
from agridrone.coverage.routing import build_legs, cell_tours, pass_spacings, plan_order
from agridrone.coverage.spacing import even_spacing, fitted_spacing
from agridrone.coverage.strips import boxes_areas, oriented_rings, sprayed_m2, strip_boxes
from agridrone.coverage.swaths import (
    CLIP_TOLERANCE_M,
    Passes,
    clip_rings,
    flatten_rings,
    swath_passes,
    to_heading_frame,
)
from agridrone.coverage.transit import TransitPlanner
from agridrone.errors import AgridroneError
from agridrone.field import Field, as_multipolygon
from agridrone.route import Leg, spray_length_m, transit_length_m

NO_SPRAY_CLEARANCE_M = 1.0  # pass ends and transits stay this far from no-spray zones
DOSE_TIE_SHARE = 0.002  # headings misapplying within 0.2 % of the field's area are compared by time
LAID_TIME_SHARE = 0.10  # a heading whose laid passes fly 10 % longer than the fastest's is dropped
MISSED_SHARE = 0.01  # a heading whose flown passes miss more than 1 % of the field is avoided


@dataclass(frozen=True)
class CoverageOptions:
    """swath_m: spray swath width (m); edge_margin_m: distance from the edges to the
    centre of the pass beside them (m; None = half a swath); headland_passes: loops
    along the edges before the back-and-forth; heading_deg: fixed pass direction
    (compass degrees; None = search); speed_m_s / transit_speed_m_s: spray and
    pump-off speeds (m/s); turn_time_s: time one turn between passes costs (s);
    even_spacing: spread each cell's passes evenly across it (False: passes one swath
    apart with one more squeezed beside the last where the width is not a whole number
    of swaths, as on a field with fixed tramlines). spacing_range_m: (narrowest, widest)
    effective swath (m) of a drone whose spray height follows the pass spacing
    (:mod:`agridrone.spray_height`): the regular lines are then laid at the field's
    fitted spacing (at most the swath, :func:`.spacing.fitted_spacing`), the edge margin
    scaled with it, each cell's count of passes chosen near it, and each pass sprays as
    wide as its spacing (coverage is measured so); None: every pass one swath wide.
    lead_m: the (lead-in, lead-out) lengths (m) around every straight pass (:mod:`.leads`;
    (0, 0): none); they may reach that far beyond the field's edge.

    The leads' band beyond the edge is also where transits from and to their ends run."""

    swath_m: float = 5.0
    edge_margin_m: float | None = None
    headland_passes: int = 0
    heading_deg: float | None = None
    speed_m_s: float = 5.0
    transit_speed_m_s: float = 8.0
    turn_time_s: float = 4.0
    even_spacing: bool = True
    spacing_range_m: tuple[float, float] | None = None
    lead_m: tuple[float, float] = (0.0, 0.0)

    @property
    def lead_reach_m(self) -> float:
        """How far (m) beyond the field's edge lead legs may run: the longer lead."""
        return max(self.lead_m)

    @property
    def margin_m(self) -> float:
        """The edge margin in metres, half a swath unless set."""
        return self.swath_m / 2 if self.edge_margin_m is None else self.edge_margin_m


@dataclass(frozen=True)
class CoverageResult:
    """The planned route (legs in local metres, station to station) and its figures:
    heading (degrees), passes, turns, spray and dead-head distance (m), estimated time
    (s), the coverage metrics and each pass's spacing (m, by pass index; None: the swath
    for every pass)."""

    heading_deg: float
    station_local: np.ndarray
    legs: list[Leg]
    passes: int
    turns: int
    spray_m: float
    deadhead_m: float
    est_time_s: float
    metrics: CoverageMetrics
    pass_spacing_m: np.ndarray | None = None


def transit_planner(field: Field, lead_reach_m: float = 0.0) -> TransitPlanner:
    """Pump-off paths over the field that keep NO_SPRAY_CLEARANCE_M from no-spray zones:
    inside the field, or across its convex hull between the parts of a split field, or
    (from and to lead leg ends beyond the boundary) inside the field widened by
    ``lead_reach_m`` metres (:func:`lead_region`)."""
    keep_out = _keep_out(field)
    hull = shapely.convex_hull(field.outer_local)
    extra = [as_multipolygon(lead_region(field, lead_reach_m).region)] if lead_reach_m > 0 else []
    return TransitPlanner(
        as_multipolygon(field.outer_local.difference(keep_out)),
        as_multipolygon(hull.difference(keep_out)),
        *extra,
    )


def lead_region(field: Field, lead_reach_m: float) -> LeadRegion:
    """Where lead-in and lead-out legs may run: the field widened by ``lead_reach_m`` (m)
    minus the no-spray zones and their NO_SPRAY_CLEARANCE_M."""
    return LeadRegion.around(field.outer_local, _keep_out(field), lead_reach_m)


def _keep_out(field: Field):
    return field.no_spray_local.buffer(NO_SPRAY_CLEARANCE_M, join_style="mitre")


def plan_coverage(
    field: Field,
    options: CoverageOptions,
    station_local: np.ndarray | None = None,
    transit: TransitPlanner | None = None,
) -> CoverageResult:
    """Plan the spray route over a field: headland loops, the best (or the fixed)
    heading, passes, cells, their order and the transits between them.

    station_local: the takeoff and refill point in local metres, or None for the point
    of the boundary nearest the route's start. transit: the field's
    :func:`transit_planner`, when the caller has one already.
    """
    sprayable = field.sprayable_local
    loops, interior = headland_loops(
        sprayable, options.swath_m, options.margin_m, options.headland_passes
    )
    inner_margin = options.margin_m if options.headland_passes == 0 else options.swath_m / 2
    layout_region = interior.buffer(-inner_margin) if inner_margin > 0 else interior
    if layout_region.is_empty and not loops:
        raise AgridroneError(
            f"the field is too narrow for a {options.swath_m:g} m swath with a "
            f"{options.margin_m:g} m edge margin: no pass fits"
        )
    # passes and transits keep a clearance from no-spray zones, so that no waypoint lies
    # on the edge of a zone (a geofence exclusion polygon contains its zone)
    reach = as_multipolygon(interior.difference(_keep_out(field)))
    if options.heading_deg is not None:
        layout = _flown(_lay(interior, reach, float(options.heading_deg) % 180.0, inner_margin,
                             options), interior, reach, options)
    elif layout_region.is_empty:
        layout = _flown(_lay(interior, reach, 0.0, inner_margin, options), interior, reach, options)
    else:
        settings = SearchSettings(
            swath_m=options.swath_m, speed_m_s=options.speed_m_s,
            transit_speed_m_s=options.transit_speed_m_s, turn_time_s=options.turn_time_s,
            edge_margin_m=inner_margin, cell_jump_m=float(np.sqrt(max(sprayable.area, 1.0))) / 2,
            min_spray_m=float(interior.area) / options.swath_m,
        )
        rings = flatten_rings(layout_region.buffer(CLIP_TOLERANCE_M))
        best = search_heading(rings, settings)
        laid = [_lay(interior, reach, float(h) % 180.0, inner_margin, options)
                for h in shortlist(rings, *best, settings)]
        flown: dict[int, _Layout] = {}

        def flown_at(k: int) -> _Layout:
            if k not in flown:
                flown[k] = _flown(laid[k], interior, reach, options)
            return flown[k]

        chosen = _cheapest(laid, settings, float(interior.area),
                           lambda k: _missed_m2(flown_at(k), options))
        layout = flown_at(chosen)
    heading, passes, cells, spacing = layout.heading_deg, layout.passes, layout.cells, layout.spacing
    tours = [cell_tours(passes, cell, spacing) for cell in cells]
    order, station = plan_order(tours, field.outer_local, heading, station_local)
    leads = ((lead_region(field, options.lead_reach_m), *options.lead_m)
             if options.lead_reach_m > 0 else None)
    legs = build_legs(loops, order, station, heading,
                      transit or transit_planner(field, options.lead_reach_m), leads)

    spray_lines = [leg.xy for leg in legs if leg.kind == "spray"]
    spray_m = spray_length_m(legs)
    deadhead_m = transit_length_m(legs)
    turns = max(0, len(spray_lines) - 1)
    pass_spacing = pass_spacings(loops, order, options.swath_m)
    widths: float | np.ndarray = options.swath_m
    if options.even_spacing and options.spacing_range_m is not None:
        low, high = options.spacing_range_m
        widths = np.clip(pass_spacing, low, high)
    est = work_time_s(
        spray_m, turns, deadhead_m, speed_m_s=options.speed_m_s,
        turn_time_s=options.turn_time_s, transit_speed_m_s=options.transit_speed_m_s,
    )
    return CoverageResult(
        heading_deg=heading,
        station_local=station,
        legs=legs,
        passes=len(spray_lines),
        turns=turns,
        spray_m=spray_m,
        deadhead_m=deadhead_m,
        est_time_s=float(est),
        metrics=coverage_metrics(spray_lines, sprayable, widths),
        pass_spacing_m=pass_spacing,
    )


@dataclass(frozen=True)
class _Layout:
    """Passes laid at one heading (degrees): the passes (heading frame), the cells (lists
    of pass indices), each pass's spacing (m), the regular lines' spacing (m), the edge
    margin they keep (m) and the region they cover (heading frame)."""

    heading_deg: float
    passes: Passes
    cells: list[list[int]]
    spacing: np.ndarray
    spacing_m: float
    margin_m: float
    region: shapely.Geometry


def _lay(interior, reach, heading: float, inner_margin: float,
         options: CoverageOptions) -> _Layout:
    """The passes over ``interior`` at ``heading`` (degrees) as the swath generator lays
    them, keeping ``inner_margin`` (m) from its edges (scaled with the field's spacing where
    the spacing is fitted): enough to compare headings; :func:`_evened` spreads them."""
    region = shapely.transform(interior, lambda xy: to_heading_frame(xy, heading))
    spacing_m = options.swath_m
    if options.even_spacing and options.spacing_range_m is not None:
        spacing_m = fitted_spacing(region, inner_margin / options.swath_m, options.swath_m)
        inner_margin *= spacing_m / options.swath_m
    passes = swath_passes(interior, heading, spacing_m, inner_margin, reach)
    return _Layout(heading, passes, decompose(passes), np.full(len(passes), options.swath_m),
                   spacing_m, inner_margin, region)


def _evened(layout: _Layout, interior, reach, options: CoverageOptions) -> _Layout:
    """``layout`` with each cell's passes spread evenly (:func:`even_spacing`)."""
    passes, cells, spacing = even_spacing(
        layout.passes, layout.cells,
        *clip_rings(interior, layout.heading_deg, layout.margin_m, reach), layout.region,
        layout.spacing_m, options.swath_m, fit_counts=options.spacing_range_m is not None,
    )
    return replace(layout, passes=passes, cells=cells, spacing=spacing)


def _flown(layout: _Layout, interior, reach, options: CoverageOptions) -> _Layout:
    """``layout`` as it is flown: evened (:func:`_evened`) when ``options`` even the spacing."""
    return _evened(layout, interior, reach, options) if options.even_spacing else layout


def _cheapest(layouts: list[_Layout], settings: SearchSettings, area_m2: float,
              missed_m2: Callable[[int], float]) -> int:
    """The index of the layout to fly: among those whose work time is within LAID_TIME_SHARE
    of the fastest's, and of those whose misapplied area (:func:`_misapplied_m2`) is within
    DOSE_TIE_SHARE of the field's area (``area_m2``) of the least, the fastest; the first
    on a tie. When that one's passes as flown leave more than MISSED_SHARE of the field
    unsprayed (``missed_m2``: m² by layout index, :func:`_missed_m2` of the flown layout)
    and some of the others leave less, the choice is made among those.

    The time allowed is wider than the search's shortlist (3 %): a heading along edges gets
    a spacing fitted to them (:func:`fitted_spacing`), a little narrower than the swath, so
    it flies a few % more for its even dose. On a small field the wedges that slanted edges
    leave beside the pass ends (half a spacing deep) can add up to 1 % of it at the fastest
    heading and less at another (two 5.7 ha fields: 1.05 % and 1.08 % at the fastest,
    0.87 % and 0.84 % at one 1–2 % slower)."""
    times = [round(_laid_time_s(layout, settings), 6) for layout in layouts]
    quick = [k for k, t in enumerate(times) if t <= min(times) * (1.0 + LAID_TIME_SHARE)]
    if len(quick) == 1:  # nothing to weigh the fastest against: its overlay is not needed
        return quick[0]
    misapplied = {k: _misapplied_m2(layouts[k]) for k in quick}

    def fastest(among: list[int]) -> int:
        limit = min(misapplied[k] for k in among) + DOSE_TIE_SHARE * area_m2
        return min((k for k in among if misapplied[k] <= limit), key=lambda k: times[k])

    best = fastest(quick)
    allowed = MISSED_SHARE * area_m2
    if missed_m2(best) <= allowed:
        return best
    covering = [k for k in quick if k != best and missed_m2(k) <= allowed]
    return fastest(covering) if covering else best


def _missed_m2(layout: _Layout, options: CoverageOptions) -> float:
    """Ground (m²) of the layout's region that its passes leave unsprayed, each with flat
    ends and as wide as :func:`plan_coverage` measures it: its spacing with a spray height
    that follows the spacing (``options.spacing_range_m``, clipped to that range), else
    the swath."""
    passes, region = layout.passes, layout.region
    widths: float | np.ndarray = options.swath_m
    if options.even_spacing and options.spacing_range_m is not None:
        widths = np.clip(layout.spacing, *options.spacing_range_m)
    return float(region.area) - sprayed_m2(oriented_rings(region), passes.y, passes.x0, passes.x1,
                                           widths)


def _misapplied_m2(layout: _Layout) -> float:
    """Ground (m²) of the layout's region sprayed twice plus ground missed by its passes,
    each one spacing wide with flat ends."""
    passes, region = layout.passes, layout.region
    inside, union = boxes_areas(oriented_rings(region),
                                strip_boxes(passes.y, passes.x0, passes.x1, layout.spacing_m))
    strips_m2 = float(np.sum(np.abs(passes.x1 - passes.x0))) * layout.spacing_m
    twice = strips_m2 - union
    missed = float(region.area) - inside
    return round(twice + missed, 3)


def _laid_time_s(layout: _Layout, settings: SearchSettings) -> float:
    """Work time (s) of laid passes, estimated as the heading search estimates it (the
    passes' length, their count and their cells) but with every pass counted, the ones
    added under edges too."""
    passes = layout.passes
    spray_m = np.array([float(np.sum(passes.x1 - passes.x0))])
    return float(search_estimate_s(
        spray_m, np.array([float(len(passes))]), np.array([2.0 * len(layout.cells)]),
        swath_m=settings.swath_m, cell_jump_m=settings.cell_jump_m,
        speed_m_s=settings.speed_m_s, turn_time_s=settings.turn_time_s,
        transit_speed_m_s=settings.transit_speed_m_s,
    )[0])
