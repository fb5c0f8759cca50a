"""firmware_bridge against a real PX4 SITL (SIH hexacopter, instance 1): mission upload,
download and clear, fence and rally, each read back and compared item by item, and the PX4
parameters derived from a plan set and read back.

Skipped (with the reason shown) unless PX4_SITL names PX4's start script (run.sh)."""

from __future__ import annotations

import math

import pytest

from sitl.px4_fixtures import px4_plan, script_or_skip, start_px4

SCRIPT = script_or_skip()

from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.mission_protocol import clear, download, upload  # noqa: E402
from firmware_bridge.px4_params import decode, read_param, set_px4_params  # noqa: E402
from missions.fence import build_fence, build_rally  # noqa: E402
from missions.mission import (  # noqa: E402
    CMD_DO_SET_ACTUATOR,
    MISSION_TYPE_FENCE,
    MISSION_TYPE_MISSION,
    MISSION_TYPE_RALLY,
    build_mission,
)
from missions.px4 import pump_on_value  # noqa: E402
from missions.px4_params import flight_params, pwm_range_names  # noqa: E402

INSTANCE = 1


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    return px4_plan(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def link(plan, tmp_path_factory):
    # real time: nothing here waits on flight, and a sped-up SIH on a loaded machine is slow
    # to answer
    with start_px4(SCRIPT, plan, INSTANCE, tmp_path_factory.mktemp("px4-bridge"),
                   speed_factor=1.0) as sitl:
        conn = connect(sitl.address, heartbeat_timeout_s=20.0)
        try:
            yield conn
        finally:
            conn.close()


def _same(sent, got):
    """Item by item: command, frame, params (NaN = NaN), lat/lon to 1e-7 deg, alt to 1 cm."""
    assert len(got) == len(sent)
    for a, b in zip(sent, got, strict=True):
        assert (b.seq, b.command, b.frame, b.x, b.y) == (a.seq, a.command, a.frame, a.x, a.y)
        for p, q in ((a.param1, b.param1), (a.param2, b.param2), (a.param3, b.param3),
                     (a.param4, b.param4)):
            assert (math.isnan(p) and math.isnan(q)) or p == pytest.approx(q, abs=1e-6)
        assert b.z == pytest.approx(a.z, abs=0.01)


def test_vehicle_is_px4(link):
    assert link.autopilot == "px4"


def test_mission_uploads_downloads_exactly_and_clears(link, plan):
    items = build_mission(plan, 1, autopilot="px4")[0]
    result = upload(link, items)
    assert result.count == len(items) > 50
    got = download(link)
    _same(items, got)
    pump = [it for it in got if it.command == CMD_DO_SET_ACTUATOR]
    assert {round(it.param1, 6) for it in pump} == {round(pump_on_value(plan), 6), -1.0}
    clear(link)
    assert download(link) == []


def test_second_upload_replaces_the_first(link, plan):
    upload(link, build_mission(plan, 1, autopilot="px4")[0])
    second = build_mission(plan, 2, autopilot="px4")[0]
    upload(link, second)
    _same(second, download(link))


def test_fence_uploads_and_reads_back(link, plan):
    fence = build_fence(plan, autopilot="px4")
    upload(link, fence, mission_type=MISSION_TYPE_FENCE)
    _same(fence, download(link, mission_type=MISSION_TYPE_FENCE))


def test_rally_uploads_and_reads_back(link, plan):
    rally = build_rally(plan, "px4")
    upload(link, rally, mission_type=MISSION_TYPE_RALLY)
    _same(rally, download(link, mission_type=MISSION_TYPE_RALLY))
    clear(link, mission_type=MISSION_TYPE_RALLY)
    assert download(link, mission_type=MISSION_TYPE_RALLY) == []


def test_derived_parameters_are_set_and_read_back(link, plan):
    values = flight_params(plan)
    confirmed = set_px4_params(link, values, optional=pwm_range_names(values))
    # SITL's simulated outputs have a fixed 1000-2000 us range and no PWM_MAIN_MIN/MAX
    assert set(confirmed) == set(values) - pwm_range_names(values)
    for name, value in confirmed.items():
        assert value == pytest.approx(values[name], abs=1e-6), name
        again = read_param(link, name)  # a fresh read, INT32 decoded from its bytes
        assert decode(again) == pytest.approx(values[name], abs=1e-6), name
    assert confirmed["PWM_MAIN_FUNC7"] == 301 and confirmed["COM_LOW_BAT_ACT"] == 3
    assert confirmed["BAT_EMERGEN_THR"] < confirmed["BAT_CRIT_THR"] < confirmed["BAT_LOW_THR"]


def test_an_unknown_parameter_is_named(link):
    from agridrone.errors import AgridroneError

    with pytest.raises(AgridroneError, match="no parameter NO_SUCH_PARAM"):
        set_px4_params(link, {"NO_SUCH_PARAM": 1.0, "GF_ACTION": 3.0}, timeout_s=0.3, retries=1)


def test_mission_left_after_the_tests_is_the_last_one_uploaded(link, plan):
    items = build_mission(plan, 2, autopilot="px4")[0]
    upload(link, items, mission_type=MISSION_TYPE_MISSION)
    _same(items, download(link))
