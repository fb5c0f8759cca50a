"""preview.png: a picture of the plan for the operator (Pillow, :mod:`agridrone.raster_canvas`,
drawn in local metres)."""

from __future__ import annotations

import numpy as np

from agridrone.field import Field
from agridrone.map_layers import labelled_passes, map_layers
from agridrone.png_labels import Label, draw_labels
from agridrone.raster_canvas import Canvas, LegendEntry

MAX_ARROWS = 80
MAX_LEGEND_SORTIES = 12  # sorties named one by one in the legend; then "…" and the last
SCALE_STEPS_M = (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
MARGIN = 0.05  # blank around the drawing, a fraction of its extent each side (matplotlib's)
FIELD_STYLE = {"fill": "#dcefd2", "edge": "#3a6b1f"}
NO_SPRAY_STYLE = {"fill": "#f4c7c3", "edge": "#b3261e"}
TRANSIT_COLOUR = "#757575"
STATION_COLOUR = "#ff8f00"


def map_canvas(field: Field, extra_xy: list[np.ndarray], right: float) -> Canvas:
    """A canvas over the field's outline and ``extra_xy`` points (m) with :data:`MARGIN` and
    room below for the scale bar; plot box right edge at ``right`` (fraction of the width)."""
    x_min, y_min, x_max, y_max = field.outer_local.bounds
    points = np.vstack([np.array([[x_min, y_min], [x_max, y_max]]), *extra_xy])
    lo, hi = points.min(axis=0), points.max(axis=0)
    lo[1] = min(lo[1], y_min - 0.06 * (y_max - y_min))  # the scale bar
    pad = (hi - lo) * MARGIN
    return Canvas((lo[0] - pad[0], lo[1] - pad[1], hi[0] + pad[0], hi[1] + pad[1]),
                  plot=(0.08, right, 0.08, 0.94))


def field_layers(canvas: Canvas, field: Field, style: dict[str, str]) -> None:
    """The field (filled, outlined) and its no-spray zones (tinted, hatched) with legend rows."""
    canvas.polygons(field.outer_local, fill=style["fill"], edge=style["edge"], width_px=2)
    canvas.legend.append(LegendEntry("field", "patch", fill=style["fill"], edge=style["edge"]))
    if not field.no_spray_local.is_empty:
        canvas.polygons(field.no_spray_local, fill=NO_SPRAY_STYLE["fill"], edge=NO_SPRAY_STYLE["edge"],
                        hatch=NO_SPRAY_STYLE["edge"])
        canvas.legend.append(LegendEntry("no-spray zone", "patch", fill=NO_SPRAY_STYLE["fill"],
                                         edge=NO_SPRAY_STYLE["edge"], hatch=True))


def render_preview(field: Field, plan: dict, title: str) -> bytes:
    """preview.png's bytes: :func:`draw_preview` as PNG."""
    return draw_preview(field, plan, title).png()


def draw_preview(field: Field, plan: dict, title: str) -> Canvas:
    """The picture of a plan.json dict over its ``field``: field, no-spray zones, each sortie's
    spray passes in its own colour (legend: sortie number, liquid, airborne time), pass
    numbers, route direction arrows, transits, breakpoints (the sortie that ends there and the
    one that resumes) and the station, with a scale bar. Axes are metres east and north of
    the field's centre; the layers are :func:`agridrone.map_layers.map_layers`'."""
    layers = map_layers(plan)

    def local(coords: list[list[float]]) -> np.ndarray:
        return field.frame.to_local(np.asarray(coords, dtype=np.float64))

    transit_coords = [c for s in layers.sorties for c in s.transits]
    pass_coords = [p.coords for sortie in layers.sorties for p in sortie.passes]
    converted = field.frame.to_local_each([*transit_coords, *pass_coords])
    transit = converted[:len(transit_coords)]
    pass_xy = {id(coords): xy for coords, xy in zip(pass_coords, converted[len(transit_coords):],
                                                    strict=True)}
    sorties = [[pass_xy[id(p.coords)] for p in sortie.passes] for sortie in layers.sorties]
    station = local([layers.station])
    canvas = map_canvas(field, [*transit, *(xy for legs in sorties for xy in legs), station], 0.74)
    field_layers(canvas, field, FIELD_STYLE)
    canvas.lines(transit, TRANSIT_COLOUR, width_px=1, dashed=True)
    canvas.legend.append(LegendEntry("transit (pump off)", "line", colour=TRANSIT_COLOUR,
                                     width_px=1, dashed=True))
    arrows: list[tuple[list[np.ndarray], str, int]] = []
    for number, (sortie, spray) in enumerate(zip(layers.sorties, sorties, strict=True)):
        canvas.lines(spray, sortie.colour, width_px=2)
        shown = number < MAX_LEGEND_SORTIES or number == len(layers.sorties) - 1
        if number == MAX_LEGEND_SORTIES and len(layers.sorties) > MAX_LEGEND_SORTIES + 1:
            canvas.legend.append(LegendEntry(f"… sorties {number + 1}-{len(layers.sorties) - 1} in turn",
                                             "line", colour=sortie.colour))
        elif shown:
            canvas.legend.append(LegendEntry(sortie.label, "line", colour=sortie.colour))
        arrows.append((spray, sortie.colour, max(1, MAX_ARROWS // len(layers.sorties))))
    _direction_arrows(canvas, arrows)
    labels = [_pass_label(pass_xy[id(spray.coords)], spray.number, colour)
              for spray, colour in labelled_passes(layers)]
    if layers.breakpoints:
        bxy = local([bp.point for bp in layers.breakpoints])
        canvas.markers(bxy, "x", "white", size_pt=10)
        canvas.legend.append(LegendEntry("breakpoint (sortie ends / next resumes)", "marker",
                                         colour="white", marker="x"))
        labels += [Label(tuple(xy), f"{bp.label} (pass {bp.pass_number})", offset_pt=(6, -10),
                         size_pt=7, box=("white", 1.0, "black"), pad=0.2)
                   for bp, xy in zip(layers.breakpoints, bxy, strict=True)]
    canvas.markers(station, "star", STATION_COLOUR, size_pt=16)
    canvas.legend.append(LegendEntry("station (takeoff, refill)", "marker", colour=STATION_COLOUR))
    labels.append(Label((float(station[0, 0]), float(station[0, 1])), "station", offset_pt=(8, 6),
                        size_pt=8))
    labels.append(_scale_bar(canvas, field))
    return finish_map(canvas, title, labels)


def finish_map(canvas: Canvas, title: str, labels: list[Label] | None = None) -> Canvas:
    """``canvas`` with ``labels`` (:mod:`agridrone.png_labels`), legend, frame with metre
    ticks and title drawn, in that order (the legend's white hides labels past the plot)."""
    draw_labels(canvas, labels or [])
    canvas.draw_legend()
    canvas.frame()
    canvas.title(title)
    return canvas


def _pass_label(xy: np.ndarray, number: int, colour: str) -> Label:
    """Pass ``number`` in its sortie's ``colour`` just above the middle of its line ``xy`` (m);
    left out where it would hide under (or hide) a breakpoint or another pass number."""
    middle = (xy[0] + xy[-1]) / 2
    return Label((float(middle[0]), float(middle[1])), str(number), offset_pt=(0, 3), size_pt=6,
                 colour=colour, ha="center", va="bottom", box=("white", 0.7, None), optional=True)


def _direction_arrows(canvas: Canvas, groups: list[tuple[list[np.ndarray], str, int]]) -> None:
    """Arrows showing the flying direction: per (legs, colour, most) group an arrow of its
    colour at the middle of (at most about ``most`` of) its legs."""
    starts, directions, colours = [], [], []
    for legs, colour, most in groups:
        for xy in legs[::max(1, len(legs) // most)]:
            i = (len(xy) - 1) // 2
            a, b = xy[i], xy[i + 1]
            starts.append((a + b) / 2)
            directions.append((b - a) / max(float(np.hypot(*(b - a))), 1e-9))
            colours.append(colour)
    if starts:
        canvas.arrows(np.array(starts), np.array(directions), colours)


def _scale_bar(canvas: Canvas, field: Field) -> Label:
    """Draw a scale bar below the field; its length label."""
    x_min, y_min, x_max, y_max = field.outer_local.bounds
    target = (x_max - x_min) / 5
    length = max([s for s in SCALE_STEPS_M if s <= max(target, SCALE_STEPS_M[0])])
    x0, y0 = x_min, y_min - 0.06 * (y_max - y_min)
    canvas.lines([np.array([[x0, y0], [x0 + length, y0]])], "black", width_px=4)
    return Label((x0 + length / 2, y0), f"{length} m", offset_pt=(0, 4), size_pt=8,
                 ha="center", va="bottom")
