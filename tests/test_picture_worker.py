"""``agridrone plan`` draws preview.png and dose.png and renders TASKDATA.zip in a forked
worker while it writes the other files: the folder is byte for byte the one a single process writes; a worker that
fails is replaced by drawing in the parent; bad input leaves no folder and no child."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agridrone.cli import main, picture_worker

ROOT = Path(__file__).resolve().parents[1]
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


# Run in a fresh interpreter: a thread an earlier test left running here (Dask's offload
# thread after test_batch) turns the worker off, as it should, and the test would only skip.
WORKER_SCRIPT = """
import json, os, sys
import agridrone.planner as planner
import missions.formats.isoxml_task as isoxml_task
from agridrone.cli import main, picture_worker

parent, made_here, failing = os.getpid(), [], sys.argv[2] == "fail"

def spy(module, name):
    original = getattr(module, name)
    def made(*args):
        if os.getpid() == parent:
            made_here.append(name)
        elif failing:
            raise MemoryError("worker out of memory")
        return original(*args)
    setattr(module, name, made)

spy(planner, "plan_pictures")
spy(isoxml_task, "render_isoxml_taskdata")
forked = picture_worker.fork_useful()
main(["plan", sys.argv[3], "-o", sys.argv[1]])
try:
    left = os.waitpid(-1, os.WNOHANG) != (0, 0)
except ChildProcessError:
    left = False
print(json.dumps({"forked": forked, "made_here": sorted(set(made_here)), "children_left": left}))
"""


def _plan_in_fresh_process(out: Path, mode: str) -> tuple[dict, dict[str, bytes]]:
    result = subprocess.run([sys.executable, "-c", WORKER_SCRIPT, str(out), mode, FIELD],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    if not report["forked"]:
        pytest.skip("needs os.fork and two cores")
    assert not report["children_left"]
    return report, {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_worker_draws_the_same_bytes_and_the_parent_draws_nothing(single_process, tmp_path):
    report, files = _plan_in_fresh_process(tmp_path / "out", "spy")
    assert report["made_here"] == []  # the worker drew the pictures and rendered TASKDATA.zip
    assert {"preview.png", "dose.png", "TASKDATA.zip"} <= set(files)
    assert files == single_process


def test_a_failing_worker_leaves_the_drawing_to_the_parent(single_process, tmp_path):
    report, files = _plan_in_fresh_process(tmp_path / "out", "fail")
    assert report["made_here"] == ["plan_pictures", "render_isoxml_taskdata"]
    assert files == single_process


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
