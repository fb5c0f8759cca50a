"""PX4 parameters on the vehicle: set them and read them back (the values are derived in
:mod:`missions.px4_params`).

PX4's parameter protocol sends INT32 values bytewise: the four bytes of the int in the float
field of PARAM_SET / PARAM_VALUE (MAV_PROTOCOL_CAPABILITY_PARAM_ENCODE_BYTEWISE), REAL32 as
floats. PX4 answers PARAM_SET with PARAM_VALUE holding the value it keeps.
"""

from __future__ import annotations

import struct
import time

from agridrone.errors import AgridroneError
from firmware_bridge.link import Link
from missions.px4_params import flight_params, pwm_range_names

MAV_PARAM_TYPE_INT32 = 6
MAV_PARAM_TYPE_REAL32 = 9

def _int_as_float(value: int) -> float:
    return struct.unpack("<f", struct.pack("<i", int(value)))[0]


def _float_as_int(value: float) -> int:
    return struct.unpack("<i", struct.pack("<f", value))[0]


def decode(msg) -> float:
    """The value of a PX4 PARAM_VALUE: INT32 unpacked from its bytes, REAL32 as sent."""
    if msg.param_type == MAV_PARAM_TYPE_INT32:
        return float(_float_as_int(msg.param_value))
    return float(msg.param_value)


def _name(msg) -> str:
    return msg.param_id.rstrip("\x00") if isinstance(msg.param_id, str) else str(msg.param_id)


def _exchange(link: Link, send, name: str, timeout_s: float, retries: int, accept=None):
    for _ in range(retries + 1):
        send()
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["PARAM_VALUE"], remaining)
            if msg is not None and _name(msg) == name and (accept is None or accept(msg)):
                return msg
    return None


def read_param(link: Link, name: str, *, timeout_s: float = 1.0, retries: int = 3):
    """The vehicle's PARAM_VALUE for ``name``, or None when it does not answer."""
    def send():
        link.mav.param_request_read_send(link.target_system, link.target_component,
                                         name.encode(), -1)
    return _exchange(link, send, name, timeout_s, retries)


def _same(msg, value: float) -> bool:
    got = decode(msg)
    if msg.param_type == MAV_PARAM_TYPE_INT32:
        return round(got) == round(value)
    wanted = struct.unpack("<f", struct.pack("<f", value))[0]
    return abs(got - wanted) <= 1e-6 * max(1.0, abs(value))


def set_px4_params(link: Link, values: dict[str, float], *, optional: frozenset[str] = frozenset(),
                   timeout_s: float = 1.0, retries: int = 3) -> dict[str, float]:
    """Set each parameter on a PX4 vehicle and read it back; return {name: value it holds}.

    Names are read first to learn their type; PWM_MAIN_FUNCn go first. Names in ``optional``
    may be absent (PX4 SITL's simulated outputs have no PWM_MAIN_MIN/MAX: their range is fixed
    at 1000-2000 µs, the pump's). Raises AgridroneError naming every other parameter the
    vehicle lacks or did not take, after setting all the others.
    """
    if link.autopilot != "px4":
        raise AgridroneError(f"these are PX4 parameters; the vehicle runs {link.autopilot}")
    order = sorted(values, key=lambda name: (not name.startswith("PWM_MAIN_FUNC"), name))
    confirmed: dict[str, float] = {}
    missing: list[str] = []
    refused: list[str] = []
    for name in order:
        # an optional name that does not answer the first time is taken as absent
        current = read_param(link, name, timeout_s=timeout_s,
                             retries=0 if name in optional else retries)
        if current is None:
            if name not in optional:
                missing.append(name)
            continue
        kind = current.param_type
        wire = _int_as_float(round(values[name])) if kind == MAV_PARAM_TYPE_INT32 \
            else float(values[name])

        def send(name=name, wire=wire, kind=kind):
            link.mav.param_set_send(link.target_system, link.target_component, name.encode(),
                                    wire, kind)
        answer = _exchange(link, send, name, timeout_s, retries,
                           accept=lambda msg, name=name: _same(msg, values[name]))
        if answer is None:
            refused.append(name)
            continue
        readback = read_param(link, name, timeout_s=timeout_s, retries=retries)
        if readback is None or not _same(readback, values[name]):
            refused.append(name)
            continue
        confirmed[name] = decode(readback)
    problems = []
    if missing:
        problems.append(f"the vehicle has no parameter {', '.join(missing)}")
    if refused:
        problems.append(f"the vehicle did not confirm the new value of {', '.join(refused)}")
    if problems:
        raise AgridroneError(f"{'; '.join(problems)} ({len(confirmed)} of {len(values)} PX4 "
                             "parameters set and read back)")
    return confirmed


def set_plan_params(link: Link, plan: dict, *, extra: dict[str, float] | None = None,
                    fence_action: str = "rtl", timeout_s: float = 1.0,
                    retries: int = 3) -> dict[str, float]:
    """Set and read back every PX4 parameter ``plan`` needs (:func:`flight_params`), then
    ``extra`` (the operator's own, which win); return {name: value the vehicle holds}."""
    values = {**flight_params(plan, fence_action=fence_action), **(extra or {})}
    return set_px4_params(link, values, optional=pwm_range_names(values), timeout_s=timeout_s,
                          retries=retries)
