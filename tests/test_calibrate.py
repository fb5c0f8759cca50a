"""`agridrone calibrate` on DataFlash logs real ArduPilot SITL wrote (tests/data/logs/, see its
README): SITL flew agridrone's plans for the agras-t10 preset as a worn T10
(tests/data/drones/t10-worn.toml), so its own physics, not agridrone's model, made the
energy. The fit must learn it: a held-out flight of another field predicted within 5 %,
where the preset misses by more; SITL's pack resistance found again; bad logs refused in
one line."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from agridrone.calibrate.logs import read_flights
from agridrone.calibrate.profile_toml import read_calibration
from agridrone.cli import main
from agridrone.drone import load_drone
from sim.sitl_frame import frame_model

LOGS = Path(__file__).parent / "data" / "logs"
TRAIN = [LOGS / "rect-1.BIN", LOGS / "rect-3.BIN"]  # lahore_rect_2ha: a full and a half tank
HOLDOUT = LOGS / "irregular-1.BIN"  # faisalabad_irregular, first sortie
TRUE_DRONE = Path(__file__).parent / "data" / "drones" / "t10-worn.toml"
FLOW = "1.5"  # L/min: the plans' pump flow (10 L/ha, 5 m swath, 5 m/s)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "my-t10.toml"
    result = run("calibrate", *TRAIN, "--drone", "agras-t10", "--flow", FLOW,
                 "--holdout", HOLDOUT, "-o", out)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_a_sitl_log_reads_as_one_flight_with_the_pump_as_planned():
    flights = read_flights(TRAIN[0])
    assert len(flights) == 1
    f = flights[0]
    # the plan's first sortie: 1.60 km of spray at 5 m/s = 320 s of pump (plus SITL's corners)
    assert f.spray_time_s() == pytest.approx(320.0, abs=15.0)
    assert f.alt_m.max() == pytest.approx(3.0, abs=0.3)  # the plan's spray height
    assert 14 * 3.3 < f.voltage_v.min()  # above the 14S pack's cut-off < f.voltage_v.max() <= 58.8 + 0.1


def test_the_held_out_flight_of_another_field_is_predicted_within_5_pct(calibrated):
    out, _ = calibrated
    cal = read_calibration(out)
    (error,) = cal.holdout_error_pct
    (base_error,) = cal_list(out, "holdout_base_error_pct")
    assert abs(error) <= 5.0
    assert abs(base_error) > abs(error) + 5.0  # the preset misses by far more (~ -18 %)


def test_sitls_pack_resistance_is_found(calibrated):
    out, _ = calibrated
    truth = frame_model(load_drone(str(TRUE_DRONE)))["refBatRes"]  # what SITL's pack sags by
    fitted = cal_value(out, "pack_resistance_ohm")
    assert fitted == pytest.approx(truth, rel=0.05)


def test_the_fit_is_printed_with_uncertainties_and_residuals(calibrated):
    _, output = calibrated
    assert "figure of merit" in output and "±" in output
    assert "residuals" in output and "rect-1.BIN#1" in output and "forward" in output
    assert "held-out flights" in output and "irregular-1.BIN#1" in output


def test_the_profile_plans_and_records_its_logs(calibrated, tmp_path):
    out, _ = calibrated
    drone = load_drone(str(out))
    assert drone.name == "my-t10" and drone.published is None
    cal = read_calibration(out)
    assert cal.base == "agras-t10" and cal.logs == ("rect-1.BIN", "rect-3.BIN")
    result = run("plan", "example:lahore_rect_2ha", "--drone", out, "--rate", "10",
                 "-o", tmp_path / "plan")
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan" / "plan.json").read_text())
    preset = run("plan", "example:lahore_rect_2ha", "--drone", "agras-t10", "--rate", "10",
                 "-o", tmp_path / "preset")
    assert preset.exit_code == 0
    preset_plan = json.loads((tmp_path / "preset" / "plan.json").read_text())
    # the worn drone needs more energy per sortie than the preset thinks
    assert plan["sorties"][0]["energy_wh"] > 1.1 * preset_plan["sorties"][0]["energy_wh"]


def test_same_logs_same_file_byte_for_byte(calibrated, tmp_path):
    out, _ = calibrated
    again = tmp_path / "my-t10.toml"
    result = run("calibrate", *TRAIN, "--drone", "agras-t10", "--flow", FLOW,
                 "--holdout", HOLDOUT, "-o", again)
    assert result.exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_drones_lists_calibrated_profiles_with_their_fit(calibrated):
    out, _ = calibrated
    result = run("drones", "--dir", out.parent)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("my-t10"))
    assert "agras-t10" in line and "%" in line and str(out) in line


def cal_list(path: Path, key: str) -> list[float]:
    return list(read_calibration(path).table[key])


def cal_value(path: Path, key: str) -> float:
    return float(read_calibration(path).table[key])


# --- telemetry logs: the same flight as a ground station records it -------------------

def write_tlog(flight, path: Path, *, mav_type: int = 2) -> Path:
    """``flight`` (a FlightLog) as a .tlog of HEARTBEAT, PARAM_VALUE (the pump servo),
    BATTERY_STATUS, GLOBAL_POSITION_INT and SERVO_OUTPUT_RAW, as a ground station records
    them (each packet after its 8-byte microsecond timestamp)."""
    from pymavlink.dialects.v20 import ardupilotmega as mavlink

    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    out = bytearray()

    def put(msg, t_s):
        out.extend(struct.pack(">Q", int(1.7e15 + t_s * 1e6)) + msg.pack(mav))

    put(mavlink.MAVLink_heartbeat_message(mav_type, 3, 128, 3, 4, 3), 0.0)
    put(mavlink.MAVLink_param_value_message(b"SERVO9_FUNCTION", 22.0, 9, 2, 0), 0.0)
    put(mavlink.MAVLink_param_value_message(b"SERVO9_MIN", 1100.0, 9, 2, 1), 0.0)
    for k, t in enumerate(flight.t_s):
        boot_ms = int(10000 + t * 1000)
        if k % 10 == 0:
            put(mavlink.MAVLink_heartbeat_message(mav_type, 3, 128, 3, 4, 3), t)
        put(mavlink.MAVLink_global_position_int_message(
            boot_ms, 314000000, 742000000, 215000 + int(flight.alt_m[k] * 1000),
            int(flight.alt_m[k] * 1000), int(flight.speed_m_s[k] * 100), 0,
            int(-flight.climb_m_s[k] * 100), 0), t)
        volts = [int(flight.voltage_v[k] * 1000)] + [65535] * 9
        put(mavlink.MAVLink_battery_status_message(
            0, 0, 0, 32767, volts, int(flight.current_a[k] * 100), -1, -1, -1), t)
        pump = 1900 if flight.spraying[k] else 1000
        put(mavlink.MAVLink_servo_output_raw_message(
            boot_ms * 1000, 0, 1500, 1500, 1500, 1500, 0, 0, 0, 0, pump, 0, 0, 0, 0, 0, 0, 0), t)
    path.write_bytes(bytes(out))
    return path


def test_a_tlog_of_the_flight_reads_as_the_dataflash_log_does(tmp_path):
    (flight,) = read_flights(TRAIN[0])
    (again,) = read_flights(write_tlog(flight, tmp_path / "rect-1.tlog"))
    assert again.energy_wh() == pytest.approx(flight.energy_wh(), rel=0.005)
    assert again.spray_time_s() == pytest.approx(flight.spray_time_s(), abs=0.5)
    assert np.max(again.alt_m) == pytest.approx(np.max(flight.alt_m), abs=0.01)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("hello, not a log"), "not an ArduPilot DataFlash log"),
    (lambda p: p.write_bytes(TRAIN[0].read_bytes()[:30000]), "no battery messages"),
    (lambda p: p.write_bytes(b""), "empty file"),
])
def test_bad_dataflash_logs_get_one_line(tmp_path, make, message):
    bad = tmp_path / "bad.bin"
    make(bad)
    result = run("calibrate", bad, "--drone", "agras-t10", "-o", tmp_path / "x.toml")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(bad) in lines[0]
    assert message in lines[0]
    assert not (tmp_path / "x.toml").exists()


def test_a_planes_log_is_refused(tmp_path):
    (flight,) = read_flights(TRAIN[1])
    plane = write_tlog(flight, tmp_path / "plane.tlog", mav_type=1)  # MAV_TYPE_FIXED_WING
    result = run("calibrate", plane, "--drone", "agras-t10", "-o", tmp_path / "x.toml")
    assert result.exit_code == 2
    assert "plane.tlog" in result.output and "multirotor" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_broken_ulog_and_an_unknown_kind_are_refused(tmp_path):
    for name, message in (("x.ulg", "not a readable PX4 ULog"), ("x.csv", "unknown log kind")):
        bad = tmp_path / name
        bad.write_text("garbage")
        result = run("calibrate", bad, "-o", tmp_path / "x.toml")
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


def test_out_must_be_a_toml_file(tmp_path):
    result = run("calibrate", *TRAIN, "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and ".toml" in result.output


def test_the_plan_of_the_other_field_with_the_profile_matches_what_sitl_drew(calibrated, tmp_path):
    """The figure a user relies on: plan.json's energy of the held-out field's first sortie,
    planned with the calibrated profile, against the energy SITL's pack gave for that sortie
    (open-circuit, as the planner counts it: V + I R with SITL's own pack resistance)."""
    out, _ = calibrated
    (flight,) = read_flights(HOLDOUT)
    drawn = flight.energy_wh(frame_model(load_drone(str(TRUE_DRONE)))["refBatRes"])
    planned = {}
    for drone in (out, "agras-t10"):
        # the held-out log was flown by a plan made before lead-in/lead-out, at the heading
        # the search picked then (94.6117°; today's pick for this field is 57.0°)
        result = run("plan", "example:faisalabad_irregular", "--drone", drone, "--rate", "10",
                     "--no-leads", "--heading", "94.6117", "-o", tmp_path / Path(str(drone)).stem)
        assert result.exit_code == 0, result.output
        plan = json.loads((tmp_path / Path(str(drone)).stem / "plan.json").read_text())
        planned[drone] = plan["sorties"][0]["energy_wh"]
    assert planned[out] == pytest.approx(drawn, rel=0.05)
    assert abs(planned["agras-t10"] - drawn) > abs(planned[out] - drawn)


def test_a_log_without_current_is_refused(tmp_path):
    """PX4's SIH simulator and packs without a current sensor log the voltage only."""
    import dataclasses

    (flight,) = read_flights(TRAIN[1])
    silent = dataclasses.replace(flight, current_a=np.zeros_like(flight.current_a))
    log = write_tlog(silent, tmp_path / "no-current.tlog")
    result = run("calibrate", log, "--drone", "agras-t10", "-o", tmp_path / "x.toml")
    assert result.exit_code == 2 and "current reads zero" in result.output, result.output
