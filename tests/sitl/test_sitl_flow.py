"""`agridrone simulate --connect` against a real ArduPilot SITL launched by sim/sitl.py:
a SITL that is not the plan's drone is refused, and a sortie cut short by SITL's battery
failsafe makes the command say why and exit 1.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sim.sitl import launch_sitl
from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("fly against")

from agridrone.cli import main  # noqa: E402
from tests.sitl.flight_checks import HOME_AMSL_M, SPEEDUP, make_plan, start_sitl  # noqa: E402

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    return make_plan(tmp_path_factory.mktemp("plan"), FIELD, "--rate", "20")  # two sorties


def test_a_sitl_with_another_frame_is_refused(planned, tmp_path):
    plan_path, plan = planned
    lon, lat = plan["station"]
    with launch_sitl(BINARY, home=(lat, lon, HOME_AMSL_M), speedup=SPEEDUP,
                     workdir=tmp_path, model="quad") as sitl:
        result = CliRunner().invoke(main, ["simulate", str(plan_path), "--connect",
                                           sitl.address, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "FRAME_CLASS 1" in result.output and "6 rotors" in result.output


def test_a_sortie_cut_short_by_the_battery_failsafe_exits_1(planned, tmp_path):
    plan_path, plan = planned
    with start_sitl(BINARY, plan, tmp_path / "sitl") as sitl:
        result = CliRunner().invoke(main, ["simulate", str(plan_path), "--connect",
                                           sitl.address, "-o", str(tmp_path / "out"),
                                           "--param", "BATT_LOW_MAH=27000"])
    assert result.exit_code == 1, result.output
    # the message names the plan's own sortie count (the 2 ha sample takes two with leads)
    assert f"error: sortie 1 of {len(plan['sorties'])} was cut short" in result.output
    assert "Battery" in result.output and "battery failsafe" in result.output
    assert "energy flown / plan" in result.output
