"""Labels drawn on the Pillow canvas land at their world point, in their colour, with their
box; points outside the plot get none; optional labels that would overlap are left out; the
bytes repeat."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from agridrone.png_labels import Label, draw_labels
from agridrone.raster_canvas import Canvas


def _canvas(background: str | None = None) -> Canvas:
    canvas = Canvas((0.0, 0.0, 100.0, 100.0), size_px=(400, 300), plot=(0.1, 0.9, 0.1, 0.9))
    if background is not None:
        canvas.draw.rectangle(canvas.box, fill=background)
    return canvas


def _image(canvas: Canvas) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(canvas.png())).convert("RGB"), dtype=np.int16)


def _near(rgb: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return np.all(np.abs(rgb - np.array(colour)) <= tolerance, axis=2)


def test_label_is_drawn_at_its_world_point_in_its_colour():
    canvas = _canvas()
    draw_labels(canvas, [Label((25.0, 75.0), "888", size_pt=12, colour="#ff0000",
                               ha="center", va="bottom")])
    rgb = _image(canvas)
    px, py = canvas.px(np.array([[25.0, 75.0]]))[0]
    rows, cols = np.nonzero(_near(rgb, (255, 0, 0)))
    assert len(rows) > 30
    assert abs(cols.mean() - px) < 3  # centred on the point
    assert rows.max() <= py + 1 and rows.min() > py - 25  # standing on it


def test_box_is_drawn_behind_the_text_and_outside_points_are_left_out():
    boxed, outside = _canvas("black"), _canvas("black")
    draw_labels(boxed, [Label((50.0, 50.0), "1", size_pt=8, box=("white", 1.0, None))])
    draw_labels(outside, [Label((500.0, 50.0), "1", size_pt=8, box=("white", 1.0, None))])
    left, top, right, bottom = boxed.box
    plot = (slice(top + 2, bottom - 2), slice(left + 2, right - 2))
    assert _near(_image(boxed)[plot], (255, 255, 255), 10).sum() > 20
    assert _near(_image(outside)[plot], (255, 255, 255), 10).sum() == 0


def test_same_drawing_gives_the_same_bytes():
    def draw() -> bytes:
        canvas = _canvas()
        canvas.lines([np.array([[0.0, 0.0], [100.0, 100.0]])], "#1f77b4")
        draw_labels(canvas, [Label((10.0, 20.0), "S1 ends · S2 resumes (pass 3)", size_pt=7,
                                   box=("white", 0.7, "black"), pad=0.2)])
        return canvas.png()

    first = draw()
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and draw() == first


def test_an_optional_label_that_would_overlap_another_is_left_out():
    red = Label((50.0, 50.0), "12", size_pt=10, colour="#ff0000", optional=True)
    blue_beside = Label((52.0, 51.0), "13", size_pt=10, colour="#0000ff", optional=True)
    blue_far = Label((10.0, 10.0), "14", size_pt=10, colour="#0000ff", optional=True)
    green = Label((50.0, 50.0), "S1 ends", size_pt=10, colour="#00c000")  # not optional, given last
    canvas = _canvas()
    draw_labels(canvas, [red, blue_beside, blue_far, green])
    rgb = _image(canvas)
    assert _near(rgb, (255, 0, 0), 60).sum() == 0  # under the breakpoint-like label: out
    assert _near(rgb, (0, 192, 0), 60).sum() > 20
    far = _canvas()
    draw_labels(far, [blue_far])
    assert _near(rgb, (0, 0, 255), 60).sum() == _near(_image(far), (0, 0, 255), 60).sum() > 10
