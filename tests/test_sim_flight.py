"""Flight of the simulated copter, driven directly (no sockets): the spray mission of transcript
14 and the battery failsafe of transcript 16."""

from __future__ import annotations

import pytest
import transcripts

from sim.flight import AUTO, GUIDED, IN_AIR, ON_GROUND, RTL, FlightController
from sim.mission_server import item_from_message
from sim.params import COPTER_PARM, SPRAYER_PARM, ParamStore

HOME = (31.5204, 74.3587, 215.1)
DT = 0.02

needs_transcripts = pytest.mark.skipif(
    not transcripts.available(), reason=f"no transcripts in {transcripts.transcript_dir()}")


def spray_mission():
    """The 20-item mission of transcript 14 (takeoff 3 m, 5 m/s, 4 passes with DO_SPRAYER, RTL)."""
    header = transcripts.load("14-flight-spray").header
    return [item_from_message(transcripts.to_message(transcripts.Line(
        0.0, transcripts.GCS_TO_VEHICLE, "MISSION_ITEM_INT",
        {"target_system": 1, "target_component": 1, "mission_type": 0, **it})))
        for it in header["uploaded_items"]]


class Run:
    """A flight controller with recorders for its STATUSTEXTs and MISSION_ITEM_REACHED."""

    def __init__(self, items, **params):
        self.params = ParamStore((COPTER_PARM, SPRAYER_PARM))
        for name, value in params.items():
            self.params.set(name, value)
        self.now = 0.0
        self.texts: list[str] = []
        self.reached: list[int] = []
        self.fc = FlightController(self.params, HOME, lambda s, t: self.texts.append(t),
                                   lambda: items, self.reached.append)
        self.trace: list[tuple] = []

    def start(self):
        assert self.fc.set_mode(GUIDED)
        self.fc.arm()
        assert self.fc.start_mission(0)

    def fly(self, max_s: float = 400.0):
        while self.fc.armed and self.now < max_s:
            self.now += DT
            self.fc.step(DT, self.now)
            b = self.fc.body
            self.trace.append((round(self.now, 2), b.north, b.east, b.up, self.fc.mission_status(),
                               self.fc.sprayer_outputs(), self.fc.ground_speed(), self.fc.mode))


@pytest.fixture(scope="module")
def spray_run():
    run = Run(spray_mission())
    run.start()
    run.fly()
    return run


@needs_transcripts
def test_mission_progress_matches_arducopter(spray_run):
    script = transcripts.load("14-flight-spray")
    recorded_reached = [ln.fields["seq"] for ln in script.vehicle_lines({"MISSION_ITEM_REACHED"})]
    assert spray_run.reached == recorded_reached
    seqs = []
    for *_, status, _, _, _ in spray_run.trace:
        if not seqs or seqs[-1] != status[0]:
            seqs.append(status[0])
    recorded = []
    for ln in script.vehicle_lines({"MISSION_CURRENT"}):
        if ln.fields["mission_state"] != 2 and (not recorded or recorded[-1] != ln.fields["seq"]):
            recorded.append(ln.fields["seq"])
    assert seqs == recorded[1:]  # the recording starts with the pre-upload seq 0


@needs_transcripts
def test_mission_texts_follow_arducopter(spray_run):
    assert spray_run.texts[:4] == ["Mission: 1 Takeoff", "Mission: 1 Takeoff",
                                   "Mission: 2 ChangeSpeed", "Mission: 3 WP"]
    assert "Reached command #3" in spray_run.texts
    assert spray_run.texts[-1] == "Disarming motors"


@needs_transcripts
def test_lands_at_home_disarmed_and_mission_complete(spray_run):
    fc = spray_run.fc
    assert not fc.armed and fc.landed_state == ON_GROUND
    _, north, east, up, status, *_ = spray_run.trace[-1]
    assert abs(north) < 1.0 and abs(east) < 1.0 and up == 0.0
    assert status == (0, 19, 5, 1)


