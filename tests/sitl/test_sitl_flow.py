"""upload -> fly -> spray -> land against a real ArduPilot SITL launched by sim/sitl.py.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sim.sitl import ENV_VAR, launch_sitl, sitl_binary

BINARY = sitl_binary()
if BINARY is None:
    pytest.skip(f"{ENV_VAR} is not set: no real ArduPilot SITL to fly against "
                f"(set {ENV_VAR}=/path/to/arducopter)", allow_module_level=True)

from agridrone.cli import main  # noqa: E402
from agridrone.resume import drone_from_plan, field_from_plan  # noqa: E402
from sim.as_applied import as_applied  # noqa: E402
from sim.simulate import SimulateOptions, simulate_plan  # noqa: E402

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
SPEEDUP = 10.0


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    result = CliRunner().invoke(main, ["plan", FIELD, "--swath-width", "12", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


def test_first_sortie_uploads_flies_sprays_and_lands(plan, tmp_path):
    lon, lat = plan["station"]
    one = {**plan, "sorties": plan["sorties"][:1]}
    with launch_sitl(BINARY, home=(lat, lon, 215.0), speedup=SPEEDUP, workdir=tmp_path) as sitl:
        logs = simulate_plan(one, SimulateOptions(connect=sitl.address, speedup=SPEEDUP,
                                                  heartbeat_timeout_s=30.0))
    assert len(logs) == 1 and logs[0].completed
    assert logs[0].remaining_pct() is not None
    applied = as_applied(logs, field_from_plan(plan), plan["inputs"]["swath_width_m"],
                         drone_from_plan(plan).pump_max_l_min)
    assert applied.sprayed_m > 0.5 * plan["sorties"][0]["spray_m"]
    assert applied.metrics.coverage_pct > 0.0
