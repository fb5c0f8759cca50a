"""Differential MAVLink FTP: the same requests to a live ArduPilot SITL and to the built-in
simulator (sim/ftp_server.py) must get the same answers: ACK or NAK, the NAK's error and errno,
the reply sizes, and the files read back (ResetSessions; open of a missing and of a mission file;
CreateFile, writes and the close of a file with a wrong magic, of a truncated file and of a good
one; CRC32; burst read; an unknown opcode).

One SITL (quad, speedup 1, instance 15) for the module. Skipped (with the reason shown) unless
ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import pytest

from sim.sitl import launch_sitl
from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("compare the simulator's FTP with")

from test_bridge_protocol import spray_mission  # noqa: E402

from firmware_bridge import ftp  # noqa: E402
from firmware_bridge.ftp import FtpClient, FtpError  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.mission_file import decode, encode, file_path  # noqa: E402
from sim.vehicle import SimVehicle  # noqa: E402

UNKNOWN_OPCODE = 20


def answer(client: FtpClient, opcode: int, what: str, **kwargs) -> tuple:
    """(ACK, size, session-free data) or (NAK, error, errno) of one request."""
    try:
        reply = client._request(opcode, what, **kwargs)
    except FtpError as exc:
        return ("NAK", exc.code, str(exc).rsplit(": ", 1)[-1])
    if opcode in (ftp.OP_OPEN_FILE_RO, ftp.OP_CREATE_FILE):
        client.session = reply.session
    return ("ACK", reply.size)


def upload_answers(client: FtpClient, data: bytes) -> list[tuple]:
    """CreateFile, one WriteFile per 239 bytes, TerminateSession: their answers."""
    path = file_path(0)
    out = [answer(client, ftp.OP_CREATE_FILE, "create", data=path.encode())]
    for ofs in range(0, len(data), ftp.DATA_SIZE):
        out.append(answer(client, ftp.OP_WRITE_FILE, "write", offset=ofs,
                          data=data[ofs:ofs + ftp.DATA_SIZE]))
    out.append(answer(client, ftp.OP_TERMINATE_SESSION, "close"))
    return out


def script(link) -> list:
    """The requests, in order, and what came back."""
    client = FtpClient(link, timeout_s=1.0, retries=2)
    good = encode(spray_mission(30), 0)
    out = [answer(client, ftp.OP_RESET_SESSIONS, "reset")]
    out.append(answer(client, ftp.OP_OPEN_FILE_RO, "open", data=b"@MISSION/nothing.dat"))
    out.append(answer(client, ftp.OP_RESET_SESSIONS, "reset"))
    out += upload_answers(client, b"\x00\x01" + good[2:])
    out.append(answer(client, ftp.OP_RESET_SESSIONS, "reset"))
    out += upload_answers(client, good[:-38])
    out.append(answer(client, ftp.OP_RESET_SESSIONS, "reset"))
    out += upload_answers(client, good)
    out.append(answer(client, ftp.OP_RESET_SESSIONS, "reset"))
    data = client.read(file_path(0))
    out.append(("read", [(it.command, it.frame, it.x, it.y, round(it.z, 2), it.param1)
                         for it in decode(data, 0).items[1:]]))
    out.append(("crc", client.crc32(file_path(0)) == ftp.ardupilot_crc32(data)))
    out.append(("fence", decode(client.read(file_path(1)), 1).items))
    out.append(answer(client, UNKNOWN_OPCODE, "unknown opcode"))
    client.reset_sessions()
    return out


@pytest.fixture(scope="module")
def sitl(tmp_path_factory):
    with launch_sitl(BINARY, home=(31.5204, 74.3587, 215.0), speedup=1.0, instance=15,
                     workdir=tmp_path_factory.mktemp("sitl-ftp")) as running:
        yield running


def test_simulator_ftp_answers_as_the_live_sitl_does(sitl):
    link = connect(sitl.address, heartbeat_timeout_s=30.0)
    try:
        on_sitl = script(link)
    finally:
        link.close()
    with SimVehicle(port=0, boot_scale=0.01) as sim:
        link = connect(f"tcp:127.0.0.1:{sim.port}", heartbeat_timeout_s=5.0)
        try:
            on_sim = script(link)
        finally:
            link.close()
    assert on_sim == on_sitl
