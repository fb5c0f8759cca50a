"""preview.png: a picture of the plan for the operator (matplotlib, drawn in local metres)."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon

from agridrone.field import Field
from agridrone.map_layers import labelled_passes, map_layers
from agridrone.png_labels import Label, labelled_png
from agridrone.text_fonts import drawable, font_families

MAX_ARROWS = 80
MAX_LEGEND_SORTIES = 12  # sorties named one by one in the legend; then "…" and the last
SCALE_STEPS_M = (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)


def polygon_patch(geometry: MultiPolygon, **style) -> PathPatch:
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for polygon in geometry.geoms:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:, :2]
            ring_codes = np.full(len(coords), MplPath.LINETO)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            vertices.append(coords)
            codes.append(ring_codes)
    return PathPatch(MplPath(np.vstack(vertices), np.concatenate(codes)), **style)


def render_preview(field: Field, plan: dict, title: str) -> bytes:
    """PNG bytes of a plan.json dict over its ``field``: field, no-spray zones, each sortie's
    spray passes in its own colour (legend: sortie number, liquid, airborne time), pass
    numbers, route direction arrows, transits, breakpoints (the sortie that ends there and the
    one that resumes) and the station, with a scale bar. Axes are metres east and north of
    the field's centre; the layers are :func:`agridrone.map_layers.map_layers`'."""
    layers = map_layers(plan)
    fig = Figure(figsize=(11, 8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.add_patch(polygon_patch(field.outer_local, facecolor="#dcefd2", edgecolor="#3a6b1f",
                                linewidth=1.5, label="field"))
    if not field.no_spray_local.is_empty:
        ax.add_patch(polygon_patch(field.no_spray_local, facecolor="#f4c7c3", edgecolor="#b3261e",
                                    hatch="///", linewidth=1.0, label="no-spray zone"))

    def local(coords: list[list[float]]) -> np.ndarray:
        return field.frame.to_local(np.asarray(coords, dtype=np.float64))

    transit = [local(c) for s in layers.sorties for c in s.transits]
    # autolim=False and one update_datalim below: matplotlib 3.11 autoscales (invalidating
    # every transform of the axes) on each add_collection, 0.5 s for the 63 sorties of 111 ha
    ax.add_collection(LineCollection(transit, colors="#757575", linewidths=0.8, linestyles="--",
                                     label="transit (pump off)"), autolim=False)
    arrows: list[tuple[list[np.ndarray], str, int]] = []
    for number, sortie in enumerate(layers.sorties):
        spray = [local(p.coords) for p in sortie.passes]
        shown = number < MAX_LEGEND_SORTIES or number == len(layers.sorties) - 1
        label = sortie.label if shown else None
        if number == MAX_LEGEND_SORTIES and len(layers.sorties) > MAX_LEGEND_SORTIES + 1:
            label = f"… sorties {number + 1}-{len(layers.sorties) - 1} in turn"
        ax.add_collection(LineCollection(spray, colors=sortie.colour, linewidths=1.6, label=label),
                          autolim=False)
        arrows.append((spray, sortie.colour, max(1, MAX_ARROWS // len(layers.sorties))))
    drawn = [xy for group in (transit, *(legs for legs, _, _ in arrows)) for xy in group]
    if drawn:
        ax.update_datalim(np.vstack(drawn))
    _direction_arrows(ax, arrows)
    labels = [_pass_label(local(spray.coords), spray.number, colour)
              for spray, colour in labelled_passes(layers)]
    if layers.breakpoints:
        bxy = local([bp.point for bp in layers.breakpoints])
        ax.plot(bxy[:, 0], bxy[:, 1], marker="X", markersize=10, color="white", markeredgecolor="black",
                linestyle="none", label="breakpoint (sortie ends / next resumes)")
        labels += [Label(tuple(xy), f"{bp.label} (pass {bp.pass_number})", offset_pt=(6, -10),
                         size_pt=7, box=("white", 1.0, "black"), pad=0.2)
                   for bp, xy in zip(layers.breakpoints, bxy, strict=True)]
    sx, sy = local([layers.station])[0]
    ax.plot(sx, sy, marker="*", markersize=16, color="#ff8f00",
            markeredgecolor="black", linestyle="none", label="station (takeoff, refill)")
    labels.append(Label((sx, sy), "station", offset_pt=(8, 6), size_pt=8))
    labels.append(_scale_bar(ax, field))
    return finish_map(fig, ax, title, right=0.74, labels=labels)


def finish_map(fig: Figure, ax, title: str, right: float, labels: list[Label] | None = None) -> bytes:
    """Equal axes in metres east and north, title, legend to the right of the plot
    (``right``: the plot's right edge as a fraction of the figure), ``labels`` drawn over it
    (:mod:`agridrone.png_labels`), and the PNG bytes (no metadata, so the same figure gives
    the same bytes)."""
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("metres east")
    ax.set_ylabel("metres north")
    shown = drawable(title)
    ax.set_title(shown, fontsize=10, fontfamily=font_families(shown))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.08, right=right, bottom=0.08, top=0.94)
    return labelled_png(fig, ax, labels or [])


def _pass_label(xy: np.ndarray, number: int, colour: str) -> Label:
    """Pass ``number`` in its sortie's ``colour`` just above the middle of its line ``xy`` (m);
    left out where it would hide under (or hide) a breakpoint or another pass number."""
    middle = (xy[0] + xy[-1]) / 2
    return Label((float(middle[0]), float(middle[1])), str(number), offset_pt=(0, 3), size_pt=6,
                 colour=colour, ha="center", va="bottom", box=("white", 0.7, None), optional=True)


def _direction_arrows(ax, groups: list[tuple[list[np.ndarray], str, int]]) -> None:
    """Arrows showing the flying direction, one quiver for all: per (legs, colour, most) group
    an arrow of its colour at the middle of (at most about ``most`` of) its legs."""
    starts, directions, colours = [], [], []
    for legs, colour, most in groups:
        for xy in legs[::max(1, len(legs) // most)]:
            i = (len(xy) - 1) // 2
            a, b = xy[i], xy[i + 1]
            starts.append((a + b) / 2)
            directions.append((b - a) / max(float(np.hypot(*(b - a))), 1e-9))
            colours.append(colour)
    if not starts:
        return
    starts_xy, unit = np.array(starts), np.array(directions)
    ax.quiver(starts_xy[:, 0], starts_xy[:, 1], unit[:, 0], unit[:, 1], color=colours,
              angles="xy", scale_units="inches", scale=10, width=0.0025, headwidth=4, pivot="mid")


def _scale_bar(ax, field: Field) -> Label:
    """Draw a scale bar below the field; its length label."""
    x_min, y_min, x_max, y_max = field.outer_local.bounds
    target = (x_max - x_min) / 5
    length = max([s for s in SCALE_STEPS_M if s <= max(target, SCALE_STEPS_M[0])])
    x0, y0 = x_min, y_min - 0.06 * (y_max - y_min)
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt")
    return Label((x0 + length / 2, y0), f"{length} m", offset_pt=(0, 4), size_pt=8,
                 ha="center", va="bottom")
