"""`agridrone simulate` end to end: plan a sample field, fly every sortie against the built-in
simulated ArduCopter through firmware_bridge, and compare the as-applied result with the plan."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from agridrone.as_applied import as_applied, spray_width_m
from agridrone.cli import main
from agridrone.cli.simulate_run import SimulateOptions, simulate_plan
from agridrone.resume import drone_from_plan, field_from_plan, remaining_work
from firmware_bridge.flight import SortieLog
from missions.progress import stop_after_item

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
SPEEDUP = 100.0
LOSSY_SPEEDUP = 30.0


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    # 20 L/ha: 40 L of liquid, two sorties of the 30 L tank
    result = CliRunner().invoke(main, ["plan", FIELD, "--rate", "20", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out / "plan.json", json.loads((out / "plan.json").read_text())


def _applied(plan, logs):
    return as_applied(logs, field_from_plan(plan), spray_width_m(plan),
                      drone_from_plan(plan).pump_max_l_min)


@pytest.fixture(scope="module")
def calm_flight(planned):
    _, plan = planned
    logs = simulate_plan(plan, SimulateOptions(speedup=SPEEDUP))
    return plan, logs, _applied(plan, logs)


def test_every_sortie_flies_to_completion(calm_flight):
    plan, logs, _ = calm_flight
    assert len(plan["sorties"]) >= 2
    assert [log.sortie for log in logs] == list(range(1, len(plan["sorties"]) + 1))
    assert all(log.completed and not log.failsafe for log in logs)


def test_as_applied_coverage_without_wind(calm_flight):
    plan, _, applied = calm_flight
    assert applied.metrics.coverage_pct >= 98.0
    assert applied.metrics.overlap_pct < plan["metrics"]["overlap_pct"] + 3.0
    assert sum(applied.liquid_l) == pytest.approx(plan["totals"]["liquid_l"], rel=0.03)


def test_every_landing_keeps_the_reserve(calm_flight):
    plan, logs, _ = calm_flight
    reserve = plan["drone"]["battery"]["reserve_pct"]
    for log, sortie in zip(logs, plan["sorties"], strict=True):
        assert log.remaining_pct() >= reserve
        assert log.remaining_pct() == pytest.approx(sortie["soc_landing_pct"], abs=8.0)


def test_simulated_energy_against_planned(calm_flight):
    """The built-in pack drains by its own physics (SITL's constant-mass airframe with the
    power of a half-full tank): a full-tank sortie within 15 % of the plan (measured 2 %
    above it); a lightly loaded one costs more than planned, never less (SITL cannot drain
    its mass either)."""
    plan, logs, _ = calm_flight
    from agridrone.energy import EnergyModel

    drone = drone_from_plan(plan)
    resistance = EnergyModel.for_drone(drone).resistance_ohm
    for log, sortie in zip(logs, plan["sorties"], strict=True):
        flown = log.energy_wh(resistance)
        if sortie["load_l"] >= 0.8 * drone.tank_l:
            assert flown == pytest.approx(sortie["energy_wh"], rel=0.15)
        else:
            assert flown >= sortie["energy_wh"]


def _reported_charge_mah(log: SortieLog) -> float:
    """The charge (mAh) the battery reports add up to, each current held until the next."""
    return sum(a0 * max(t1 - t0, 0.0) for (t0, _, a0, _, _), (t1, *_) in
               zip(log.battery, log.battery[1:], strict=False)) / 3.6


def test_battery_reports_add_up_to_the_charge_drawn(calm_flight):
    """The 5 Hz BATTERY_STATUS currents, integrated as ``SortieLog.energy_wh`` integrates
    them, give the charge the vehicle's own coulomb counter drew (every 20 ms step) within
    2 %: a current that swung from step to step (the height hold chattering) was sampled
    in one phase and came out 9-10 % low or high by chance."""
    _, logs, _ = calm_flight
    for log in logs:
        assert _reported_charge_mah(log) == pytest.approx(log.consumed_mah(), rel=0.02)


def test_a_sortie_draws_alike_alone_and_in_the_whole_flight(calm_flight):
    """Sortie 1 flown alone draws the energy it draws as the first of two, within 2 %
    (the height-hold chatter made them 802 and 975 Wh for one flight that drew 889)."""
    plan, logs, _ = calm_flight
    first_only = {**plan, "sorties": plan["sorties"][:1]}
    (alone,) = simulate_plan(first_only, SimulateOptions(speedup=SPEEDUP))
    assert alone.energy_wh() == pytest.approx(logs[0].energy_wh(), rel=0.02)


def test_lossy_link_and_wind_still_complete(planned, tmp_path):
    """15 % of the packets lost each way and a 5 m/s wind: every sortie completes with its
    litres (within 5 %), the as-applied coverage from the reports that got through (lost ones
    interpolated) stays >= 90 % and the energy is there. Flown by ``agridrone simulate`` in a
    process of its own, as an operator runs it. Sortie 1 used to come back 2-4 L short in
    about one run in five (5 of 24 seeds): its one REQUEST_DATA_STREAM was lost and the log
    began partway along the first pass (see
    test_a_lost_stream_request_still_logs_the_whole_sortie)."""
    plan_path, plan = planned
    # 30x, not 100x: what is lost must be the link's 15 %, not reports a loaded machine's
    # ground station could not read in time (a 100x run once kept 59 % of the coverage)
    result = subprocess.run(
        [sys.executable, "-c", "from agridrone.cli import main; main()", "simulate",
         str(plan_path), "--speedup", f"{LOSSY_SPEEDUP:g}", "--loss", "15", "--wind", "5,90",
         "--seed", "3", "--json", "-o", str(tmp_path / "lossy")],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    flown = json.loads(result.stdout)
    sorties = flown["sorties"]
    assert flown["sorties_flown"] == len(plan["sorties"]) and all(s["completed"] for s in sorties)
    assert flown["coverage_pct"] >= 90.0, sorties  # lost position reports are interpolated
    for sortie in sorties:
        assert sortie["liquid_l"] == pytest.approx(sortie["planned_liquid_l"], rel=0.05), sorties
    assert sum(s["energy_wh"] for s in sorties) > 0.8 * sum(s["energy_wh"] for s in plan["sorties"])


def test_a_lost_mission_start_ack_still_logs_the_whole_sortie(planned, monkeypatch):
    """The first MISSION_START's COMMAND_ACK is lost, so the ground station reads on for a
    while (here 1 s: 100 simulated seconds of take-off, transit and spraying) before it sends
    the command again: the log still holds the flight from the take-off and all of the
    liquid (it used to begin after the second ACK, partway along the first pass, and lose
    its litres; on a loaded machine a lost ACK cost the 2 ha sample 2-4 L)."""
    import firmware_bridge.flight as flight

    _, plan = planned
    first_only = {**plan, "sorties": plan["sorties"][:1]}
    command, lost = flight.command, []

    def ack_lost_once(link, cmd, params, **kwargs):
        if cmd == flight.MAV_CMD_MISSION_START and not lost:
            lost.append(cmd)
            link.mav.command_long_send(link.target_system, link.target_component, cmd, 0,
                                       *(tuple(params) + (0.0,) * 7)[:7])
            deadline = time.monotonic() + 1.0
            while (remaining := deadline - time.monotonic()) > 0:
                link.recv(["COMMAND_ACK"], remaining)  # the ACK that is "lost" is read past
        return command(link, cmd, params, **kwargs)

    monkeypatch.setattr(flight, "command", ack_lost_once)
    (log,) = simulate_plan(first_only, SimulateOptions(speedup=SPEEDUP))
    assert lost and log.completed
    assert log.positions[0][3] < 1.0  # the first position logged is on the ground
    applied = _applied(first_only, [log])
    assert applied.liquid_l[0] == pytest.approx(first_only["sorties"][0]["load_l"], rel=0.03)


def test_a_lost_stream_request_still_logs_the_whole_sortie(planned, monkeypatch):
    """The first REQUEST_DATA_STREAM is lost (it has no ACK): the built-in vehicle, whose
    rates start at 0 as SITL's do, sends nothing but HEARTBEAT until asked again. The ground
    station must see the streams flowing before it starts the mission: it used to ask again
    only once the watch had gone STREAM_SILENCE_S without a position, after take-off, and the
    log began partway along the first pass (the lossy-link flight's sortie 1 came back 2-4 L
    short in 5 of 24 runs)."""
    import firmware_bridge.flight as flight

    _, plan = planned
    first_only = {**plan, "sorties": plan["sorties"][:1]}
    request, lost = flight.request_streams, []

    def lost_once(link, rate_hz):
        if not lost:
            lost.append(rate_hz)
            return
        request(link, rate_hz)

    monkeypatch.setattr(flight, "request_streams", lost_once)
    (log,) = simulate_plan(first_only, SimulateOptions(speedup=SPEEDUP))
    assert lost and log.completed
    assert log.positions[0][3] < 1.0  # the first position logged is on the ground
    applied = _applied(first_only, [log])
    assert applied.liquid_l[0] == pytest.approx(first_only["sorties"][0]["load_l"], rel=0.03)


def test_heartbeats_lost_after_the_start_do_not_restart_a_flying_mission(planned, monkeypatch):
    """No HEARTBEAT gets through for 2.5 s (250 simulated seconds of flight) after the
    MISSION_START ACK: the ground station waits for one instead of taking the silence for a
    failed start, whose retry switched the airborne vehicle to GUIDED (a stop mid-air),
    armed it and started the mission again. One GUIDED switch, the whole sortie logged."""
    import firmware_bridge.flight as flight
    from firmware_bridge.link import Link

    _, plan = planned
    first_only = {**plan, "sorties": plan["sorties"][:1]}
    command, recv, set_mode = flight.command, Link.recv, flight.set_mode
    silent_until, modes = [], []

    def started(link, cmd, params, **kwargs):
        result = command(link, cmd, params, **kwargs)
        if cmd == flight.MAV_CMD_MISSION_START and not silent_until:
            silent_until.append(time.monotonic() + 2.5)
        return result

    def heartbeats_lost(link, types, timeout_s):
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = recv(link, types, remaining)
            if not (msg is not None and msg.get_type() == "HEARTBEAT" and silent_until
                    and time.monotonic() < silent_until[0]):
                return msg
        return None

    monkeypatch.setattr(flight, "command", started)
    monkeypatch.setattr(Link, "recv", heartbeats_lost)
    monkeypatch.setattr(flight, "set_mode", lambda link, mode: (modes.append(mode),
                                                                set_mode(link, mode))[1])
    (log,) = simulate_plan(first_only, SimulateOptions(speedup=SPEEDUP))
    assert silent_until and log.completed
    assert modes == [flight.GUIDED]
    applied = _applied(first_only, [log])
    assert applied.liquid_l[0] == pytest.approx(first_only["sorties"][0]["load_l"], rel=0.03)


def test_failsafe_breakpoint_and_resume_plan_the_rest(planned, tmp_path):
    plan_path, plan = planned
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", str(plan_path), "-o", str(tmp_path / "sim"),
                                  "--param", "BATT_LOW_MAH=20000"])
    assert result.exit_code == 1, result.output
    assert "battery failsafe" in result.output
    assert "error: sortie 1 of 2 was cut short" in result.output
    assert (tmp_path / "sim" / "as-applied.png").stat().st_size > 0
    geo = json.loads((tmp_path / "sim" / "as-applied.geojson").read_text())
    assert {"field", "sprayed_area", "spray_track", "flown_track", "breakpoint"} <= {
        f["properties"]["kind"] for f in geo["features"]}
    found = re.search(r"--sortie (\d+) --reached (\d+)", result.output)
    assert found, result.output
    sortie, reached = int(found.group(1)), int(found.group(2))
    assert sortie == 1 and reached > 2

    result = runner.invoke(main, ["resume", str(plan_path), "--sortie", str(sortie),
                                  "--reached", str(reached), "-o", str(tmp_path / "rest")])
    assert result.exit_code == 0, result.output
    rest = json.loads((tmp_path / "rest" / "plan.json").read_text())
    done = remaining_work(plan, sortie, stop_after_item(plan, sortie, reached)).done_spray_m
    frame = field_from_plan(plan).frame
    sprayed_m = sum(float(shapely.LineString(frame.to_local(np.asarray(t))).length)
                    for t in _sprayed_lines(geo))
    assert 0.0 < done <= sprayed_m + 5.0  # the vehicle sprayed at least up to the item reached
    assert rest["metrics"]["spray_m"] == pytest.approx(plan["metrics"]["spray_m"] - done, abs=3.0)
    _assert_disjoint(plan, rest, sortie, reached)


def _sprayed_lines(geo):
    return [f["geometry"]["coordinates"] for f in geo["features"]
            if f["properties"]["kind"] == "spray_track"]


def _spray_lines_local(plan, document):
    field = field_from_plan(plan)
    return [field.frame.to_local(np.asarray(leg["coords"])) for s in document["sorties"]
            for leg in s["legs"] if leg["kind"] == "spray"]


def _assert_disjoint(plan, rest, sortie, reached):
    """No stretch of the new plan's spraying lies on a stretch already sprayed."""
    from missions.mission import build_mission, spray_lines_from_items

    items = build_mission(plan, sortie, autopilot="ardupilot")[0][:reached + 1]
    field = field_from_plan(plan)
    done = [field.frame.to_local(np.asarray(line)) for line in spray_lines_from_items(items)]
    if not done:
        return
    done_area = shapely.union_all([shapely.LineString(d).buffer(0.5) for d in done])
    for line in _spray_lines_local(plan, rest):
        assert shapely.LineString(line).intersection(done_area).length < 1.5


