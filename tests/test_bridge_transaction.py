"""All-or-nothing uploads on the built-in simulator, for the faults real SITL cannot make: a
Ctrl-C at any point of an FTP or item upload or of its read-back leaves the vehicle with an
empty mission (read back) and says so; a vehicle killed mid-upload, mid-download or mid-flight (`simulate --connect`) ends the command
within seconds with one ``error:`` line, exit 2 and no flood of pymavlink's "EOF on TCP socket";
a file that is not a mission is refused before anything is sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_bridge_protocol import spray_mission
from test_transfer import CLI_FAST, FAST, as_stored, store_old_mission, stored

from agridrone.cli import main
from agridrone.errors import AgridroneError
from firmware_bridge.link import connect
from firmware_bridge.transfer import load
from sim.faults import Faults
from sim.vehicle import SimVehicle

ROOT = Path(__file__).resolve().parents[1]
FIELD = ROOT / "agridrone" / "data" / "fields" / "lahore_rect_2ha.geojson"
DEAD_LINK_LIMIT_S = 15.0


@pytest.fixture
def vehicle():
    with SimVehicle(port=0, boot_scale=0.01) as sim:
        yield sim


@pytest.fixture
def link(vehicle):
    conn = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=5.0)
    yield conn
    conn.close()


def interrupt_at(phase: str, done_at: int):
    """A progress callback that presses Ctrl-C once ``phase`` reaches ``done_at`` items."""
    def progress(current: str, done: int, _total: int) -> None:
        if current == phase and done >= done_at:
            raise KeyboardInterrupt
    return progress


@pytest.mark.parametrize("transfer, phase", [("items", "items upload"),
                                             ("items", "items verify"),
                                             ("ftp", "ftp upload"),
                                             ("ftp", "ftp verify")])
def test_ctrl_c_anywhere_leaves_an_empty_mission_and_says_so(vehicle, link, transfer, phase):
    store_old_mission(vehicle)
    with pytest.raises(AgridroneError) as caught:
        load(link, spray_mission(300), transfer=transfer, progress=interrupt_at(phase, 100),
             **FAST)
    message = str(caught.value)
    assert message.startswith("mission upload interrupted (Ctrl-C)") and "\n" not in message
    assert "mission was cleared (count 0 read back)" in message
    assert stored(vehicle) == []


def test_without_ctrl_c_the_same_upload_is_complete(vehicle, link):
    store_old_mission(vehicle)
    items = spray_mission(300)
    load(link, items, transfer="items", progress=interrupt_at("never", 0), **FAST)
    assert stored(vehicle) == as_stored(items)


def test_vehicle_killed_mid_upload_ends_in_seconds_saying_the_mission_is_in_doubt(vehicle, link):
    def kill(phase: str, done: int, _total: int) -> None:
        if phase == "items upload" and done >= 50:
            vehicle.stop()

    started = time.monotonic()
    with pytest.raises(AgridroneError) as caught:
        load(link, spray_mission(300), transfer="items", progress=kill, **FAST)
    assert time.monotonic() - started < DEAD_LINK_LIMIT_S
    message = str(caught.value)
    assert "lost" in message and "half-written mission" in message and "\n" not in message


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    result = CliRunner().invoke(main, ["plan", str(FIELD), "--swath-width", "12", "-o",
                                       str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_a_file_that_is_not_a_mission_is_refused_before_anything_is_sent(vehicle, plan_dir):
    store_old_mission(vehicle)
    before = stored(vehicle)
    result = CliRunner().invoke(main, ["upload", str(plan_dir / "coverage.geojson"),
                                       "--connect", f"tcp:127.0.0.1:{vehicle.port}", *CLI_FAST])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: coverage.geojson holds no mission items: it is not a mission (give plan.json, "
        "a .plan or a .waypoints file); nothing was sent"]
    assert stored(vehicle) == before


@pytest.mark.parametrize("as_json", [False, True])
def test_dead_link_ends_upload_with_one_error_line_and_exit_2(plan_dir, as_json):
    # killed once 10 items are stored; a slow link (50 ms each way) keeps the upload going
    with SimVehicle(port=0, boot_scale=0.01, faults=Faults(latency_s=0.05)) as sim:
        command = ["upload", str(plan_dir / "plan.json"), "--sortie", "1", "--transfer", "items",
                   "--force",
                   "--connect", f"tcp:127.0.0.1:{sim.port}", *CLI_FAST,
                   *(["--json"] if as_json else [])]
        code, out, err, elapsed = run_and_kill(command, sim, _items_arrived(10))
    assert code == 2, (out, err)
    assert elapsed < DEAD_LINK_LIMIT_S + 5
    assert "EOF on TCP socket" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len([line for line in lines if line.startswith("error:")]) == 1
    assert "lost" in err
    if as_json:
        assert out.strip() == "" or json.loads(out)


def run_and_kill(command: list[str], vehicle: SimVehicle, when, after_s: float = 0.0
                 ) -> tuple[int, str, str, float]:
    """Run the CLI ``command`` in a subprocess and stop ``vehicle`` ``after_s`` seconds after
    ``when(vehicle)`` first holds; its exit code, stdout, stderr and wall seconds."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "agridrone", *command], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def kill() -> None:
        while process.poll() is None and not vehicle.call(when):
            time.sleep(0.02)
        time.sleep(after_s)
        vehicle.stop()

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    out, err = process.communicate(timeout=DEAD_LINK_LIMIT_S + 60)
    killer.join(timeout=5.0)
    return process.returncode, out, err, time.monotonic() - started