@needs_transcripts
def test_pump_follows_ground_speed_only_while_sprayer_on(spray_run):
    first_on = next(i for i, row in enumerate(spray_run.trace) if row[5].get(9, 0) > 1100)
    assert all(row[5] == {9: 0, 10: 0} for row in spray_run.trace[: first_on - 10])
    steady = [row for row in spray_run.trace if row[5].get(9, 0) > 1100 and abs(row[6] - 5.0) < 0.01]
    assert steady, "never sprayed at the commanded 5 m/s"
    assert all(row[5] == {9: 1500, 10: 1300} for row in steady)
    for row in spray_run.trace:
        pump, speed = row[5].get(9, 0), row[6]
        if pump > 1100:
            assert pump == pytest.approx(1100 + 800 * min(speed * 0.1, 1.0), abs=80)


@needs_transcripts
def test_speed_and_climb_limits_hold(spray_run):
    rows = spray_run.trace
    assert max(r[6] for r in rows) <= 10.0 + 1e-9  # WPNAV_SPEED 1000 cm/s (RTL)
    pass_speeds = [r[6] for r in rows if r[7] == AUTO and r[4][0] in (5, 9, 13, 17)]
    assert max(pass_speeds) <= 5.0 + 1e-9  # DO_CHANGE_SPEED 5 m/s
    climbs = [(b[3] - a[3]) / DT for a, b in zip(rows, rows[1:], strict=False)]
    assert max(climbs) <= 2.5 + 1e-6 and min(climbs) >= -1.5 - 1e-6


@needs_transcripts
def test_battery_drains_by_its_own_physics(spray_run):
    battery = spray_run.fc.battery
    assert 0 < battery.consumed_mah < battery.capacity_ah * 1000
    assert battery.remaining_pct() < 100
    assert battery.liquid_l < spray_run.fc.drone.tank_l  # the pump drew from the tank


@needs_transcripts
def test_same_inputs_fly_the_same_trajectory():
    runs = []
    for _ in range(2):
        run = Run(spray_mission())
        run.start()
        run.fly(max_s=40.0)
        runs.append(run.trace)
    assert runs[0] == runs[1]


@needs_transcripts
def test_battery_failsafe_returns_home_and_keeps_sprayer_state():
    run = Run(spray_mission(), BATT_FS_LOW_ACT=2)
    run.params.set("BATT_LOW_MAH", run.params.value("BATT_CAPACITY") - 500)
    run.start()
    run.fly()
    assert "Battery Failsafe" in run.texts
    assert any(t.startswith("Battery 1 is low") for t in run.texts)
    modes = [row[7] for row in run.trace]
    assert RTL in modes and modes[-1] == RTL
    assert run.fc.failsafe and run.fc.failsafe_reasons()[-1] == "Battery failsafe"
    _, north, east, up, status, *_ = run.trace[-1]
    assert abs(north) < 1.0 and abs(east) < 1.0 and up == 0.0
    seq, _, state, _ = status
    assert 1 < seq < 19 and state == 4  # the breakpoint: where the mission was interrupted


def test_guided_takeoff_climbs_and_holds():
    run = Run([])
    assert run.fc.set_mode(GUIDED)
    run.fc.arm()
    assert run.fc.takeoff(10.0)
    run.fly(max_s=20.0)
    assert run.fc.landed_state == IN_AIR and run.fc.body.up == pytest.approx(10.0, abs=0.35)


def test_holding_a_height_draws_a_steady_current():
    """At its height the copter holds still: the current stays put from one 20 ms step to
    the next. The bare braking curve sqrt(2 a |dz|) has no linear part at the target and
    made the vertical speed flip ±0.01 m/s every step, ±1 m/s² of thrust, a current of
    147 / 119 A in turn on the 2 ha sample's drone, which 5 Hz battery reports (every tenth
    step) sampled in one phase only: a sortie's logged energy 10 % high or low by chance."""
    run = Run([])
    assert run.fc.set_mode(GUIDED)
    run.fc.arm()
    assert run.fc.takeoff(10.0)
    run.fly(max_s=25.0)
    currents = []
    for _ in range(100):
        run.now += DT
        run.fc.step(DT, run.now)
        currents.append(run.fc.battery.current_a)
    assert run.fc.landed_state == IN_AIR and currents[0] > 0
    assert max(currents) - min(currents) < 0.01 * currents[0]
