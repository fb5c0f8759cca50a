"""`agridrone plan` sorties on the sample fields: every sortie flyable on one battery and
one tank, no gap or double spray at breakpoints, counts at the lower bound, --home auto."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.drone import load_drone
from agridrone.geo import LocalFrame
from tests.fieldgen import SAMPLE_FIELDS


def _plan(tmp_path, name, *extra):
    path, excludes = SAMPLE_FIELDS[name]
    out = tmp_path / "out"
    args = ["plan", str(path), "-o", str(out), *extra]
    for exclude in excludes:
        args += ["--exclude", str(exclude)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text()), result.output, out


def _speed_for(rate: float) -> str:
    drone = load_drone("agras-t30")
    return f"{min(5.0, drone.pump_max_l_min * 1e4 / (rate * drone.swath_width_m * 60)) - 0.01:.2f}"


@pytest.mark.parametrize("name", sorted(SAMPLE_FIELDS))
@pytest.mark.parametrize("rate", [10.0, 20.0, 30.0])
def test_sorties_are_flyable_and_spray_everything_once(tmp_path, name, rate):
    plan, report, out = _plan(tmp_path, name, "--rate", str(rate), "--speed", _speed_for(rate))
    drone = plan["drone"]
    battery = drone["battery"]
    sorties = plan["sorties"]
    assert len(sorties) <= plan["lower_bound_sorties"] + 1
    assert f"lower bound {plan['lower_bound_sorties']}" in report
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    station = frame.to_local(np.array([plan["station"]]))[0]
    spray_total = 0.0
    for previous, sortie in zip([None, *sorties[:-1]], sorties, strict=True):
        assert sortie["soc_landing_pct"] >= battery["reserve_pct"] - 1e-6
        assert sortie["min_cell_v"] >= battery["cutoff_v_per_cell"] - 1e-6
        assert 0.0 <= sortie["liquid_l"] <= drone["tank_l"] + 1e-6
        legs = sortie["legs"]
        first = frame.to_local(np.array(legs[0]["coords"]))[0]
        last = frame.to_local(np.array(legs[-1]["coords"]))[-1]
        assert np.hypot(*(first - station)) < 0.01 and np.hypot(*(last - station)) < 0.01
        if previous is not None and previous["breakpoint"] is not None:
            resume_at = frame.to_local(np.array([previous["breakpoint"]["point"]]))[0]
            first_spray = next(leg for leg in legs if leg["kind"] == "spray")
            assert first_spray["pass"] == previous["breakpoint"]["pass"]
            start = frame.to_local(np.array(first_spray["coords"]))[0]
            assert np.hypot(*(start - resume_at)) < 0.01  # continues exactly there
        spray_total += sortie["spray_m"]
    assert spray_total == pytest.approx(plan["metrics"]["spray_m"], abs=0.5)
    files = {p.name for p in out.iterdir()}
    assert {f"sortie-{s['index']:02d}.plan" for s in sorties} <= files


def test_two_hectare_field_with_station_on_its_edge_needs_the_lower_bound(tmp_path):
    for rate in (10.0, 20.0, 30.0):
        plan, _, _ = _plan(tmp_path, "lahore_rect_2ha", "--rate", str(rate), "--speed",
                           _speed_for(rate), "--home", "31.4504,74.2213")
        assert len(plan["sorties"]) == plan["lower_bound_sorties"]


def test_home_auto_never_costs_more_dead_head_than_the_default(tmp_path):
    default, _, _ = _plan(tmp_path / "a", "sahiwal_L_with_obstacles", "--rate", "20")
    auto, report, _ = _plan(tmp_path / "b", "sahiwal_L_with_obstacles", "--rate", "20",
                            "--home", "auto")
    assert auto["inputs"]["home"] == "auto"
    assert auto["totals"]["deadhead_m"] <= default["totals"]["deadhead_m"] + 1e-6
    assert "saves" in report and "candidates" in report


def test_home_auto_picks_among_the_given_stations(tmp_path):
    stations = tmp_path / "stations.geojson"
    stations.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": c}}
        for c in ([74.2213, 31.4504], [74.2230046, 31.45178986])]}))
    plan, _, _ = _plan(tmp_path, "lahore_rect_2ha", "--home", "auto", "--stations", str(stations))
    assert plan["station"] in ([74.2213, 31.4504], [74.2230046, 31.45178986])


def test_pump_that_cannot_deliver_the_rate_is_refused_with_a_speed_that_works(tmp_path):
    path, _ = SAMPLE_FIELDS["lahore_rect_2ha"]
    result = CliRunner().invoke(main, ["plan", str(path), "-o", str(tmp_path / "o"), "--rate", "40"])
    assert result.exit_code == 2
    assert "fly at" in result.output and "m/s or slower" in result.output
    assert not (tmp_path / "o").exists()


def test_replanning_into_the_same_folder_removes_sortie_files_it_no_longer_has(tmp_path):
    _plan(tmp_path, "lahore_rect_2ha", "--rate", "30", "--speed", _speed_for(30))
    plan, _, out = _plan(tmp_path, "lahore_rect_2ha", "--rate", "10")
    files = sorted(p.name for p in out.glob("sortie-*"))
    assert files == sorted(f"sortie-{s['index']:02d}{ext}" for s in plan["sorties"]
                           for ext in (".plan", ".waypoints"))
