"""Pre-flight checks the real SITL cannot show, against the built-in simulated ArduCopter:
a firmware built without AC_Sprayer (boards with 1 MB of flash: no SPRAY_* parameters at all)
is refused before anything is sent; the battery arithmetic against the OCV table."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.drone import load_drone
from firmware_bridge.preflight import needed_soc_pct, soc_from_voltage
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.vehicle import SimVehicle

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
LINK = ["--quiet", "--timeout", "0.3", "--heartbeat-timeout", "5"]


def without_sprayer(source, target):
    """``source`` .parm with every SPRAY_* line left out, written to ``target``."""
    lines = [line for line in source.read_text().splitlines() if not line.startswith("SPRAY_")]
    target.write_text("\n".join(lines) + "\n")
    return target


def test_firmware_without_the_sprayer_is_refused(tmp_path):
    out = tmp_path / "plan"
    assert CliRunner().invoke(main, ["plan", FIELD, "-o", str(out)]).exit_code == 0
    lon, lat = json.loads((out / "plan.json").read_text())["station"]
    files = (without_sprayer(COPTER_PARM, tmp_path / "copter.parm"),
             without_sprayer(SPRAYER_PARM, tmp_path / "pump.parm"))
    with SimVehicle(port=0, speedup=50.0, boot_scale=0.02, home=(lat, lon, 215.0),
                    param_files=files) as sim:
        result = CliRunner().invoke(main, ["upload", str(out / "plan.json"), "--connect",
                                           f"tcp:127.0.0.1:{sim.port}", *LINK])
        stored = len(sim.missions.lists[0])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "the vehicle has no SPRAY_ENABLE: its firmware is built without the sprayer" in (
        result.stderr)
    # everything else about this vehicle is fine: only the sprayer is named
    assert "km from" not in result.stderr and "battery" not in result.stderr
    assert stored == 1  # only home: nothing was sent


def test_needed_charge_and_charge_read_from_voltage():
    t30 = load_drone("agras-t30")
    sortie = {"index": 1, "soc_landing_pct": 40.0}
    assert needed_soc_pct(sortie, t30) == pytest.approx(60.0 + t30.battery.reserve_pct)
    # the LiPo table's points: 3.78 V per cell is 50 %, 4.20 V is 100 %
    assert soc_from_voltage(3.78 * t30.battery.cells_series, t30) == pytest.approx(50.0)
    assert soc_from_voltage(4.20 * t30.battery.cells_series, t30) == pytest.approx(100.0)
    assert soc_from_voltage(12.6, t30) == 0.0


@pytest.mark.parametrize("home_shift_deg,refused", [(0.0, False), (0.05, True)])
def test_a_mission_file_is_checked_against_its_first_waypoint(tmp_path, home_shift_deg,
                                                               refused):
    out = tmp_path / "plan"
    assert CliRunner().invoke(main, ["plan", FIELD, "-o", str(out)]).exit_code == 0
    lon, lat = json.loads((out / "plan.json").read_text())["station"]
    with SimVehicle(port=0, speedup=50.0, boot_scale=0.02,
                    home=(lat + home_shift_deg, lon, 215.0),
                    param_files=(COPTER_PARM, SPRAYER_PARM)) as sim:
        result = CliRunner().invoke(main, ["upload", str(out / "sortie-01.waypoints"),
                                           "--connect", f"tcp:127.0.0.1:{sim.port}", *LINK])
    if refused:  # 0.05° of latitude: about 5.5 km
        assert result.exit_code == 2
        assert "km from the vehicle" in result.stderr and "at most 500 m" in result.stderr
    else:
        assert result.exit_code == 0, result.output
        assert "pre-flight checks passed (airframe, sprayer, distance)" in result.stdout
