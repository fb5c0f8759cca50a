"""A small map canvas drawn with Pillow + numpy: the plan pictures (preview.png, dose.png, the
as-applied map) without matplotlib.

World coordinates are metres east and north; :class:`Canvas` maps them to pixels with equal
aspect inside a plot box (the box shrinks to the data's shape, centred, as matplotlib's
``set_aspect("equal")`` does), draws polygons (filled, hatched, outlined), lines (solid or
dashed), markers, direction arrows and a frame with metre ticks, a legend right of the plot, a
horizontal colour bar and a title in any script (:mod:`agridrone.text_fonts`), and returns PNG
bytes with no metadata (same drawing, same bytes). Nothing is anti-aliased: drawing stays a
few milliseconds and the bytes depend on nothing but the inputs.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont
from shapely.geometry import MultiPolygon

from agridrone.text_fonts import BASE_FONT_FILE, drawable, font_runs

DPI = 100.0
POINTS_PER_INCH = 72.0
PX_PER_PT = DPI / POINTS_PER_INCH
# zlib level of the PNGs, whose rows are written unfiltered: on the batch bench's 2-20 ha
# fields 7 ms and 74 KiB a picture, where Pillow's encoder (its adaptive row filters, also at
# level 3) took 27 ms for 81 KiB; level 6 would take 14 ms for 56 KiB
PNG_LEVEL = 3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TICK_STEPS = (1.0, 2.0, 2.5, 5.0)
HATCH_SPACING_PX = 8
# matplotlib's "RdBu" (ColorBrewer's 11-class RdBu) reversed: blue (under) - white - red (over)
RDBU_R = np.array([
    (0.0196078431372549, 0.18823529411764706, 0.38039215686274508),
    (0.12941176470588237, 0.40000000000000002, 0.67450980392156867),
    (0.2627450980392157, 0.57647058823529407, 0.76470588235294112),
    (0.5725490196078431, 0.77254901960784317, 0.87058823529411766),
    (0.81960784313725488, 0.89803921568627454, 0.94117647058823528),
    (0.96862745098039216, 0.96862745098039216, 0.96862745098039216),
    (0.99215686274509807, 0.85882352941176465, 0.7803921568627451),
    (0.95686274509803926, 0.6470588235294118, 0.50980392156862742),
    (0.83921568627450982, 0.37647058823529411, 0.30196078431372547),
    (0.69803921568627447, 0.094117647058823528, 0.16862745098039217),
    (0.40392156862745099, 0.0, 0.12156862745098039),
])


@lru_cache(maxsize=1)
def rdbu_r_table() -> np.ndarray:
    """RdBu_r as matplotlib samples it: (256, 3) uint8, linear between the 11 colours."""
    x = np.linspace(0.0, 1.0, len(RDBU_R))
    t = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(t, x, RDBU_R[:, c]) for c in range(3)], axis=1)
    return np.round(table * 255).astype(np.uint8)


def colour_of(scaled: np.ndarray) -> np.ndarray:
    """RGB uint8 of values scaled to 0-1 (clipped) on :func:`rdbu_r_table`."""
    index = np.clip(np.asarray(scaled, dtype=np.float32) * np.float32(256.0), 0.0, 255.0)
    return np.take(rdbu_r_table(), index.astype(np.uint8), axis=0)


def rgb(colour: str) -> tuple[int, int, int]:
    """(r, g, b) 0-255 of a colour name or ``#rrggbb``."""
    return ImageColor.getrgb(colour)[:3]


@lru_cache(maxsize=32)
def font(path: str, size_pt: float, complex_layout: bool = False) -> ImageFont.FreeTypeFont:
    """The font file at ``path`` ``size_pt`` points high (at :data:`DPI`); raqm layout for
    right-to-left and joined scripts when ``complex_layout``."""
    engine = ImageFont.Layout.RAQM if complex_layout else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size_pt * PX_PER_PT, layout_engine=engine)


