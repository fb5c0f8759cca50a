"""firmware_bridge against the project's vehicle simulator (sim.vehicle.SimVehicle, an
ArduCopter 4.7 look-alike) over TCP loopback: a 600-item mission, fence and rally, the
650-item limit and the sprayer / battery-failsafe parameters."""

from __future__ import annotations

import pytest
from test_bridge_protocol import spray_mission

from agridrone.errors import AgridroneError
from firmware_bridge import mission_protocol
from firmware_bridge.link import connect
from firmware_bridge.params import set_params
from missions.ardupilot_params import battery_failsafe_params, sprayer_params
from missions.mission import MissionItem

sim_vehicle = pytest.importorskip("sim.vehicle")
FAST = {"timeout_s": 0.3, "retries": 5}


@pytest.fixture(scope="module")
def vehicle():
    with sim_vehicle.SimVehicle(port=0, boot_scale=0.01) as sim:
        yield sim


@pytest.fixture(scope="module")
def link(vehicle):
    conn = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=5.0)
    yield conn
    conn.close()


def test_600_item_mission_loads_and_reads_back(vehicle, link):
    items = spray_mission(600)
    result = mission_protocol.upload(link, items, **FAST)
    assert result.count == 600
    stored = vehicle.call(lambda sim: [(it.command, it.x, it.y) for it in sim.missions.lists[0]])
    assert stored[1:] == [(it.command, it.x, it.y) for it in items[1:]]


def test_more_than_the_vehicle_holds_is_refused_or_named(link):
    with pytest.raises(AgridroneError, match="holds at most 650"):
        mission_protocol.upload(link, spray_mission(700), **FAST)
    with pytest.raises(AgridroneError, match="NO_SPACE"):
        mission_protocol.upload(link, spray_mission(651), max_items=1000, **FAST)


def test_fence_and_rally_round_trip(link):
    square = [(315214780, 743587000), (315209390, 743597951), (315198610, 743597951),
              (315193220, 743587000)]
    fence = [MissionItem(seq=i, frame=5, command=5001, param1=4.0, x=x, y=y, mission_type=1)
             for i, (x, y) in enumerate(square)]
    rally = [MissionItem(seq=0, frame=6, command=5100, x=315204000, y=743592269, z=15.0,
                         mission_type=2)]
    assert mission_protocol.upload(link, fence, mission_type=1, **FAST).count == 4
    assert mission_protocol.upload(link, rally, mission_type=2, **FAST).count == 1
    mission_protocol.clear(link, mission_type=1, **FAST)
    assert mission_protocol.download(link, mission_type=1, **FAST) == []


def test_sprayer_and_battery_parameters_set_and_read_back(link):
    values = sprayer_params(pump_max_l_min=8.0, rate_l_ha=20.0, swath_m=5.0,
                            spray_speed_m_s=5.0)
    values.update(battery_failsafe_params(cells=3, cutoff_v_per_cell=3.5, capacity_ah=3.3,
                                          reserve_pct=20.0))
    assert set_params(link, values, **FAST) == pytest.approx(values, rel=1e-6)


def test_udp_link_to_the_simulator():
    with sim_vehicle.SimVehicle(port=0, transport="udp", boot_scale=0.01) as sim:
        conn = connect(f"udpout:127.0.0.1:{sim.port}", heartbeat_timeout_s=5.0)
        try:
            assert conn.autopilot == "ardupilot"
            assert mission_protocol.upload(conn, spray_mission(50), **FAST).count == 50
        finally:
            conn.close()
