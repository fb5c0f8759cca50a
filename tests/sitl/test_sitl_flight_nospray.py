"""The field with no-spray zones (Sahiwal L with obstacles) flown whole on real ArduPilot
SITL as the plan's drone, then a fence breach: the pump guard stops the pump within a
second of the mode change and nothing is sprayed in a no-spray zone afterwards.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("fly against")

from agridrone.cli.simulate_run import SimulateOptions, simulate_plan  # noqa: E402
from agridrone.resume import field_from_plan  # noqa: E402
from firmware_bridge.flight import AUTO  # noqa: E402
from missions.fence import build_fence  # noqa: E402
from missions.mission import (  # noqa: E402
    CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
    FRAME_GLOBAL_INT,
    MISSION_TYPE_FENCE,
    MissionItem,
    to_int7,
)
from tests.sitl.flight_checks import applied_of, make_plan, start_sitl, stray  # noqa: E402

FIELD = "agridrone/data/fields/sahiwal_L_with_obstacles.geojson"


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    return make_plan(tmp_path_factory.mktemp("plan"), FIELD)


@pytest.fixture(scope="module")
def sitl(planned, tmp_path_factory):
    with start_sitl(BINARY, planned[1], tmp_path_factory.mktemp("sitl")) as running:
        yield running


@pytest.fixture(scope="module")
def flown(planned, sitl):
    return simulate_plan(planned[1], SimulateOptions(connect=sitl.address,
                                                     heartbeat_timeout_s=30.0))


def test_field_has_no_spray_zones(planned):
    assert not field_from_plan(planned[1]).no_spray_local.is_empty


def test_every_sortie_lands_complete_above_the_reserve(planned, flown):
    plan = planned[1]
    reserve = plan["drone"]["battery"]["reserve_pct"]
    assert len(flown) == len(plan["sorties"])
    for log in flown:
        assert log.completed and not log.failsafe, (log.sortie, log.texts[-5:])
        assert log.remaining_pct() >= reserve


def test_coverage_and_no_spray_zones_from_sitl_telemetry(planned, flown):
    plan = planned[1]
    assert applied_of(plan, flown).metrics.coverage_pct >= 98.0
    where = stray(plan, flown)
    assert where.inside_no_spray_m <= 0.5
    assert where.outside_field_m <= 1.0
    assert where.off_spray_legs_m <= 3.0


def _half_fence(plan: dict) -> list[MissionItem]:
    """The plan's fence with the inclusion polygon cut to the half of the field nearer the
    station (so the first sortie breaches it while spraying), exclusions kept."""
    field = field_from_plan(plan)
    station = field.frame.to_local(np.asarray([plan["station"]], dtype=np.float64))[0]
    minx, miny, maxx, maxy = field.outer_local.bounds
    mid = 0.5 * (minx + maxx)
    keep = (shapely.box(minx - 50, miny - 50, mid, maxy + 50) if station[0] < mid
            else shapely.box(mid, miny - 50, maxx + 50, maxy + 50))
    ring = np.asarray(keep.exterior.coords)[:-1]
    items = [MissionItem(seq=i, frame=FRAME_GLOBAL_INT,
                         command=CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                         param1=float(len(ring)), x=to_int7(lat), y=to_int7(lon),
                         mission_type=MISSION_TYPE_FENCE)
             for i, (lon, lat) in enumerate(field.frame.to_wgs84(ring))]
    exclusions = [item for item in build_fence(plan, autopilot="ardupilot")
                  if item.command != CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION]
    return items + [MissionItem(**{**vars(item), "seq": len(items) + k})
                    for k, item in enumerate(exclusions)]


def test_fence_breach_stops_the_pump_within_a_second(planned, sitl, flown):
    plan = planned[1]
    one = {**plan, "sorties": plan["sorties"][:1]}
    cut = simulate_plan(one, SimulateOptions(connect=sitl.address, heartbeat_timeout_s=30.0,
                                             fence=_half_fence(plan)))
    log = cut[0]
    assert not log.completed
    assert any(mode != AUTO for _, mode in log.modes)
    assert log.pump_off_delay_s() is not None and log.pump_off_delay_s() <= 1.0
    where = stray(plan, cut)
    assert where.inside_no_spray_m <= 0.5
    assert where.off_spray_legs_m <= 3.0
