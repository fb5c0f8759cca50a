"""The day's pictures: a Gantt chart (one row per drone and per pack) and a map of the
regions and stations of each field. matplotlib is imported only inside the drawing
functions, so planning a day does not load it."""

from __future__ import annotations

import io

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
                          "green, flight blue"), fontsize=8, fontfamily=font_families())
    fig.tight_layout()
    return _png(fig)


def map_png(day: Day) -> bytes:
    """Map of each field: its regions (one colour per drone) and each drone's pad."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from agridrone.preview import polygon_patch
    from agridrone.text_fonts import drawable, font_families, isolate

    n = len(day.fields)
    fig = Figure(figsize=(5.5 * n, 5.5), dpi=100)
    FigureCanvasAgg(fig)
    for k, fd in enumerate(day.fields):
        ax = fig.add_subplot(1, n, k + 1)
        for plan in fd.regions:
            colour = FIELD_COLOURS[(plan.drone - 1) % len(FIELD_COLOURS)]
            ax.add_patch(polygon_patch(plan.polygon, facecolor=colour, alpha=0.35,
                                       edgecolor=colour, linewidth=1.0))
            ax.plot(*plan.pad_xy, marker="^", color=colour, markeredgecolor="black",
                    markersize=10, label=f"drone {plan.drone} (sysid {plan.sysid}) pad")
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
