"""``agridrone plan`` draws preview.png and dose.png and renders TASKDATA.zip in a forked
worker while it writes the other files: the folder is byte for byte the one a single process writes; a worker that
fails is replaced by drawing in the parent; bad input leaves no folder and no child."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import agridrone.planner as planner
import missions.formats.isoxml_task as isoxml_task
from agridrone.cli import main, picture_worker

FIELD = "example:sahiwal_L_with_obstacles"  # holes, four sorties, breakpoints: every layer drawn


def _plan(out: Path) -> dict[str, bytes]:
    result = CliRunner().invoke(main, ["plan", FIELD, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def _no_children_left() -> bool:
    try:
        return os.waitpid(-1, os.WNOHANG) == (0, 0)  # children exist, none exited unreaped
    except ChildProcessError:
        return True  # no children at all


@pytest.fixture(scope="module")
def single_process(tmp_path_factory) -> dict[str, bytes]:
    """The plan's files with the pictures drawn in the same process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(picture_worker, "fork_useful", lambda: False)
        return _plan(tmp_path_factory.mktemp("single") / "out")


def _needs_fork() -> None:
    """Skip unless ``plan`` would fork now (checked when the test runs: a thread an earlier
    test left running turns the worker off, as it should)."""
    if not picture_worker.fork_useful():
        import threading

        pytest.skip(f"needs os.fork, two cores and no other thread (threads: "
                    f"{[t.name for t in threading.enumerate()]})")


def test_worker_draws_the_same_bytes_and_the_parent_draws_nothing(single_process, tmp_path, monkeypatch):
    _needs_fork()
    parent = os.getpid()
    made_here = []

    def spy(module, name):
        original = getattr(module, name)

        def made(*args):
            if os.getpid() == parent:
                made_here.append(name)
            return original(*args)
        monkeypatch.setattr(module, name, made)

    spy(planner, "plan_pictures")
    spy(isoxml_task, "render_isoxml_taskdata")
    files = _plan(tmp_path / "out")
    assert not made_here  # the worker drew the pictures and rendered TASKDATA.zip
    assert {"preview.png", "dose.png", "TASKDATA.zip"} <= set(files)
    assert files == single_process
    assert _no_children_left()


def test_a_failing_worker_leaves_the_drawing_to_the_parent(single_process, tmp_path, monkeypatch):
    _needs_fork()
    parent = os.getpid()
    original = planner.plan_pictures

    def fails_in_the_worker(*args):
        if os.getpid() != parent:
            raise MemoryError("worker out of memory")
        return original(*args)

    monkeypatch.setattr(planner, "plan_pictures", fails_in_the_worker)
    assert _plan(tmp_path / "out") == single_process
    assert _no_children_left()


def test_bad_input_leaves_no_folder_and_no_worker(tmp_path):
    field = tmp_path / "bad.geojson"
    field.write_text('{"type": "Polygon", "coordinates": [[[71.4, 30.2], [71.5, 30.2], [71.4, 30.2]]]}')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(field), "-o", str(out)])
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]
    assert _no_children_left()



def test_the_raster_handed_to_the_worker_draws_the_same_dose_png():
    """The worker gets the dose raster averaged down to the picture's size (a tenth of the
    bytes on 111 ha); dose.png drawn from it is dose.png drawn from the full raster."""
    import numpy as np
    from test_mission_helpers import holed_plan

    from agridrone.dose import DoseRaster
    from agridrone.dose_map import PLOT_PX, drawing_raster, render_dose_png
    from agridrone.resume import field_from_plan

    field = field_from_plan(holed_plan())
    x0, y0, x1, y1 = field.outer_local.bounds
    nx, ny = 3 * PLOT_PX[0] + 2, 3 * PLOT_PX[1] + 1  # averaged over 3 x 3 blocks, edges cut
    cell = max(x1 - x0, y1 - y0) / min(nx, ny)
    rng = np.random.default_rng(7)
    in_field = rng.random((ny, nx)) < 0.8
    dose = rng.uniform(0, 30, (ny, nx)) * (rng.random((ny, nx)) < 0.9)
    full = DoseRaster(dose, x0, y0, cell, in_field, in_field)
    small = drawing_raster(full)
    assert small.dose.size * 9 <= dose.size
    assert render_dose_png(field, small, 15.0, "t") == render_dose_png(field, full, 15.0, "t")