def test_as_applied_counts_only_pump_on_stretches():
    plan_frame = {"lon_0": 74.0, "lat_0": 31.0}
    log = SortieLog(1)
    for k in range(11):  # 10 m steps east along the 31° parallel, 1 s apart
        log.positions.append((float(k), 31.0, 74.0 + k * 10.0 / 95_000.0, 3.0))
    log.pump = [(0.0, 0.0), (2.0, 0.5), (7.0, 0.0)]
    from agridrone.as_applied import _runs, _timeline
    from agridrone.geo import LocalFrame

    times, points, output = _timeline(log, LocalFrame(**plan_frame))
    tracks = _runs(points, output > 0)
    assert len(tracks) == 1
    length = float(np.hypot(*np.diff(tracks[0], axis=0).T).sum())
    assert length == pytest.approx(50.0, rel=0.02)


def test_as_applied_dose_of_the_flown_sorties(calm_flight):
    """The dose from the built-in vehicle's telemetry (pump output, positions, height) through
    the plan's dose raster: the liquid laid matches what the pump delivered, and the flown
    field is dosed about as the plan says."""
    from agridrone.flown_dose import flown_dose

    plan, logs, applied = calm_flight
    field = field_from_plan(plan)
    _, m = flown_dose(logs, field, drone_from_plan(plan), plan["inputs"]["swath_width_m"],
                      plan["rate_l_ha"])
    assert m.liquid_l == pytest.approx(sum(applied.liquid_l), rel=1e-6)
    assert m.liquid_vs_target_pct == pytest.approx(100.0, abs=5.0)
    assert m.within_10_pct >= 85.0, m  # issue 13.7's flight goal
    assert m.above_150_pct <= 1.0, m  # measured 95.1 % within ±10 %, 0.23 % above 1.5×


def test_simulate_writes_the_as_applied_dose_files(planned, tmp_path):
    import rasterio

    plan_path, _ = planned
    result = CliRunner().invoke(main, ["simulate", str(plan_path), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"dose +[\d.]+ L/ha mean \(planned [\d.]+ L/ha\); [\d.]+ % of the area "
                     r"within ±10 %", result.output), result.output
    assert (tmp_path / "as-applied-dose.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(tmp_path / "as-applied-dose.tif") as tif:
        band = tif.read(1, masked=True)
        assert tif.tags(1)["units"] == "L/ha" and 0 < float(band.mean()) < 100
    import zipfile
    with zipfile.ZipFile(tmp_path / "as-applied-TASKDATA.zip") as zf:
        assert any(name.upper().endswith("TASKDATA.XML") for name in zf.namelist())