def _spoke(sim: SimVehicle) -> bool:
    return sim._gcs_spoke


def _items_arrived(count: int):
    return lambda sim: len(sim.missions.lists[0]) >= count


def assert_one_error_line(code: int, out: str, err: str, elapsed: float, limit_s: float) -> None:
    assert code == 2, (out, err)
    assert elapsed < limit_s
    assert "EOF on TCP socket" not in out + err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    assert len(err.splitlines()) <= 3  # the error line (progress bars are hidden by --quiet)


def test_dead_link_ends_download_with_one_error_line(tmp_path):
    with SimVehicle(port=0, boot_scale=0.01, faults=Faults(latency_s=0.2)) as sim:
        sim.store_mission(0, [it for it in sim.missions.lists[0]] * 400)
        code, out, err, elapsed = run_and_kill(
            ["download", "-o", str(tmp_path / "got.waypoints"), "--transfer", "items", "--connect",
             f"tcp:127.0.0.1:{sim.port}", "--quiet", *CLI_FAST], sim, _spoke, 1.5)
    assert_one_error_line(code, out, err, elapsed, 5.0 + DEAD_LINK_LIMIT_S)
    assert "lost" in err


def test_dead_link_ends_simulate_connect_with_one_error_line(plan_dir):
    with SimVehicle(port=0, speedup=20, boot_scale=0.01) as sim:
        code, out, err, elapsed = run_and_kill(
            ["simulate", str(plan_dir / "plan.json"), "--connect", f"tcp:127.0.0.1:{sim.port}",
             "--speedup", "20", "-o", str(plan_dir / "sim-out")], sim, _spoke, 4.0)
    assert_one_error_line(code, out, err, elapsed, 10.0 + DEAD_LINK_LIMIT_S)
    assert "lost: the vehicle closed the connection" in err


def test_booting_vehicle_is_waited_for_before_anything_is_sent():
    # ArduCopter SITL while it reports MAV_STATE_BOOT: MISSION_COUNT gets NO_SPACE ("Only 0
    # items are supported") and an FTP mission is acknowledged and forgotten
    with SimVehicle(port=0, boot_scale=0.5) as sim:
        started = time.monotonic()
        conn = connect(f"tcp:127.0.0.1:{sim.port}", heartbeat_timeout_s=5.0)
        try:
            assert time.monotonic() - started >= 1.0  # BOOT lasts 3 s x 0.5 here
            items = spray_mission(60)
            assert load(conn, items, **FAST).path == "ftp"
            assert stored(sim) == as_stored(items)
        finally:
            conn.close()


@pytest.mark.parametrize("transfer, answer", [("items", "NO_SPACE"), ("ftp", "holds 1 items")])
def test_a_booting_vehicle_refuses_missions_as_sitl_does(transfer, answer, monkeypatch):
    import firmware_bridge.link

    monkeypatch.setattr(firmware_bridge.link, "_wait_until_booted", lambda link, timeout_s: None)
    with SimVehicle(port=0, boot_scale=2.0) as sim:
        conn = connect(f"tcp:127.0.0.1:{sim.port}", heartbeat_timeout_s=5.0)
        try:
            with pytest.raises(AgridroneError, match=answer):
                load(conn, spray_mission(20), transfer=transfer, **FAST)
        finally:
            conn.close()
