"""MAVLink 2 signing against a real ArduPilot SITL (its own instance: the key persists in its
EEPROM). Once ``agridrone signing setup`` has installed a key, ArduPilot drops unsigned
messages on every link but its first (TCP 5760, the trusted "USB" channel), so the tests talk
to its second port: an unsigned upload ends at once with one clear line, a signed one loads
and reads back, a wrong key gets one clear line; the key file is private and never printed.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import json
import os
import stat
import time

import pytest
from click.testing import CliRunner

from sim.sitl import launch_sitl
from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("sign against")

from pymavlink import mavutil  # noqa: E402

from agridrone.cli import main  # noqa: E402
from firmware_bridge.signing import read_key  # noqa: E402
from missions.formats import read_waypoints  # noqa: E402
from missions.mission import build_mission  # noqa: E402

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
SPEEDUP = 10.0
LINK = ["--heartbeat-timeout", "30", "--quiet", "--force"]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    result = run("plan", FIELD, "--max-items", "60", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out / "plan.json"


@pytest.fixture(scope="module")
def signed_sitl(plan_file, tmp_path_factory):
    """A SITL with a key installed by ``agridrone signing setup`` on its first port; yields
    (sitl, key file, setup output)."""
    folder = tmp_path_factory.mktemp("signing")
    lon, lat = json.loads(plan_file.read_text())["station"]
    key_file = folder / "vehicle.key"
    with launch_sitl(BINARY, home=(lat, lon, 215.0), speedup=SPEEDUP, workdir=folder) as sitl:
        result = run("signing", "setup", "--connect", sitl.address, "--key", str(key_file),
                     "--heartbeat-timeout", "30")
        assert result.exit_code == 0, result.output
        yield sitl, key_file, result.output


def param_answered(address: str, key: bytes | None, wait_s: float = 3.0) -> bool:
    """Whether the vehicle answers a PARAM_REQUEST_READ sent (signed with ``key``, or
    unsigned) on ``address``."""
    conn = mavutil.mavlink_connection(address, source_system=254, source_component=191)
    try:
        if key is not None:
            conn.setup_signing(key, sign_outgoing=True)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            conn.mav.param_request_read_send(1, 1, b"SYSID_THISMAV", -1)
            if conn.recv_match(type="PARAM_VALUE", blocking=True, timeout=0.5) is not None:
                return True
        return False
    finally:
        conn.close()


def test_key_file_is_private_and_never_printed(signed_sitl):
    _, key_file, output = signed_sitl
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key_hex = read_key(key_file).hex()
    assert key_hex not in output and key_hex.upper() not in output
    assert "signing set up" in output


def test_vehicle_drops_unsigned_messages_on_its_second_port(signed_sitl):
    sitl, key_file, _ = signed_sitl
    assert not param_answered(sitl.monitor_address, None)
    assert param_answered(sitl.monitor_address, read_key(key_file))
    assert param_answered(sitl.address, None)  # the first link is trusted: unsigned answered


def test_unsigned_upload_is_refused_at_once_in_one_line(signed_sitl, plan_file):
    sitl, _, _ = signed_sitl
    started = time.monotonic()
    result = run("upload", str(plan_file), "--connect", sitl.monitor_address, *LINK)
    assert time.monotonic() - started < 15.0
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: the vehicle signs its MAVLink messages (signing is set up on it) and ignores "
        "unsigned commands: give its key with --key FILE"]


def test_signed_upload_loads_and_reads_back(signed_sitl, plan_file, tmp_path):
    sitl, key_file, _ = signed_sitl
    result = run("upload", str(plan_file), "--connect", sitl.monitor_address,
                 "--key", str(key_file), *LINK)
    assert result.exit_code == 0, result.output
    target = tmp_path / "onboard.waypoints"
    result = run("download", "-o", str(target), "--connect", sitl.monitor_address,
                 "--key", str(key_file), "--quiet")
    assert result.exit_code == 0, result.output
    plan = json.loads(plan_file.read_text())
    sent = build_mission(plan, 1, autopilot="ardupilot", max_items=60)[0]
    got = read_waypoints(target).mission
    assert len(got) == len(sent)
    assert [(i.command, i.x, i.y) for i in got[1:]] == [(i.command, i.x, i.y) for i in sent[1:]]
    assert read_key(key_file).hex() not in result.output


def test_wrong_key_gets_one_clear_line(signed_sitl, plan_file, tmp_path):
    sitl, _, _ = signed_sitl
    wrong = tmp_path / "other.key"
    assert run("signing", "keygen", "--key", str(wrong)).exit_code == 0
    result = run("upload", str(plan_file), "--connect", sitl.monitor_address,
                 "--key", str(wrong), *LINK)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: the vehicle's messages fail the signature check: --key is not the key "
        "installed on the vehicle"]


def test_resume_reads_the_signed_vehicle_only_with_the_key(signed_sitl, plan_file, tmp_path):
    sitl, key_file, _ = signed_sitl
    base = ["resume", str(plan_file), "--connect", sitl.monitor_address, "-o", str(tmp_path)]
    unsigned = run(*base)
    assert unsigned.exit_code == 2
    assert "the vehicle signs its MAVLink messages" in unsigned.stderr
    signed = run(*base, "--key", str(key_file))
    # the vehicle answers: its MISSION_CURRENT is read (a fresh mission has nothing to resume)
    assert "signs its MAVLink messages" not in signed.stderr
    assert "no vehicle HEARTBEAT" not in signed.stderr
    assert "signature" not in signed.stderr
    assert f"vehicle {sitl.monitor_address}: last reached mission item" in signed.output
