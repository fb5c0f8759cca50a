"""The pump stops when PX4 leaves its mission, on a real PX4 SITL (SIH hexacopter, instance
3, 10x). PX4 keeps a "Peripheral via Actuator Set" output at its last value through Hold, RTL
and LAND (measured: 1562 µs held from a battery failsafe to the landing), so the ground
station switches it off (:func:`firmware_bridge.px4_flight.pump_off`). Here the vehicle is sent to
RTL in the middle of a pass, as a failsafe or the operator would, and the pump PWM on
SERVO_OUTPUT_RAW must drop to its minimum within 1 s (vehicle time) and stay there.

Skipped (with the reason shown) unless PX4_SITL names PX4's start script (run.sh)."""

from __future__ import annotations

import pytest

from sitl.px4_fixtures import px4_plan, script_or_skip, start_px4

SCRIPT = script_or_skip()

from agridrone.cli.simulate_px4 import pump_channel  # noqa: E402
from firmware_bridge.flight import MAV_CMD_DO_SET_MODE  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.px4_flight import fly_sortie_px4  # noqa: E402
from firmware_bridge.px4_modes import AUTO_RTL, set_mode_params  # noqa: E402
from firmware_bridge.px4_params import set_plan_params  # noqa: E402
from missions.mission import build_mission  # noqa: E402

INSTANCE = 3
SPRAY_BEFORE_RTL_S = 20.0  # vehicle seconds of spraying before the RTL (into the second pass)
PUMP_OFF_WITHIN_S = 1.0
# The pump guard is the ground station's: at PX4's speed factor F it has 1/F s of wall time
# for the 1 s of vehicle time; 4x leaves a loaded CI machine 250 ms.
SPEED_FACTOR = 4.0


@pytest.fixture(scope="module")
def rtl_mid_pass(tmp_path_factory):
    """The log of sortie 1 flown until PX4 is sent to RTL with the pump on, and the vehicle
    time of that command."""
    plan, _ = px4_plan(tmp_path_factory)
    with start_px4(SCRIPT, plan, INSTANCE, tmp_path_factory.mktemp("px4-failsafe"),
                   speed_factor=SPEED_FACTOR) as sitl:
        link = connect(sitl.address, heartbeat_timeout_s=20.0)
        try:
            set_plan_params(link, plan)
            pump = pump_channel(plan)
            sent: list[float] = []
            spraying = [0.0]
            real_recv = link.recv

            def recv(types, timeout_s):  # the operator's (or a failsafe's) RTL mid-pass
                msg = real_recv(types, timeout_s)
                if msg is not None and msg.get_type() == "SERVO_OUTPUT_RAW" and not sent:
                    t = msg.time_usec / 1e6
                    if pump.fraction(msg) > 0:
                        spraying[0] = spraying[0] or t
                        if t - spraying[0] > SPRAY_BEFORE_RTL_S:
                            sent.append(t)
                            link.mav.command_long_send(
                                link.target_system, link.target_component, MAV_CMD_DO_SET_MODE,
                                0, *set_mode_params(AUTO_RTL), 0, 0, 0, 0)
                    elif spraying[0] and t - spraying[0] < SPRAY_BEFORE_RTL_S:
                        spraying[0] = 0.0  # a pass ended: count again on the next one
                return msg

            link.recv = recv
            parts = build_mission(plan, 1, autopilot="px4")
            log = fly_sortie_px4(link, 1, parts, rate_hz=5.0, pump=pump,
                                 timeout_s=(3 * plan["sorties"][0]["time_s"] + 300) / SPEED_FACTOR)
        finally:
            link.close()
    return log, sent[0] if sent else None


def test_rtl_interrupts_the_mission_mid_pass(rtl_mid_pass):
    log, sent_at = rtl_mid_pass
    assert sent_at is not None
    assert not log.completed and log.interrupted_at_item is not None
    assert any(mode == AUTO_RTL for _, mode in log.modes)


def test_pump_stops_within_a_second_and_stays_off(rtl_mid_pass):
    log, sent_at = rtl_mid_pass
    rtl_at = min(t for t, mode in log.modes if mode == AUTO_RTL)
    before = [f for t, f in log.pump if sent_at - 1.0 <= t <= sent_at]
    assert before and all(f > 0 for f in before)  # it was spraying when the RTL came
    after = [(t, f) for t, f in log.pump if t >= rtl_at + PUMP_OFF_WITHIN_S]
    assert len(after) > 20  # the whole way home was watched
    assert all(f == 0.0 for _, f in after), "pump still on after PX4 left its mission"
