"""``agridrone upload plan.json --params`` on real PX4 SITL sets the PX4 derivation
(:func:`missions.vehicle_params.px4_vehicle_params`: pump output, battery failsafe, geofence,
return) and PX4 holds every value afterwards (read back over a fresh link, INT32 decoded from
its bytes). Skipped unless PX4_SITL names the PX4 SITL start script."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.sitl.px4_fixtures import px4_plan, script_or_skip, start_px4

SCRIPT = script_or_skip()

from agridrone.cli import main  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.px4_params import decode, read_param  # noqa: E402
from missions.px4_params import pwm_range_names  # noqa: E402
from missions.vehicle_params import px4_vehicle_params  # noqa: E402

INSTANCE = 6


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    plan, folder = px4_plan(tmp_path_factory)
    return plan, folder / "plan.json"


def test_upload_params_sets_the_px4_derivation(planned, tmp_path_factory):
    plan, path = planned
    wanted = px4_vehicle_params(plan, fence_action="brake")
    with start_px4(SCRIPT, plan, INSTANCE, tmp_path_factory.mktemp("px4-upload"),
                   speed_factor=1.0) as sitl:
        result = CliRunner().invoke(main, [
            "upload", str(path), "--sortie", "2", "--params", "--fence-action", "brake",
            "--force", "--json", "--connect", sitl.address, "--heartbeat-timeout", "30"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        link = connect(sitl.address, heartbeat_timeout_s=30.0)
        try:
            held = {name: read_param(link, name) for name in wanted}
        finally:
            link.close()
    assert summary["autopilot"] == "px4"
    assert "fence" in [u["kind"] for u in summary["uploads"]]  # the fence GF_ACTION guards
    # SITL's simulated outputs have a fixed 1000-2000 us range and no PWM_MAIN_MIN/MAX
    assert set(summary["params"]) == set(wanted) - pwm_range_names(wanted)
    for name in summary["params"]:
        assert held[name] is not None, name
        assert decode(held[name]) == pytest.approx(wanted[name], abs=1e-6), name
    assert summary["params"]["GF_ACTION"] == 2  # brake: PX4 holds
    assert summary["params"]["COM_LOW_BAT_ACT"] == 3
    assert "pump_guard" not in summary  # no Lua on PX4
