"""ArduPilot parameters on the vehicle: set them and read them back (the values themselves
are derived in :mod:`missions.vehicle_params`)."""

from __future__ import annotations

import struct
import time

from agridrone.errors import AgridroneError
from firmware_bridge.link import Link

INTEGER_PARAM_TYPES = {1, 2, 3, 4, 5, 6, 7, 8}
SPRAY_FAMILY = ("SPRAY_PUMP_RATE", "SPRAY_SPEED_MIN", "SPRAY_PUMP_MIN", "SPRAY_SPINNER")


def _float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _read(link: Link, name: str, timeout_s: float, retries: int):
    for _ in range(retries + 1):
        link.mav.param_request_read_send(link.target_system, link.target_component,
                                         name.encode(), -1)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["PARAM_VALUE"], remaining)
            if msg is not None and msg.param_id == name:
                return msg
    return None


def read_param(link: Link, name: str, *, timeout_s: float = 1.0, retries: int = 3
               ) -> float | None:
    """The vehicle's value of parameter ``name``, or None when it has no such parameter
    (ArduPilot does not answer unknown names) within ``retries`` + 1 tries of ``timeout_s``."""
    msg = _read(link, name, timeout_s, retries)
    return None if msg is None else float(msg.param_value)


def _write(link: Link, name: str, value: float, param_type: int, timeout_s: float,
           retries: int):
    for _ in range(retries + 1):
        link.mav.param_set_send(link.target_system, link.target_component, name.encode(),
                                value, param_type)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["PARAM_VALUE"], remaining)
            if msg is not None and msg.param_id == name and _matches(msg, value):
                return msg
    return None


def _matches(msg, value: float) -> bool:
    if msg.param_type in INTEGER_PARAM_TYPES:
        return round(msg.param_value) == round(value)
    return abs(msg.param_value - _float32(value)) <= 1e-6 * max(1.0, abs(value))


def set_params(link: Link, values: dict[str, float], *, timeout_s: float = 1.0,
               retries: int = 3) -> dict[str, float]:
    """Set each parameter, then read it back; return {name: value the vehicle now holds}.

    Each name is first read to learn its type (ArduPilot does not answer names it lacks),
    then set with that type and confirmed by the vehicle's PARAM_VALUE. ``*_ENABLE``
    parameters go first because they create others (SPRAY_ENABLE creates SPRAY_*). Raises
    AgridroneError naming every parameter the vehicle lacks or did not take, after setting
    all the others; when SPRAY_ENABLE took but SPRAY_* are missing, says the firmware needs a
    reboot first. ``timeout_s`` seconds per try, ``retries`` more tries.
    """
    if link.autopilot != "ardupilot":
        raise AgridroneError(f"these are ArduPilot parameters; the vehicle runs {link.autopilot}")
    order = sorted(values, key=lambda name: (not name.endswith("_ENABLE"), name))
    confirmed: dict[str, float] = {}
    missing: list[str] = []
    refused: list[str] = []
    for name in order:
        current = _read(link, name, timeout_s, retries)
        if current is None:
            missing.append(name)
            continue
        answer = _write(link, name, values[name], current.param_type, timeout_s, retries)
        if answer is None:
            refused.append(name)
            continue
        confirmed[name] = answer.param_value
    problems = []
    spray_missing = [name for name in missing if name in SPRAY_FAMILY]
    if spray_missing and confirmed.get("SPRAY_ENABLE") == 1:
        problems.append(
            f"SPRAY_ENABLE=1 is set but {', '.join(spray_missing)} do not exist yet: this "
            "firmware creates them only at boot - reboot the vehicle and run the command again")
        missing = [name for name in missing if name not in SPRAY_FAMILY]
    if missing:
        problems.append(f"the vehicle has no parameter {', '.join(missing)}")
    if refused:
        problems.append(f"the vehicle did not confirm the new value of {', '.join(refused)}")
    if problems:
        done = f"{len(confirmed)} of {len(values)} parameters set and read back"
        raise AgridroneError(f"{'; '.join(problems)} ({done})")
    return confirmed
