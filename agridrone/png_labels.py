"""Text labels of the pictures (pass numbers, breakpoints, the station, the scale bar) drawn
with Pillow at world points of a :class:`agridrone.raster_canvas.Canvas`, optional ones left
out where they would overlap another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import ImageColor, ImageDraw

from agridrone.raster_canvas import PX_PER_PT, base_font

if TYPE_CHECKING:
    from agridrone.raster_canvas import Canvas

# Pillow anchors: horizontal l/m (left, middle), vertical s/d (baseline, bottom of descenders)
ANCHORS = {("left", "baseline"): "ls", ("center", "bottom"): "md", ("center", "baseline"): "ms",
           ("left", "bottom"): "ld"}


@dataclass(frozen=True)
class Label:
    """One label: ``text`` at data point ``xy`` (the axes' metres) moved by ``offset_pt``
    (points right and up), ``size_pt`` points high, aligned ``ha`` (left, center) and ``va``
    (baseline, bottom); ``box``: None, or (face colour, face alpha 0-1, edge colour or None)
    of a box ``pad`` × the font size around it; ``optional``: left out where it would
    overlap another label."""

    xy: tuple[float, float]
    text: str
    offset_pt: tuple[float, float] = (0.0, 0.0)
    size_pt: float = 8.0
    colour: str = "black"
    ha: str = "left"
    va: str = "baseline"
    box: tuple[str, float, str | None] | None = None
    pad: float = 0.1
    optional: bool = False


def _rgba(colour: str, alpha: float = 1.0) -> tuple[int, int, int, int]:
    r, g, b = ImageColor.getrgb(colour)[:3]
    return (r, g, b, round(alpha * 255))


def draw_labels(canvas: Canvas, labels: list[Label]) -> None:
    """Draw ``labels`` at their world points on ``canvas`` (those outside its plot box left
    out, as matplotlib leaves out annotations). An ``optional`` label whose box would overlap
    a label already placed (the others first, then the optional ones in order) is left out,
    so that none is drawn half hidden."""
    scale = PX_PER_PT  # pixels per point
    draw = ImageDraw.Draw(canvas.image, "RGBA")  # blends the boxes' alpha over the picture
    x0, y0, x1, y1 = canvas.box  # pixels, rows downward
    points = canvas.px(np.array([label.xy for label in labels], dtype=float).reshape(-1, 2))
    placed: list[tuple[Label, tuple[float, float], tuple[float, float, float, float]]] = []
    for label, (px, py) in sorted(zip(labels, points, strict=True), key=lambda lp: lp[0].optional):
        if not (x0 <= px <= x1 and y0 <= py <= y1):
            continue
        at = (px + label.offset_pt[0] * scale, py - label.offset_pt[1] * scale)
        pad = label.pad * label.size_pt * scale if label.box is not None else 0.0
        left, top, right, bottom = draw.textbbox(at, label.text, font=base_font(label.size_pt),
                                                 anchor=ANCHORS[(label.ha, label.va)])
        box = (left - pad, top - pad, right + pad, bottom + pad)
        if label.optional and any(_overlap(box, other) for _, _, other in placed):
            continue
        placed.append((label, at, box))
    for label, at, box in sorted(placed, key=lambda p: not p[0].optional):  # the others on top
        if label.box is not None:
            face, alpha, edge = label.box
            draw.rounded_rectangle(box, radius=max(1.0, label.pad * label.size_pt * scale),
                                   fill=_rgba(face, alpha),
                                   outline=None if edge is None else _rgba(edge), width=1)
        draw.text(at, label.text, font=base_font(label.size_pt),
                  anchor=ANCHORS[(label.ha, label.va)], fill=_rgba(label.colour))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether boxes (left, top, right, bottom) share more than an edge."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
