"""The day's pictures: a Gantt chart (one row per drone and per pack) and a map of the
regions and stations of each field. matplotlib is imported only inside the drawing
functions, so planning a day does not load it."""

from __future__ import annotations

import io

import numpy as np

from agridrone.ops.day import Day

FIELD_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def gantt_png(day: Day) -> bytes:
    """Gantt chart: per drone its ground (grey) and airborne (field colour) time, per pack
    its charges (green) and flights (blue); hours of the day along x."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from agridrone.text_fonts import drawable, font_families, isolate

    drones = sorted({p.drone for fd in day.fields for p in fd.regions})
    rows = [f"drone {d}" for d in drones] + [f"pack {p.id}" for p in day.packs]
    fig = Figure(figsize=(11, 1.2 + 0.35 * len(rows)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    h = 3600.0
    for k, fd in enumerate(day.fields):
        colour = FIELD_COLOURS[k % len(FIELD_COLOURS)]
        for f in fd.result.flights:
            y = drones.index(f.drone)
            ax.broken_barh([(f.ground_s / h, (f.takeoff_s - f.ground_s) / h)], (y - 0.35, 0.7),
                           facecolors="#bbbbbb")
            ax.broken_barh([(f.takeoff_s / h, (f.land_s - f.takeoff_s) / h)], (y - 0.35, 0.7),
                           facecolors=colour)
        for m in fd.result.drives:
            ax.broken_barh([(m.start_s / h, (m.end_s - m.start_s) / h)], (m.drone - 1 - 0.35, 0.7),
                           facecolors="#d62728", hatch="//")
    for j, pack in enumerate(day.packs):
        y = len(drones) + j
        for i in pack.history:
            colour = "#2ca02c" if i.kind == "charge" else "#1f4e9c"
            ax.broken_barh([(i.start_s / h, (i.end_s - i.start_s) / h)], (y - 0.3, 0.6),
                           facecolors=colour)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("hour of the day")
    ax.grid(axis="x", alpha=0.3)
    names = ", ".join(f"{isolate(fd.field.name)} ({FIELD_COLOURS[k % 6]})" for k, fd in enumerate(day.fields))
    ax.set_title(drawable(f"drones: ground grey, airborne by field: {names}; packs: charge "
                          "green, flight blue; station driving red"), fontsize=8, fontfamily=font_families())
    fig.tight_layout()
    return _png(fig)


def map_png(day: Day) -> bytes:
    """Map of each field: its regions (one colour per drone, a strip per stop when the
    station moves), each drone's pads and the station's drives between them (arrow, metres
    and minutes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from agridrone.text_fonts import drawable, font_families, isolate

    n = len(day.fields)
    fig = Figure(figsize=(5.5 * n, 5.5), dpi=100)
    FigureCanvasAgg(fig)
    for k, fd in enumerate(day.fields):
        ax = fig.add_subplot(1, n, k + 1)
        pads = {(p.drone, p.stop): p.pad_xy for p in fd.regions}
        for plan in fd.regions:
            colour = FIELD_COLOURS[(plan.drone - 1) % len(FIELD_COLOURS)]
            ax.add_patch(polygon_patch(plan.polygon, facecolor=colour,
                                       alpha=0.2 + 0.25 * (plan.stop % 2),
                                       edgecolor=colour, linewidth=1.0))
            label = f"drone {plan.drone} (sysid {plan.sysid}) pad" if plan.stop == 1 else None
            ax.plot(*plan.pad_xy, marker="^", color=colour, markeredgecolor="black",
                    markersize=10, label=label)
            if plan.stops > 1:
                ax.annotate(str(plan.stop), plan.pad_xy, xytext=(6, 6),
                            textcoords="offset points", fontsize=8)
        for m in fd.result.drives:
            a, b = pads[(m.drone, m.stop - 1)], pads[(m.drone, m.stop)]
            ax.annotate("", b, xytext=a, arrowprops={"arrowstyle": "->", "color": "#d62728"})
            drive = next(p.drive_m for p in fd.regions if (p.drone, p.stop) == (m.drone, m.stop))
            ax.annotate(f"{drive:.0f} m, {(m.end_s - m.start_s) / 60:.0f} min",
                        0.5 * (a + b), fontsize=7, color="#d62728")
        if not fd.field.no_spray_local.is_empty:
            ax.add_patch(polygon_patch(fd.field.no_spray_local, facecolor="#444444", alpha=0.6,
                                       edgecolor="none"))
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_title(drawable(f"{isolate(fd.field.name)}: {fd.field.sprayable_m2 / 1e4:.1f} ha"), fontsize=9,
                     fontfamily=font_families())
        ax.set_xlabel("m east")
        ax.set_ylabel("m north")
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _png(fig)


def polygon_patch(geometry, **style):
    """A matplotlib PathPatch of a (Multi)Polygon with its holes, ``style`` its keywords."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:, :2]
            ring_codes = np.full(len(coords), MplPath.LINETO)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            vertices.append(coords)
            codes.append(ring_codes)
    return PathPatch(MplPath(np.vstack(vertices), np.concatenate(codes)), **style)
