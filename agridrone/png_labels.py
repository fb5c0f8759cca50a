"""Text labels of the pictures (pass numbers, breakpoints, the station, the scale bar) drawn
with Pillow onto matplotlib's finished Agg canvas, and the PNG bytes.

matplotlib 3.11 lays out every text artist through FreeType and libraqm: 8-15 ms a label on
the shared 2-core machine, so the 60 pass numbers and 62 breakpoint labels of the 111 ha
bench field cost about a second. Pillow draws the same short Latin labels with the same
font (matplotlib's own DejaVu Sans) in well under a millisecond each. Titles, axes, legends
and colour bars stay with matplotlib, whose font fallback draws field names in any script.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib import get_data_path
from matplotlib.colors import to_rgba
from PIL import Image, ImageDraw, ImageFont

FONT_FILE = Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
POINTS_PER_INCH = 72.0
# zlib level of the PNGs: 3 takes half the time of Pillow's default 6 (111 ha: preview.png
# 68 -> 37 ms and 1 % smaller, dose.png 37 -> 21 ms and 22 % larger)
PNG_LEVEL = 3
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


@lru_cache(maxsize=16)
def _font(size_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size_px, layout_engine=ImageFont.Layout.BASIC)


def _rgba(colour: str, alpha: float = 1.0) -> tuple[int, int, int, int]:
    r, g, b, a = to_rgba(colour, alpha)
    return (round(r * 255), round(g * 255), round(b * 255), round(a * 255))


def labelled_png(fig, ax, labels: list[Label]) -> bytes:
    """Draw ``fig`` (a Figure on a FigureCanvasAgg), then ``labels`` over it at their data
    points of ``ax`` (those outside the axes left out, as matplotlib leaves out annotations),
    and return the PNG bytes (RGB, no metadata, so the same figure gives the same bytes).
    An ``optional`` label whose box would overlap a label already placed (the others first,
    then the optional ones in order) is left out, so that none is drawn half hidden."""
    fig.canvas.draw()
    image = Image.fromarray(np.array(fig.canvas.buffer_rgba()))  # RGBA
    height = image.height
    scale = fig.dpi / POINTS_PER_INCH  # pixels per point
    draw = ImageDraw.Draw(image, "RGBA")  # blends the boxes' alpha over the picture
    x0, y0, x1, y1 = ax.bbox.extents  # the axes in display pixels, origin bottom left
    points = ax.transData.transform(np.array([label.xy for label in labels], dtype=float).reshape(-1, 2))
    placed: list[tuple[Label, tuple[float, float], tuple[float, float, float, float]]] = []
    for label, (px, py) in sorted(zip(labels, points, strict=True), key=lambda lp: lp[0].optional):
        if not (x0 <= px <= x1 and y0 <= py <= y1):
            continue
        at = (px + label.offset_pt[0] * scale, height - (py + label.offset_pt[1] * scale))
        pad = label.pad * label.size_pt * scale if label.box is not None else 0.0
        left, top, right, bottom = draw.textbbox(at, label.text, font=_font(label.size_pt * scale),
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
        draw.text(at, label.text, font=_font(label.size_pt * scale),
                  anchor=ANCHORS[(label.ha, label.va)], fill=_rgba(label.colour))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", compress_level=PNG_LEVEL)
    return buffer.getvalue()


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether boxes (left, top, right, bottom) share more than an edge."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
