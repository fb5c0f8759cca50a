"""Install a Lua script on an ArduPilot vehicle: MAVLink FTP into its scripts folder, checked
by the vehicle's CRC-32 of the file, and scripting switched on (SCR_ENABLE).

Where the scripts live (ArduPilot libraries/AP_Scripting/lua_common_defs.h): boards with an
SD card read ``/APM/scripts``; SITL reads ``./scripts`` in its working folder, and its
filesystem (AP_Filesystem_posix.cpp ``map_filename``) takes FTP paths relative to that folder,
so there the FTP path is ``scripts/NAME``. ArduPilot loads scripts when scripting starts (at
boot): a script written to a running vehicle, or SCR_ENABLE switched from 0 to 1, takes
effect after a reboot. Firmware built without scripting has no SCR_ENABLE.
"""

from __future__ import annotations

from dataclasses import dataclass

from agridrone.errors import AgridroneError
from firmware_bridge.ftp import FtpClient, ardupilot_crc32
from firmware_bridge.link import Link
from firmware_bridge.params import read_param, set_params

BOARD_SCRIPTS = "/APM/scripts"
SITL_SCRIPTS = "scripts"


@dataclass(frozen=True)
class ScriptInstall:
    """A script on the vehicle: its FTP ``path``; ``written`` False when the same file (same
    CRC-32) was there already; ``reboot_needed`` when the vehicle runs it only after a
    reboot (SCR_ENABLE was 0, or the file is new to a running scripting engine)."""

    path: str
    written: bool
    reboot_needed: bool


def scripts_folder(sitl: bool) -> str:
    """The FTP path of the vehicle's scripts folder (SITL's, or a board's SD card)."""
    return SITL_SCRIPTS if sitl else BOARD_SCRIPTS


def install_script(link: Link, name: str, data: bytes, *, sitl: bool, timeout_s: float = 1.0,
                   retries: int = 3) -> ScriptInstall | None:
    """Write ``data`` as ``name`` into the scripts folder of the ArduPilot behind ``link``
    (``sitl``: it is SITL, see the module text), verify it by the vehicle's CRC-32 and set
    SCR_ENABLE = 1. Returns None, touching nothing, when the vehicle has no SCR_ENABLE (no
    scripting in its firmware). Raises AgridroneError when FTP fails or the CRC differs."""
    enabled = read_param(link, "SCR_ENABLE", timeout_s=timeout_s, retries=retries)
    if enabled is None:
        return None
    folder = scripts_folder(sitl)
    path = f"{folder}/{name}"
    wanted = ardupilot_crc32(data)
    client = FtpClient(link, timeout_s=timeout_s, retries=retries)
    try:
        present = client.crc32(path) == wanted
    except AgridroneError:
        present = False  # no such file yet
    if not present:
        client.mkdir(folder)
        client.write(path, data)
        got = client.crc32(path)
        if got != wanted:
            raise AgridroneError(f"{path} on the vehicle has CRC-32 {got:#010x}, not the "
                                 f"{wanted:#010x} written: the script is damaged, not loaded")
    was_off = round(enabled) != 1
    if was_off:
        set_params(link, {"SCR_ENABLE": 1.0}, timeout_s=timeout_s, retries=retries)
    return ScriptInstall(path, written=not present, reboot_needed=was_off or not present)
