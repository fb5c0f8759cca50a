"""The Pillow map canvas: equal-aspect world -> pixel transform, lines, holes, colour bar and
colour map (matplotlib's RdBu_r, checked against matplotlib itself), titles in any script,
PNGs without metadata."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from shapely.geometry import MultiPolygon, Polygon

from agridrone.raster_canvas import Canvas, colour_of, nice_ticks, png_rgb, rdbu_r_table, rgb
from agridrone.text_fonts import drawable


def _image(canvas: Canvas) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(canvas.png())).convert("RGB"), dtype=np.int16)


def test_colour_map_is_matplotlibs_rdbu_r():
    from matplotlib import colormaps

    theirs = colormaps["RdBu_r"](np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]
    assert np.abs(rdbu_r_table().astype(int) - theirs.astype(int)).max() <= 1
    assert tuple(colour_of(np.array([0.5]))[0]) == tuple(rdbu_r_table()[128])


def test_world_to_pixel_keeps_equal_aspect_and_fills_the_box():
    canvas = Canvas((-50.0, 0.0, 150.0, 100.0), size_px=(1100, 800))  # 2:1 world
    left, top, right, bottom = canvas.box
    assert abs((right - left) - 2 * (bottom - top)) <= 2
    corners = canvas.px(np.array([[-50.0, 100.0], [150.0, 0.0]]))
    assert np.allclose(corners, [[left, top], [right, bottom]], atol=1)


def test_a_line_and_a_polygon_land_where_they_are_with_holes_left_open():
    canvas = Canvas((0.0, 0.0, 100.0, 100.0), size_px=(500, 500), plot=(0.1, 0.9, 0.1, 0.9))
    ring = Polygon([(10, 10), (60, 10), (60, 60), (10, 60)], [[(30, 30), (40, 30), (40, 40), (30, 40)]])
    canvas.polygons(MultiPolygon([ring]), fill="#dcefd2", edge="#3a6b1f")
    canvas.lines([np.array([[70.0, 80.0], [95.0, 80.0]])], "#d62728", width_px=2)
    image = _image(canvas)

    def at(x: float, y: float) -> tuple[int, ...]:
        c, r = np.round(canvas.px(np.array([[x, y]]))[0]).astype(int)
        return tuple(int(v) for v in image[r, c])

    assert at(20, 20) == rgb("#dcefd2") and at(35, 35) == (255, 255, 255)  # the hole
    assert at(80, 80) == rgb("#d62728") and at(80, 20) == (255, 255, 255)


def test_colour_bar_spans_zero_to_the_top_value_with_its_ticks():
    canvas = Canvas((0.0, 0.0, 100.0, 100.0), size_px=(600, 600), plot=(0.1, 0.9, 0.25, 0.9))
    canvas.colour_bar([0.0, 15.0, 30.0], 30.0, "applied dose, L/ha")
    image = _image(canvas)
    left, _, right, bottom = canvas.box
    row = image[bottom + 48 + 7]
    assert np.abs(row[left + 1] - rdbu_r_table()[0]).max() <= 3  # 0 L/ha: dark blue
    assert np.abs(row[right - 1] - rdbu_r_table()[-1]).max() <= 3  # 2x the rate: dark red
    assert np.abs(row[(left + right) // 2] - rdbu_r_table()[128]).max() <= 8  # the rate: white-ish
    labels = image[bottom + 48 + 20: bottom + 48 + 34]
    for column in (left, (left + right) // 2, right):  # "0", "15", "30" under their ticks
        assert (labels[:, column - 6: column + 7].sum(axis=2) < 300).sum() > 3


def test_title_draws_any_script_and_a_question_mark_for_what_no_font_has():
    def title_ink(text: str) -> int:
        canvas = Canvas((0.0, 0.0, 1.0, 1.0))
        canvas.title(text)
        return int((_image(canvas)[: canvas.box[1]].sum(axis=2) < 384).sum())

    urdu, latin = title_ink("\u2068ساہیوال\u2069: 2.00 ha"), title_ink("2.00 ha")
    assert urdu > latin + 20
    # a hieroglyph (if no installed font has it, as on this machine and CI): a "?"
    if drawable("\U00013000") == "?":
        assert title_ink("\U00013000") == title_ink("?") > 0


def test_png_has_no_metadata_chunks():
    data = Canvas((0.0, 0.0, 1.0, 1.0)).png()
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at: at + 4], "big")
        chunks.append(data[at + 4: at + 8])
        at += 12 + length
    assert set(chunks) == {b"IHDR", b"IDAT", b"IEND"}


def test_ticks_are_round_numbers_inside_the_range():
    ticks = nice_ticks(-153.0, 151.0)
    assert ticks == [-150.0, -100.0, -50.0, 0.0, 50.0, 100.0, 150.0]
    assert all(-153 <= t <= 151 for t in nice_ticks(-153.0, 151.0, most=4))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_png_bytes_decode_to_the_pixels_drawn(height, width, seed):
    """The PNG the canvas writes (unfiltered rows, deflated) is a valid PNG (Pillow checks
    every chunk's CRC) holding exactly the pixels; the same pixels give the same bytes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    data = png_rgb(pixels)
    Image.open(io.BytesIO(data)).verify()
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == "RGB" and decoded.size == (width, height)
    np.testing.assert_array_equal(np.asarray(decoded), pixels)
    assert png_rgb(pixels.copy()) == data
