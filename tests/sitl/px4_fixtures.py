"""Shared set-up of the PX4 SITL test modules: the start script from PX4_SITL (the module is
skipped with the reason when it is unset), a T30 plan of the 2 ha sample for PX4 (two sorties), and a PX4
instance per module (instances 1..9, one each: see sim/px4_sitl.py for the ports)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sim.px4_sitl import ENV_VAR, launch_px4, px4_script

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
SPEED_FACTOR = 10.0
HOME_ALT_M = 215.0


def script_or_skip():
    """The PX4 SITL start script, or skip the calling module saying how to give one."""
    script = px4_script()
    if script is None:
        pytest.skip(f"{ENV_VAR} is not set: no real PX4 SITL to fly against "
                    f"(set {ENV_VAR}=/path/to/px4sitl/run.sh)", allow_module_level=True)
    return script


def px4_plan(tmp_path_factory) -> tuple[dict, object]:
    """plan.json (dict) of the 2 ha sample made with --autopilot px4, and its folder."""
    from agridrone.cli import main

    out = tmp_path_factory.mktemp("px4plan")
    # 20 L/ha: 40 L of liquid, two sorties of the 30 L tank (tests load sortie 2 over sortie 1)
    result = CliRunner().invoke(main, ["plan", FIELD, "--autopilot", "px4", "--rate", "20",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text()), out


def start_px4(script, plan: dict, instance: int, workdir, speed_factor: float = SPEED_FACTOR):
    """PX4 SITL instance ``instance`` (a hexacopter) with home at the plan's station, running
    ``speed_factor`` times real time."""
    lon, lat = plan["station"]
    return launch_px4(script, instance=instance, home=(lat, lon, HOME_ALT_M),
                      speed_factor=speed_factor, workdir=workdir)
