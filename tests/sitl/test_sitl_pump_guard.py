"""``upload --params`` installs the Lua pump guard on real ArduPilot SITL (MAVLink FTP into
SITL's ``scripts/``, SCR_ENABLE 0 → 1, a reboot asked for), and after the reboot a battery
failsafe switches the pump output off within 1 s of the mode change; before the reboot (the
guard written but scripting not yet started) the same failsafe RTL sprays on its way home.

SITL is started with :func:`sim.sitl.launch_sitl` (not ``launch_sitl_for_drone``, which
installs the guard itself). SITL's own reboot re-runs its command line, ``--wipe`` included,
so the reboot is a restart in the same folder without ``--wipe`` (a power cycle: the stored
parameters and the script stay). Skipped unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("fly against")

from agridrone.cli import main  # noqa: E402
from agridrone.cli.simulate_run import SimulateOptions, simulate_plan  # noqa: E402
from agridrone.resume import drone_from_plan  # noqa: E402
from firmware_bridge.flight import AUTO  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.params import read_param  # noqa: E402
from missions.vehicle_params import ardupilot_params  # noqa: E402
from sim.sitl import launch_sitl  # noqa: E402
from sim.sitl_frame import write_frame_model  # noqa: E402
from tests.sitl.flight_checks import HOME_AMSL_M, SPEEDUP, make_plan, stray  # noqa: E402

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
FAILSAFE_AFTER = 0.25  # force the low failsafe once a quarter of the pack is drawn (spraying)
EEPROM_FLUSH_S = 2.0  # SITL writes its parameter storage to eeprom.bin within this


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    # 10 L/ha: one sortie of the T30's tank and pack (without lead-ins and lead-outs, which
    # would need a second battery)
    return make_plan(tmp_path_factory.mktemp("plan"), FIELD, "--rate", "10", "--swath-width", "8",
                     "--no-leads")


def _start(plan: dict, workdir, *, wipe: bool):
    lon, lat = plan["station"]
    model = write_frame_model(workdir, drone_from_plan(plan), temp_c=float(plan["inputs"]["temp_c"]),
                              elevation_m=HOME_AMSL_M)
    return launch_sitl(BINARY, home=(lat, lon, HOME_AMSL_M), speedup=SPEEDUP, workdir=workdir,
                       model=model, wipe=wipe)


def _forced_failsafe(plan: dict, address: str):
    capacity = ardupilot_params(plan, 1)["BATT_CAPACITY"]
    return simulate_plan(plan, SimulateOptions(
        connect=address, heartbeat_timeout_s=60.0,
        params={"BATT_LOW_MAH": round(capacity * (1.0 - FAILSAFE_AFTER))}))[0]


def _pump_at_mode_change(log) -> float:
    left = next(t for t, mode in log.modes if mode != AUTO)
    return [out for t, out in log.pump if t <= left][-1]


@pytest.fixture(scope="module")
def flights(planned, tmp_path_factory):
    """(upload's output, the flight before the reboot, SCR_ENABLE after it, the flight after)."""
    plan_path, plan = planned
    workdir = tmp_path_factory.mktemp("sitl")
    sitl = _start(plan, workdir, wipe=True)
    try:
        result = CliRunner().invoke(main, ["upload", str(plan_path), "--params", "--force",
                                           "--quiet", "--connect", sitl.address,
                                           "--heartbeat-timeout", "60"])
        assert result.exit_code == 0, result.output
        unguarded = _forced_failsafe(plan, sitl.address)
        time.sleep(EEPROM_FLUSH_S)
    finally:
        sitl.stop()
    sitl = _start(plan, workdir, wipe=False)
    try:
        link = connect(sitl.address, heartbeat_timeout_s=60.0)
        try:
            scr_enable = read_param(link, "SCR_ENABLE")
        finally:
            link.close()
        guarded = _forced_failsafe(plan, sitl.address)
    finally:
        sitl.stop()
    return result, unguarded, scr_enable, guarded


def test_upload_writes_the_guard_and_asks_for_a_reboot(flights, tmp_path_factory):
    result, _, scr_enable, _ = flights
    assert "pump guard: scripts/agridrone_pump_guard.lua written and verified" in result.stdout
    assert "SCR_ENABLE was 0 and is now 1: reboot the vehicle" in result.stdout
    assert scr_enable == 1.0  # kept over the reboot


def test_without_the_reboot_the_failsafe_rtl_sprays_home(planned, flights):
    _, unguarded, _, _ = flights
    assert unguarded.failsafe and not unguarded.completed
    assert _pump_at_mode_change(unguarded) > 0.0
    delay = unguarded.pump_off_delay_s()
    assert delay is None or delay > 1.0
    assert stray(planned[1], [unguarded]).off_spray_legs_m > 10.0


def test_after_the_reboot_the_battery_failsafe_stops_the_pump_within_1_s(planned, flights):
    _, _, _, guarded = flights
    assert guarded.failsafe and not guarded.completed
    assert _pump_at_mode_change(guarded) > 0.0  # it was spraying when the failsafe came
    assert guarded.pump_off_delay_s() is not None and guarded.pump_off_delay_s() <= 1.0
    assert any("agridrone: pump off" in text for text in guarded.texts)
    assert stray(planned[1], [guarded]).off_spray_legs_m <= 3.0  # the RTL home sprayed nothing
