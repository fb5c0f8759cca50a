"""The dose model against references it does not share code with: the plain-Python kernel
twin, the analytic sum of trapezoids over a rectangle, litres conserved on the raster,
and the GeoTIFF read back by rasterio."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from agridrone.dose import (
    Pieces,
    _mask,
    dose_metrics,
    dose_raster,
    pattern_density,
)
from agridrone.dose_kernels import _deposit
from agridrone.drone import SprayPattern
from tests.naive import deposit_plain

RATE = 15.0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-8, 8)] * 4, st.floats(0.001, 0.05), st.floats(0.4, 1.2)),
                min_size=1, max_size=4),
       st.floats(2.0, 9.0), st.floats(0.0, 0.6))
def test_kernel_matches_plain_python(pieces, swath, ramp):
    """The kernel, each piece's pattern widened by its own scale (the pass flown higher or
    lower), against the plain-Python twin."""
    off, den = pattern_density(SprayPattern.trapezoid(swath, ramp))
    arr = np.array(pieces, dtype=np.float64)
    got = _deposit(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy(),
                   arr[:, 4].copy(), arr[:, 5].copy(), off, den, -15.0, -14.0, 0.7, 40, 43)
    want = np.array(deposit_plain(pieces, off, den, -15.0, -14.0, 0.7, 40, 43))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("turn", [False, True])
def test_kernel_sweeps_by_rows_and_by_columns_as_the_twin(turn):
    """Pieces running mostly east-west (swept row by row) and the same pieces turned
    north-south (swept column by column), some slanted, one on a pixel centre line, a
    measured pattern with a sloped top: both against the plain-Python twin."""
    off, den = pattern_density(SprayPattern((-3.0, -1.0, 0.5, 2.5), (0.0, 1.0, 0.6, 0.0), "rig"))
    pieces = [(-12.0, -3.0, 11.0, -1.0, 0.02, 1.0), (10.0, 2.0, -9.5, 4.5, 0.03, 0.8),
              (-6.6, 0.35, 6.6, 0.35, 0.01, 1.1), (0.0, 5.0, 1.0, 5.1, 0.02, 1.0)]
    if turn:
        pieces = [(ay, ax, by, bx, lpm, sc) for ax, ay, bx, by, lpm, sc in pieces]
    arr = np.array(pieces, dtype=np.float64)
    got = _deposit(*(arr[:, c].copy() for c in range(6)), off, den, -15.0, -14.0, 0.7, 40, 43)
    want = np.array(deposit_plain(pieces, off, den, -15.0, -14.0, 0.7, 40, 43))
    assert (want > 0).sum() > 300
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def _rectangle_plan(width: float, length: float, swath: float, spacing: float, ramp: float = 0.3):
    """Passes along x over a width × length rectangle, centres from swath/2 to width - swath/2
    at ``spacing``, laying rate × spacing litres per metre."""
    n = int(round((width - swath) / spacing)) + 1
    ys = swath / 2 + spacing * np.arange(n)
    lpm = RATE * spacing / 1e4
    pieces = Pieces(np.zeros(n), ys, np.full(n, length), ys.copy(), np.full(n, lpm))
    field = MultiPolygon([box(0, 0, length, width)])
    return pieces, field, SprayPattern.trapezoid(swath, ramp)


def test_rectangle_one_swath_apart_matches_the_analytic_sum():
    """Passes one swath apart over a rectangle: the trapezoids sum to exactly the rate inside;
    along the two side edges the outer ramp gives 0.5 + u / ramp × rate at u metres in, so
    the share below 0.9 × rate is two bands 0.4 × ramp wide (analytic, not from the kernel)."""
    width, length, swath = 90.0, 200.0, 9.0
    pieces, field, pattern = _rectangle_plan(width, length, swath, swath)
    raster = dose_raster(pieces, pattern, field, field, 0.25)
    m = dose_metrics(raster, RATE, pieces.liquid_l, field.area)
    ramp = 0.3 * swath
    band_share = 2 * 0.4 * ramp * length / (width * length)
    assert 100 - m.within_10_pct == pytest.approx(100 * band_share, abs=0.5)
    centre = raster.dose[raster.sprayable][np.abs(
        (raster.y0 + (np.nonzero(raster.sprayable)[0] + 0.5) * raster.cell_m) - width / 2) < 20]
    np.testing.assert_allclose(centre, RATE, rtol=1e-9)
    # litres conserved: what the tracks lay equals the raster's sum, the ramp outside included
    assert raster.dose.sum() * raster.cell_m**2 / 1e4 == pytest.approx(pieces.liquid_l, rel=2e-3)
    # outside: the outer half of each side ramp, a triangle ramp/2 wide and 0.5 high
    outside = 2 * length * (0.5 * (ramp / 2) * 0.5) / swath * (RATE * swath / 1e4)
    assert m.outside_field_l == pytest.approx(outside, rel=0.02)
    assert m.liquid_vs_target_pct == pytest.approx(100.0)


def test_measured_pattern_is_used_as_given():
    """A measured (here triangular) pattern one half width apart sums flat too; the raster
    must show its shape, not the trapezoid's."""
    pattern = SprayPattern((-4.0, 0.0, 4.0), (0.0, 1.0, 0.0), "test rig")
    pieces = Pieces(np.zeros(1), np.zeros(1), np.full(1, 50.0), np.zeros(1), np.full(1, 0.01))
    field = MultiPolygon([box(0, -10, 50, 10)])
    raster = dose_raster(pieces, pattern, field, field, 0.5)
    column = raster.dose[:, raster.dose.shape[1] // 2]
    centre_y = raster.y0 + (np.arange(column.size) + 0.5) * raster.cell_m
    want = 0.01 * np.interp(centre_y, [-4, 0, 4], [0, 0.25, 0]) * 1e4
    np.testing.assert_allclose(column, want, atol=1e-9)


def test_geotiff_opens_georeferenced(tmp_path):
    """dose.tif read back by rasterio: CRS set, the field's place, L/ha values, nodata."""
    import json

    from click.testing import CliRunner

    from agridrone.cli import main
    from tests.fieldgen import SAMPLE_FIELDS

    path, _ = SAMPLE_FIELDS["lahore_rect_2ha"]
    result = CliRunner().invoke(main, ["plan", str(path), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert (tmp_path / "dose.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(tmp_path / "dose.tif") as ds:
        assert ds.crs is not None and ds.nodata == -9999.0
        band = ds.read(1)
        lon, lat = plan["station"]
        from pyproj import Transformer
        x, y = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True).transform(lon, lat)
        left, bottom, right, top = ds.bounds
        assert left < x < right and bottom < y < top
        valid = band[band != ds.nodata]
        assert (band == ds.nodata).any()
        assert valid.max() > 0.9 * plan["rate_l_ha"]
        assert ds.tags(1)["units"] == "L/ha"


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.integers(1, 12), st.integers(1, 12),
       st.integers(0, 2**32 - 1))
def test_screen_raster_keeps_the_litres_and_the_blank_margin(ny, nx, wide, high, seed):
    """dose.png draws block means: every block is the mean of its shown pixels (litres kept),
    blank only where no pixel is shown, and never fewer blocks than the picture's pixels."""
    from agridrone.dose import DoseRaster
    from agridrone.dose_map import screen_raster

    rng = np.random.default_rng(seed)
    dose = rng.uniform(0, 30, (ny, nx)) * (rng.random((ny, nx)) < 0.7)
    in_field = rng.random((ny, nx)) < 0.5
    raster = DoseRaster(dose, 0.0, 0.0, 0.5, in_field, in_field)
    block, blank, cell = screen_raster(raster, (wide, high))
    k = round(cell / 0.5)
    assert block.shape == (ny // k, nx // k)
    assert block.shape[1] >= min(wide, nx) and block.shape[0] >= min(high, ny)
    shown = (in_field | (dose > 0))[: block.shape[0] * k, : block.shape[1] * k]
    count = shown.reshape(block.shape[0], k, block.shape[1], k).sum(axis=(1, 3))
    assert np.array_equal(blank, count == 0)
    trimmed = np.where(shown, dose[: shown.shape[0], : shown.shape[1]], 0.0)
    assert np.isclose((block * count).sum(), trimmed.sum())


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 50), st.integers(1, 50), st.floats(1.0, 200.0), st.integers(0, 2**32 - 1))
def test_dose_sums_kernel_matches_numpy(ny, nx, rate, seed):
    """The metrics kernel against the numpy masks it replaced (tests/naive.py), including
    pixels exactly at the ±10 %, ±20 %, 0.5× and 1.5× thresholds and one step either side."""
    from agridrone.dose_kernels import _dose_sums
    from tests.naive import dose_sums_plain

    rng = np.random.default_rng(seed)
    dose = rng.uniform(0, 2.2 * rate, (ny, nx))
    edges = rate * np.array([0.5, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5])
    edges = np.concatenate([edges, np.nextafter(edges, 0.0), np.nextafter(edges, np.inf)])
    pick = rng.random((ny, nx)) < 0.3
    dose[pick] = rng.choice(edges, int(pick.sum()))
    in_field = rng.random((ny, nx)) < 0.8
    sprayable = in_field & (rng.random((ny, nx)) < 0.9)
    got = _dose_sums(dose, sprayable, in_field, rate)
    want = dose_sums_plain(dose, sprayable, in_field, rate)
    assert got[0] == want[0] and got[3:7] == want[3:7]
    np.testing.assert_allclose([got[1], got[2], got[7], got[8]], [want[1], want[2], want[7], want[8]],
                               rtol=1e-12, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_block_means_kernel_matches_its_twin(ny, nx, k, seed):
    """Block means for dose.png bit for bit as the numpy block sums (tests/naive.py):
    pixels outside the field with and without dose, blocks with none shown, partial blocks
    dropped."""
    from agridrone.dose_kernels import _block_means
    from tests.naive import block_means_plain

    rng = np.random.default_rng(seed)
    dose = rng.uniform(0, 30, (ny, nx)) * (rng.random((ny, nx)) < 0.6)
    in_field = rng.random((ny, nx)) < 0.5
    means, blank = _block_means(dose, in_field, k)
    want_means, want_blank = block_means_plain(dose, in_field, k)
    assert means.shape == (ny // k, nx // k)
    np.testing.assert_array_equal(blank, want_blank)
    assert means.tobytes() == want_means.tobytes()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 40), st.integers(0, 2**32 - 1))
def test_run_filling_kernel_matches_its_twin(ny, nx, runs, seed):
    """Runs of a mask row set by the kernel as by the plain loop (tests/naive.py): empty,
    touching and overlapping runs, runs at both edges."""
    from agridrone.dose_kernels import _fill_runs
    from tests.naive import fill_runs_plain

    rng = np.random.default_rng(seed)
    rows = rng.integers(0, ny, runs)
    starts = rng.integers(0, nx + 1, runs)
    stops = np.minimum(starts + rng.integers(-2, nx + 1, runs), nx)
    got = _fill_runs(rows, starts, stops, ny, nx)
    assert got.dtype == np.bool_ and got.shape == (ny, nx)
    np.testing.assert_array_equal(got, fill_runs_plain(rows, starts, stops, ny, nx))


@pytest.mark.parametrize("cell, ny, nx", [(0.5, 70, 110), (0.05, 700, 1100)])
def test_masks_hold_the_pixels_whose_centre_is_inside(cell, ny, nx):
    # two parts, one with a hole, vertices off the pixel centres; the raster reaches past them
    first = Polygon([(1.13, 0.71), (37.9, 4.07), (30.3, 28.6), (2.21, 21.3)],
                    [[(10.17, 8.33), (20.41, 9.09), (15.23, 17.77)]])
    second = Polygon([(40.37, 10.11), (55.93, 12.29), (47.71, 30.03)])
    region = MultiPolygon([first, second])
    x0, y0 = -2.0, -3.0
    ys, xs = np.mgrid[0:ny, 0:nx]
    centres_inside = shapely.contains_xy(region, x0 + (xs + 0.5) * cell, y0 + (ys + 0.5) * cell)
    mask = _mask(region, x0, y0, cell, ny, nx)
    assert 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(mask, centres_inside)
