"""Labels drawn with Pillow over matplotlib's canvas land where matplotlib puts the data point,
in their colour, with their box; points outside the axes get none; the bytes repeat."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from agridrone.png_labels import Label, labelled_png


def _figure():
    fig = Figure(figsize=(4, 3), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    return fig, ax


def _image(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def _near(rgb: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return np.all(np.abs(rgb - np.array(colour)) <= tolerance, axis=2)


def test_label_is_drawn_at_its_data_point_in_its_colour():
    fig, ax = _figure()
    data = labelled_png(fig, ax, [Label((25.0, 75.0), "888", size_pt=12, colour="#ff0000",
                                        ha="center", va="bottom")])
    rgb = _image(data)
    px, py = ax.transData.transform((25.0, 75.0))
    rows, cols = np.nonzero(_near(rgb, (255, 0, 0)))
    assert len(rows) > 30
    height = rgb.shape[0]
    # centred on the point, standing on it (rows above the point in image coordinates)
    assert abs(cols.mean() - px) < 3
    assert rows.max() <= height - py + 1 and rows.min() > height - py - 25


def test_box_is_drawn_behind_the_text_and_outside_points_are_left_out():
    fig, ax = _figure()
    ax.axhspan(0, 100, color="black")  # a black plot: the white box shows
    boxed = _image(labelled_png(fig, ax, [Label((50.0, 50.0), "1", size_pt=8, box=("white", 1.0, None))]))
    fig, ax = _figure()
    ax.axhspan(0, 100, color="black")
    outside = _image(labelled_png(fig, ax, [Label((500.0, 50.0), "1", size_pt=8, box=("white", 1.0, None))]))
    inside = ax.bbox.extents.astype(int)
    plot = (slice(outside.shape[0] - inside[3] + 2, outside.shape[0] - inside[1] - 2),
            slice(inside[0] + 2, inside[2] - 2))
    assert _near(boxed[plot], (255, 255, 255), 10).sum() > 20
    assert _near(outside[plot], (255, 255, 255), 10).sum() == 0


def test_same_figure_gives_the_same_bytes():
    def draw() -> bytes:
        fig, ax = _figure()
        ax.plot([0, 100], [0, 100])
        return labelled_png(fig, ax, [Label((10.0, 20.0), "S1 ends · S2 resumes (pass 3)", size_pt=7,
                                            box=("white", 0.7, "black"), pad=0.2)])

    first = draw()
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and draw() == first


def test_an_optional_label_that_would_overlap_another_is_left_out():
    fig, ax = _figure()
    red = Label((50.0, 50.0), "12", size_pt=10, colour="#ff0000", optional=True)
    blue_beside = Label((52.0, 51.0), "13", size_pt=10, colour="#0000ff", optional=True)
    blue_far = Label((10.0, 10.0), "14", size_pt=10, colour="#0000ff", optional=True)
    green = Label((50.0, 50.0), "S1 ends", size_pt=10, colour="#00c000")  # not optional, given last
    rgb = _image(labelled_png(fig, ax, [red, blue_beside, blue_far, green]))
    assert _near(rgb, (255, 0, 0), 60).sum() == 0  # under the breakpoint-like label: out
    assert _near(rgb, (0, 192, 0), 60).sum() > 20
    far_only = _image(labelled_png(*_figure(), [blue_far]))
    assert _near(rgb, (0, 0, 255), 60).sum() == _near(far_only, (0, 0, 255), 60).sum() > 10