def base_font(size_pt: float) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, the pictures' usual font, ``size_pt`` points high."""
    return font(str(BASE_FONT_FILE), size_pt)


def nice_ticks(lo: float, hi: float, most: int = 9) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10^k apart) within [lo, hi], at most ``most``."""
    span = max(hi - lo, 1e-9)
    for power in range(math.floor(math.log10(span / most)) - 1, 20):
        for step in TICK_STEPS:
            size = step * 10.0 ** power
            if span / size <= most - 1:
                first = math.ceil(lo / size - 1e-9)
                return [k * size for k in range(first, math.floor(hi / size + 1e-9) + 1)]
    return [lo, hi]


def tick_text(value: float) -> str:
    """A tick's label: ``-100``, ``2.5``, ``0`` (no ``-0``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "\u2212")


@dataclass
class LegendEntry:
    """One legend row: ``kind`` "patch" (``fill``, ``edge``, ``hatch``), "line" (``colour``,
    ``width_px``, ``dashed``) or "marker" (``marker`` "star"/"x", ``colour``, ``edge``)."""

    text: str
    kind: str
    colour: str = "black"
    fill: str | None = None
    edge: str | None = None
    hatch: bool = False
    width_px: int = 2
    dashed: bool = False
    marker: str = "star"


@dataclass
class Canvas:
    """A picture ``size_px`` (width, height) with a plot box (``plot`` = left, right, bottom,
    top as fractions of the picture, as matplotlib's subplots_adjust) showing world
    ``bounds`` (x_min, y_min, x_max, y_max, metres) with equal aspect."""

    bounds: tuple[float, float, float, float]
    size_px: tuple[int, int] = (1100, 800)
    plot: tuple[float, float, float, float] = (0.08, 0.74, 0.08, 0.94)
    legend: list[LegendEntry] = dc_field(default_factory=list)

    def __post_init__(self) -> None:
        width, height = self.size_px
        self.image = Image.new("RGB", self.size_px, "white")
        self.draw = ImageDraw.Draw(self.image)
        x_min, y_min, x_max, y_max = self.bounds
        dx, dy = max(x_max - x_min, 1e-6), max(y_max - y_min, 1e-6)
        left, right = self.plot[0] * width, self.plot[1] * width
        top, bottom = (1.0 - self.plot[3]) * height, (1.0 - self.plot[2]) * height
        self.scale = min((right - left) / dx, (bottom - top) / dy)  # pixels per metre
        cx, cy = (left + right) / 2, (top + bottom) / 2
        self.box = (round(cx - dx * self.scale / 2), round(cy - dy * self.scale / 2),
                    round(cx + dx * self.scale / 2), round(cy + dy * self.scale / 2))
        self.origin = (x_min, y_max)

    def px(self, xy: np.ndarray) -> np.ndarray:
        """World points (n, 2) metres -> pixel (column, row) floats."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        return np.column_stack([self.box[0] + (xy[:, 0] - self.origin[0]) * self.scale,
                                self.box[1] + (self.origin[1] - xy[:, 1]) * self.scale])

    def _points(self, xy: np.ndarray) -> list[tuple[float, float]]:
        return [tuple(p) for p in np.round(self.px(xy), 1).tolist()]

    def polygons(self, geometry: MultiPolygon, fill: str | None = None, edge: str | None = None,
                 width_px: int = 1, hatch: str | None = None) -> None:
        """Fill (holes left open), hatch (diagonal lines of colour ``hatch``) and outline."""
        rings = [(np.asarray(r.coords)[:, :2], i > 0) for p in geometry.geoms
                 for i, r in enumerate([p.exterior, *p.interiors])]
        if fill is not None or hatch is not None:
            mask = Image.new("L", self.size_px, 0)
            mask_draw = ImageDraw.Draw(mask)
            for coords, hole in sorted(rings, key=lambda rh: rh[1]):  # exteriors, then holes
                mask_draw.polygon(self._points(coords), fill=0 if hole else 255)
            box = mask.getbbox()  # pasting only there: the same pixels in a fraction of the time
            if box is not None and fill is not None:
                self.image.paste(rgb(fill), box, mask=mask.crop(box))
            if box is not None and hatch is not None:
                lines = Image.new("L", self.size_px, 0)
                lines_draw = ImageDraw.Draw(lines)
                w, h = self.size_px
                for k in range(-h, w, HATCH_SPACING_PX):
                    lines_draw.line([(k, h), (k + h, 0)], fill=255, width=1)
                hatched = np.minimum(np.asarray(mask.crop(box)), np.asarray(lines.crop(box)))
                self.image.paste(rgb(hatch), box, mask=Image.fromarray(hatched))
        if edge is not None:
            for coords, _ in rings:
                self.draw.line(self._points(coords), fill=rgb(edge), width=width_px)

    def lines(self, legs: list[np.ndarray], colour: str, width_px: int = 2,
              dashed: bool = False) -> None:
        """Polylines (each (n, 2) metres); ``dashed``: 5 px on, 3 px off."""
        fill = rgb(colour)
        for xy in legs:
            points = self.px(xy)
            if dashed:
                for a, b in _dashes(points, 5.0, 3.0):
                    self.draw.line([tuple(a), tuple(b)], fill=fill, width=width_px)
            else:
                self.draw.line([tuple(p) for p in np.round(points, 1).tolist()], fill=fill,
                               width=width_px)

    def markers(self, xy: np.ndarray, marker: str, colour: str, edge: str = "black",
                size_pt: float = 12.0) -> None:
        """A ``marker`` ("star", "x") of ``size_pt`` points at each world point."""
        for cx, cy in self.px(xy):
            self.draw.polygon(_marker_shape(marker, cx, cy, size_pt * PX_PER_PT / 2),
                              fill=rgb(colour), outline=rgb(edge))

    def arrows(self, starts: np.ndarray, units: np.ndarray, colours: list[str],
               length_px: float = 9.0) -> None:
        """Filled arrow heads centred on world points, pointing along unit vectors (east, north)."""
        for (cx, cy), (ux, uy), colour in zip(self.px(starts), units, colours, strict=True):
            fx, fy = ux * length_px / 2, -uy * length_px / 2  # forward, in pixel rows
            sx, sy = -fy * 0.6, fx * 0.6  # sideways
            self.draw.polygon([(cx + fx, cy + fy), (cx - fx + sx, cy - fy + sy),
                               (cx - fx * 0.4, cy - fy * 0.4), (cx - fx - sx, cy - fy - sy)],
                              fill=rgb(colour))

    def raster(self, scaled: np.ndarray, blank: np.ndarray, x0: float, y0: float,
               cell_m: float) -> None:
        """An (ny, nx) grid of values scaled to 0-1, in :func:`colour_of`'s colours and white
        where ``blank`` (ny, nx) is true, whose row 0 is the south edge at ``y0`` and column 0
        the west edge at ``x0``, cells ``cell_m`` metres, nearest-neighbour onto the canvas.
        The values and the mask are resampled before colouring, so that only the pixels
        shown are coloured (the same pixels as colouring every cell first)."""
        ny, nx = scaled.shape
        (c0, r0), (c1, r1) = self.px(np.array([[x0, y0 + ny * cell_m], [x0 + nx * cell_m, y0]]))
        left, top, right, bottom = round(c0), round(r0), round(c1), round(r1)
        if right <= left or bottom <= top:
            return
        size = (right - left, bottom - top)
        values = Image.fromarray(np.ascontiguousarray(np.asarray(scaled, dtype=np.float32)[::-1]))
        white = Image.fromarray(np.ascontiguousarray(np.asarray(blank, dtype=np.uint8)[::-1]))
        colours = colour_of(np.asarray(values.resize(size, Image.Resampling.NEAREST)))
        colours[np.asarray(white.resize(size, Image.Resampling.NEAREST)) > 0] = 255
        self.image.paste(Image.fromarray(colours, "RGB"), (left, top))

    def frame(self, x_label: str = "metres east", y_label: str = "metres north") -> None:
        """The plot box, ticks every round number of metres with their values, axis labels."""
        left, top, right, bottom = self.box
        x_min, y_min, x_max, y_max = self.bounds
        small, label_font = base_font(10.0), base_font(10.0)
        for value in nice_ticks(x_min, x_max):
            c = round(self.px(np.array([[value, y_min]]))[0, 0])
            self.draw.line([(c, bottom), (c, bottom + 4)], fill=(0, 0, 0))
            self.draw.text((c, bottom + 6), tick_text(value), font=small, fill=(0, 0, 0), anchor="mt")
        for value in nice_ticks(y_min, y_max):
            r = round(self.px(np.array([[x_min, value]]))[0, 1])
            self.draw.line([(left - 4, r), (left, r)], fill=(0, 0, 0))
            self.draw.text((left - 6, r), tick_text(value), font=small, fill=(0, 0, 0), anchor="rm")
        self.draw.rectangle(self.box, outline=(0, 0, 0))
        self.draw.text(((left + right) / 2, bottom + 22), x_label, font=label_font,
                       fill=(0, 0, 0), anchor="mt")
        rotated = Image.new("L", (int(label_font.getlength(y_label)) + 4, 16), 0)
        ImageDraw.Draw(rotated).text((2, 8), y_label, font=label_font, fill=255, anchor="lm")
        rotated = rotated.rotate(90, expand=True)
        self.image.paste((0, 0, 0), (max(0, left - 60), (top + bottom - rotated.height) // 2),
                         mask=rotated)

    def title(self, text: str, size_pt: float = 10.0) -> None:
        """``text`` (lines) centred above the plot box, each character in the first installed
        font having it (``?`` where none has); right-to-left runs shaped by raqm."""
        lines = drawable(text).split("\n")
        line_px = size_pt * PX_PER_PT * 1.25
        centre = (self.box[0] + self.box[2]) / 2
        for k, line in enumerate(lines):
            baseline = self.box[1] - 6 - (len(lines) - 1 - k) * line_px
            runs = [(font(path, size_pt, complex_layout=not part.isascii()), part)
                    for path, part in font_runs(line)]
            width = sum(f.getlength(part) for f, part in runs)
            x = centre - width / 2
            for f, part in runs:
                self.draw.text((x, baseline), part, font=f, fill=(0, 0, 0), anchor="ls")
                x += f.getlength(part)

    def draw_legend(self, x_px: float | None = None) -> None:
        """:attr:`legend`'s rows top-down from the plot box's top, right of it (``x_px``), on
        white from the plot's right edge to the picture's."""
        x = self.box[2] + 12 if x_px is None else x_px
        y = self.box[1] + 4
        # labels running past the plot's right edge stop there, under nothing of the legend
        self.draw.rectangle((self.box[2] + 1, 0, self.size_px[0], self.size_px[1]), fill="white")
        text_font = base_font(8.0)
        for entry in self.legend:
            mid = y + 7
            if entry.kind == "patch":
                self.draw.rectangle((x, mid - 5, x + 22, mid + 5), fill=rgb(entry.fill or "white"),
                                    outline=rgb(entry.edge or "black"))
                if entry.hatch:
                    for k in range(0, 13, 4):
                        self.draw.line([(x + k, mid + 5), (x + k + 10, mid - 5)],
                                       fill=rgb(entry.edge or "black"))
            elif entry.kind == "line":
                segments = _dashes(np.array([[x, mid], [x + 22.0, mid]]), 5.0, 3.0) \
                    if entry.dashed else [((x, mid), (x + 22, mid))]
                for a, b in segments:
                    self.draw.line([tuple(a), tuple(b)], fill=rgb(entry.colour), width=entry.width_px)
            else:
                self.draw.polygon(_marker_shape(entry.marker, x + 11, mid, 7), fill=rgb(entry.colour),
                                  outline=rgb(entry.edge or "black"))
            self.draw.text((x + 30, mid), entry.text, font=text_font, fill=(0, 0, 0), anchor="lm")
            y += 17

    def colour_bar(self, ticks: list[float], top_value: float, label: str) -> None:
        """A horizontal :func:`rdbu_r_table` bar below the plot, 0 to ``top_value`` across the
        plot box's width, an arrow end for "above", ``ticks`` (values) and ``label``."""
        left, _, right, bottom = self.box
        top, height = bottom + 48, 14
        width = right - left
        strip = colour_of((np.arange(width) + 0.5) / width)[None, :, :].repeat(height, axis=0)
        self.image.paste(Image.fromarray(np.ascontiguousarray(strip), "RGB"), (left, top))
        tip = [(right, top), (right + height, top + height / 2), (right, top + height)]
        self.draw.polygon(tip, fill=tuple(int(v) for v in rdbu_r_table()[-1]), outline=(0, 0, 0))
        self.draw.rectangle((left, top, right, top + height), outline=(0, 0, 0))
        small = base_font(9.0)
        for value in ticks:
            c = left + value / top_value * width
            self.draw.line([(c, top + height), (c, top + height + 4)], fill=(0, 0, 0))
            self.draw.text((c, top + height + 6), f"{value:g}", font=small, fill=(0, 0, 0), anchor="mt")
        self.draw.text(((left + right) / 2, top + height + 22), label, font=base_font(10.0),
                       fill=(0, 0, 0), anchor="mt")

    def png(self) -> bytes:
        """The picture's PNG bytes (RGB, no metadata)."""
        return png_rgb(np.asarray(self.image))


