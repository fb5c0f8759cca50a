"""agridrone ops: moving stations (--moves) and the order of several fields."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from agridrone.cli import main
from agridrone.geo import LocalFrame
from agridrone.ops.field_order import best_order, nearest_neighbour, path_m

# 1500 m x 110 m (16.5 ha): one pad at one end means long dead-heads to the other
STRIP_XY = [[0, 0], [1500, 0], [1500, 110], [0, 110], [0, 0]]


def field_file(path, xy, lon=73.1, lat=31.4):
    ll = LocalFrame(lon, lat).to_wgs84(np.asarray(xy, dtype=float))
    ring = [[round(a, 8), round(b, 8)] for a, b in ll]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    return str(path)


@pytest.fixture(scope="module")
def strip_day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("moves")
    field = field_file(tmp / "strip.geojson", STRIP_XY)
    out = tmp / "day"
    result = CliRunner().invoke(main, ["ops", field, "--moves", "2", "--packs", "4",
                                       "--drive-speed", "5", "-o", str(out),
                                       "--registry", str(tmp / "none.sqlite")])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "schedule.json").read_text()), field


def test_station_moves_and_cuts_the_drones_time(strip_day):
    out, doc, field = strip_day
    region = doc["fields"][0]["regions"][0]
    moves = doc["fields"][0]["moves"]
    assert region["moves"] == len(moves) >= 1
    # no more sorties than from one pad, and within the bound plus one per move
    assert region["sorties"] <= region["one_pad_sorties"]
    assert region["sorties"] <= region["lower_bound_sorties"] + region["moves"]
    sorties = doc["drones"][0]["sorties"]
    assert len(sorties) == region["sorties"]
    for m in moves:  # the drone is on the ground while its station drives
        assert m["end_s"] - m["start_s"] == pytest.approx(m["drive_m"] / 5.0, abs=0.2)
        assert all(s["land_s"] <= m["start_s"] + 0.1 or s["ground_s"] >= m["end_s"] - 0.1
                   for s in sorties)
        after = [s for s in sorties if s["ground_s"] >= m["end_s"] - 0.1]
        assert after and after[0]["stop"] == m["to_stop"] and after[0]["station"] == m["to"]
    # each sortie takes off from its stop's plan's station, and that plan is on disk
    edge = shape(json.loads(open(field).read())).exterior
    for s in sorties:
        plan = json.loads((out / s["plan"] / "plan.json").read_text())
        assert plan["station"] == s["station"]
        assert edge.distance(Point(s["station"])) < 1e-4  # on the field's edge (degrees)
        assert 1 <= s["plan_sortie"] <= len(plan["sorties"])


def test_moving_beats_one_pad_on_drone_time(strip_day, tmp_path):
    """The same field from one pad: the drone is busy longer (dead-head to the far end)."""
    _, doc, field = strip_day
    out = tmp_path / "one"
    result = CliRunner().invoke(main, ["ops", field, "--packs", "4", "--drive-speed", "5",
                                       "-o", str(out), "--registry", str(tmp_path / "n.sqlite")])
    assert result.exit_code == 0, result.output
    one = json.loads((out / "schedule.json").read_text())
    airborne = doc["totals"]["airborne_s"]
    assert airborne < one["totals"]["airborne_s"]
    assert one["fields"][0]["moves"] == []


# --- several fields -----------------------------------------------------------------------

def distances(points):
    p = np.asarray(points, dtype=float)
    return np.hypot(*(p[:, None, :] - p[None, :, :]).transpose(2, 0, 1))


points = st.lists(st.tuples(st.floats(0, 20000), st.floats(0, 20000)), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(points)
def test_order_is_the_brute_force_optimum_up_to_eight(pts):
    dist = distances(pts)
    order = best_order(dist)
    assert order[0] == 0 and sorted(order) == list(range(len(pts)))
    brute = min(path_m(dist, [0, *rest]) for rest in itertools.permutations(range(1, len(pts))))
    assert path_m(dist, order) == pytest.approx(brute, rel=1e-9, abs=1e-6)
    assert path_m(dist, order) <= path_m(dist, nearest_neighbour(dist)) + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20000), st.floats(0, 20000)), min_size=9, max_size=20))
def test_order_beyond_eight_never_longer_than_nearest_neighbour(pts):
    dist = distances(pts)
    order = best_order(dist)
    assert order[0] == 0 and sorted(order) == list(range(len(pts)))
    assert path_m(dist, order) <= path_m(dist, nearest_neighbour(dist)) + 1e-6


def test_nearest_neighbour_trap_is_avoided():
    """Fields on a line at 0, 1, -2, 4 km: nearest neighbour goes 0, 1, -2, 4 (11 km);
    the best goes 0, -2, 1, 4 (8 km)."""
    dist = distances([(0, 0), (1000, 0), (-2000, 0), (4000, 0)])
    assert path_m(dist, nearest_neighbour(dist)) == pytest.approx(1000 + 3000 + 6000)
    assert best_order(dist) == [0, 2, 1, 3]
    assert path_m(dist, best_order(dist)) == pytest.approx(2000 + 3000 + 3000)


def test_ops_flies_fields_in_the_best_order(tmp_path):
    square = [[0, 0], [150, 0], [150, 100], [0, 100], [0, 0]]
    lons = {"a": 73.1, "b": 73.1105, "c": 73.079, "d": 73.142}  # about 0, 1, -2, 4 km east
    files = [field_file(tmp_path / f"{k}.geojson", square, lon=v) for k, v in lons.items()]
    out = tmp_path / "day"
    result = CliRunner().invoke(main, ["ops", *files, "-o", str(out),
                                       "--registry", str(tmp_path / "n.sqlite")])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "schedule.json").read_text())
    assert [f["field"] for f in doc["fields"]] == ["a", "c", "b", "d"]
    assert [f["drive_from"] for f in doc["fields"]] == [None, "a", "c", "b"]
    starts = [f["start_s"] for f in doc["fields"]]
    ends = [f["end_s"] for f in doc["fields"]]
    for f, prev_end in zip(doc["fields"][1:], ends[:-1], strict=True):
        assert f["start_s"] == pytest.approx(prev_end + f["drive_s"], abs=0.2)
    assert starts == sorted(starts)


def test_charging_bound_is_in_seconds():
    """One pack, three 600 s sorties each taking off full and landing at 20 %: the two
    recharges (20 % to full through one 7.2 kW charger, 58.8 V) come between the first
    landing (60 s swap + 600 s) and the last take-off (60 s swap + 600 s before the end)."""
    from agridrone.ops import bounds, charging
    from agridrone.ops.charging import ChargeSpec
    from agridrone.ops.scheduler import Crew, DroneJob, SortieJob

    spec = ChargeSpec(capacity_ah=29.0, cells=14, chemistry="lipo")
    crew = Crew(1, 7.2, 20.0, 60.0, 20.0, 30.0, 25.0)
    jobs = [SortieJob(i, 600.0, 0.0, 900.0, lambda h: 1.0, None, np.zeros((2, 2)),
                      np.array([0.0, 600.0])) for i in (1, 2, 3)]
    bound = bounds.lower_bound([DroneJob(1, 1, np.zeros(2), jobs)], crew, spec, [1.0],
                               lambda job, h, soc: 0.2)
    recharge = charging.charge_time_s(spec, 1.0, 0.2, 1.0, 7200.0 / 58.8)
    assert 1000.0 < recharge < 1500.0  # seconds, not hours
    assert bound.charging_s == pytest.approx(660.0 + 2 * recharge + 660.0)
