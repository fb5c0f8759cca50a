"""Sprayer and battery-failsafe parameters: derived numbers, and set + read back against the
simulator (unknown names get no answer; SPRAY_* appear after SPRAY_ENABLE=1, as on SITL); the
test peer only for what the simulator is not: an older firmware that creates SPRAY_* at boot,
and PX4."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mavlink_peer import INT8, INT16, REAL32, MavlinkPeer

from agridrone.errors import AgridroneError
from firmware_bridge.link import connect
from firmware_bridge.params import set_params
from missions.ardupilot_params import battery_failsafe_params, flow_l_min, sprayer_params
from sim.vehicle import SimVehicle

FAST = {"timeout_s": 0.1, "retries": 2}


def test_sprayer_params_for_20_l_ha_over_5_m_with_a_4_l_min_pump():
    params = sprayer_params(pump_max_l_min=4.0, rate_l_ha=20.0, swath_m=5.0,
                            spray_speed_m_s=5.0, min_speed_m_s=1.0)
    # 20 L/ha x 5 m x 1 m/s = 0.6 L/min per m/s = 15 % of a 4 L/min pump per m/s
    assert params == {"SPRAY_ENABLE": 1.0, "SPRAY_PUMP_RATE": 15.0, "SPRAY_SPEED_MIN": 100.0,
                      "SPRAY_PUMP_MIN": 15.0, "SERVO9_FUNCTION": 22.0, "SPRAY_SPINNER": 1300.0,
                      "SERVO10_FUNCTION": 23.0}
    no_spinner = sprayer_params(pump_max_l_min=4.0, rate_l_ha=20.0, swath_m=5.0,
                                spray_speed_m_s=5.0, pump_servo=11, spinner_servo=None)
    assert no_spinner["SERVO11_FUNCTION"] == 22.0 and "SPRAY_SPINNER" not in no_spinner


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(5, 200), swath=st.floats(1, 12), speed=st.floats(1.5, 10),
       headroom=st.floats(1.0, 5.0))
def test_pump_output_gives_the_rate_at_any_speed(rate, swath, speed, headroom):
    pump_max = flow_l_min(rate, swath, speed) * headroom
    params = sprayer_params(pump_max_l_min=pump_max, rate_l_ha=rate, swath_m=swath,
                            spray_speed_m_s=speed)
    for v in (1.5, speed):  # ArduPilot: output % = SPRAY_PUMP_RATE x ground speed
        delivered = params["SPRAY_PUMP_RATE"] * v / 100.0 * pump_max
        assert delivered == pytest.approx(flow_l_min(rate, swath, v), rel=1e-3, abs=1e-3)
    assert params["SPRAY_PUMP_RATE"] * speed <= 100.0 + 1e-9


def test_a_rate_the_pump_cannot_deliver_is_refused():
    with pytest.raises(AgridroneError, match="needs 3.00 L/min but the pump gives at most "
                                             "2 L/min.*at most 3.3 m/s"):
        sprayer_params(pump_max_l_min=2.0, rate_l_ha=20.0, swath_m=5.0, spray_speed_m_s=5.0)
    with pytest.raises(AgridroneError, match="below the spray speed"):
        sprayer_params(pump_max_l_min=8.0, rate_l_ha=20.0, swath_m=5.0, spray_speed_m_s=1.0,
                       min_speed_m_s=2.0)


def test_battery_failsafe_from_pack_numbers():
    assert battery_failsafe_params(cells=12, cutoff_v_per_cell=3.5, capacity_ah=30.0,
                                   reserve_pct=20.0) == {
        "BATT_CAPACITY": 30000.0, "BATT_LOW_VOLT": 43.2, "BATT_CRT_VOLT": 42.0,
        "BATT_FS_LOW_ACT": 2.0, "BATT_LOW_MAH": 6000.0, "BATT_FS_VOLTSRC": 1.0,
        "BATT_CRT_MAH": 3000.0, "BATT_FS_CRT_ACT": 1.0}
    with pytest.raises(AgridroneError, match="reserve"):
        battery_failsafe_params(cells=6, cutoff_v_per_cell=3.5, capacity_ah=10.0,
                                reserve_pct=120.0)


@pytest.fixture
def vehicle():
    with SimVehicle(port=0, boot_scale=0.01) as sim:
        yield sim


def stored_param(vehicle: SimVehicle, name: str) -> list:
    """[value, MAV_PARAM_TYPE] the simulated vehicle holds for ``name``."""
    return vehicle.call(lambda sim: [sim.params.get(name).value, sim.params.get(name).type_code])


def test_set_params_sets_and_reads_back_with_the_real_types(vehicle):
    values = sprayer_params(pump_max_l_min=4.0, rate_l_ha=20.0, swath_m=5.0,
                            spray_speed_m_s=5.0)
    values.update(battery_failsafe_params(cells=3, cutoff_v_per_cell=3.5, capacity_ah=3.3,
                                          reserve_pct=20.0))
    link = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=3.0)
    try:
        confirmed = set_params(link, values, **FAST)
    finally:
        link.close()
    assert confirmed == pytest.approx(values)
    assert stored_param(vehicle, "BATT_FS_LOW_ACT") == [2.0, INT8]
    assert stored_param(vehicle, "SERVO9_FUNCTION") == [22.0, INT16]
    assert stored_param(vehicle, "SPRAY_PUMP_RATE") == [15.0, REAL32]
    assert stored_param(vehicle, "BATT_LOW_MAH")[0] == 660.0


def test_missing_parameters_are_named_and_the_rest_are_set(vehicle):
    link = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=3.0)
    try:
        with pytest.raises(AgridroneError, match="no parameter NO_SUCH_PARAM .*1 of 2 "
                                                 "parameters set"):
            set_params(link, {"NO_SUCH_PARAM": 1.0, "BATT_LOW_VOLT": 11.0}, **FAST)
    finally:
        link.close()
    assert stored_param(vehicle, "BATT_LOW_VOLT")[0] == pytest.approx(11.0)


def test_older_firmware_needing_a_reboot_for_spray_params_is_detected():
    vehicle = MavlinkPeer(spray_needs_reboot=True).start()
    values = sprayer_params(pump_max_l_min=4.0, rate_l_ha=20.0, swath_m=5.0,
                            spray_speed_m_s=5.0)
    try:
        link = connect(vehicle.address, heartbeat_timeout_s=3.0)
        with pytest.raises(AgridroneError, match="SPRAY_ENABLE=1 is set but SPRAY_PUMP_MIN, "
                                                 "SPRAY_PUMP_RATE.* reboot the vehicle"):
            set_params(link, values, **FAST)
        vehicle.reboot()
        assert set_params(link, values, **FAST) == pytest.approx(values)
        link.close()
    finally:
        vehicle.stop()


def test_px4_is_refused_for_ardupilot_parameters():
    vehicle = MavlinkPeer(autopilot="px4").start()
    try:
        link = connect(vehicle.address, heartbeat_timeout_s=3.0)
        with pytest.raises(AgridroneError, match="ArduPilot parameters; the vehicle runs px4"):
            set_params(link, {"SPRAY_ENABLE": 1.0}, **FAST)
        link.close()
    finally:
        vehicle.stop()