def png_rgb(pixels: np.ndarray) -> bytes:
    """PNG bytes of an (height, width, 3) uint8 RGB image: IHDR, one IDAT, IEND and nothing
    else; every row with filter type 0 (none), deflated at :data:`PNG_LEVEL`."""
    height, width = pixels.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # column 0: the row's filter type
    rows[:, 1:] = pixels.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, not interlaced
    return b"".join([PNG_SIGNATURE, _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(rows, PNG_LEVEL)),
                     _png_chunk(b"IEND", b"")])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _dashes(points: np.ndarray, on: float, off: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(start, end) pixel pairs of the dashes along a polyline, ``on`` px drawn, ``off`` px not."""
    out = []
    phase = 0.0
    for a, b in zip(points[:-1], points[1:], strict=True):
        length = float(np.hypot(*(b - a)))
        if length == 0.0:
            continue
        unit = (b - a) / length
        s = -phase
        while s < length:
            lo, hi = max(s, 0.0), min(s + on, length)
            if hi > lo:
                out.append((a + unit * lo, a + unit * hi))
            s += on + off
        phase = length - (s - on - off)
        phase = phase if phase < on + off else 0.0
    return out


def _marker_shape(marker: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """A five-pointed star or a thick X of radius ``r`` px around (cx, cy), as polygon points."""
    if marker == "star":
        angles = np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.4)
        return [(cx + float(q * math.cos(a)), cy - float(q * math.sin(a)))
                for q, a in zip(radii, angles, strict=True)]
    t = r * 0.3  # half the stroke's thickness
    corners = [(t, 0), (r, r - t), (r - t, r), (0, t), (-r + t, r), (-r, r - t), (-t, 0),
               (-r, -r + t), (-r + t, -r), (0, -t), (r - t, -r), (r, -r + t)]
    return [(cx + x, cy + y) for x, y in corners]
