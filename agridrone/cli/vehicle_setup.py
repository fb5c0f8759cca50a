"""Set a connected vehicle up for a plan's sortie: the parameters of
:mod:`missions.vehicle_params` (with the resting curve of the vehicle's own pack), set and
read back, and on ArduPilot the Lua pump guard. Shared by ``simulate`` and ``upload --params``
/ ``params --plan`` so that both set the same values."""

from __future__ import annotations

from dataclasses import dataclass

from agridrone.resume import drone_from_plan
from firmware_bridge.link import Link
from firmware_bridge.params import read_param, set_params
from firmware_bridge.px4_params import set_px4_params
from firmware_bridge.scripting import ScriptInstall, install_script
from missions.px4_params import pwm_range_names
from missions.scripts import PUMP_GUARD
from missions.vehicle_params import (
    RestingCurve,
    Sprayer,
    ardupilot_params,
    chemistry_resting_v,
    px4_vehicle_params,
)
from sim.sitl_frame import max_pack_voltage, sitl_resting_voltage

PROBE_TIMEOUT_S = 0.3
PROBE_RETRIES = 5


def is_sitl(link: Link) -> bool:
    """True when the ArduPilot behind ``link`` is SITL (it has SIM_SPEEDUP)."""
    return read_param(link, "SIM_SPEEDUP", timeout_s=PROBE_TIMEOUT_S,
                      retries=PROBE_RETRIES) is not None


def resting_curve(plan: dict, simulated: bool) -> RestingCurve:
    """The resting curve of the vehicle's pack: SITL's own (ArduPilot SITL and the built-in
    vehicle share it) when ``simulated``, else the drone's chemistry's."""
    drone = drone_from_plan(plan)
    if not simulated:
        return chemistry_resting_v(drone)
    full_v = max_pack_voltage(drone)
    return lambda soc: sitl_resting_voltage(full_v, soc)


def derived_params(link: Link, plan: dict, number: int, *, fence_action: str = "rtl",
                   simulated: bool, sprayer: Sprayer | None = None) -> dict[str, float]:
    """The parameters sortie ``number`` of ``plan`` needs on ``link``'s autopilot."""
    if link.autopilot == "px4":
        return px4_vehicle_params(plan, fence_action=fence_action)
    return ardupilot_params(plan, number, fence_action=fence_action, sprayer=sprayer,
                            resting_v=resting_curve(plan, simulated))


def apply_params(link: Link, values: dict[str, float], *, timeout_s: float, retries: int
                 ) -> dict[str, float]:
    """Set ``values`` on the vehicle and read them back, the autopilot's way; return
    {name: value it holds} (PX4: PWM ranges SITL fixes may be absent)."""
    if link.autopilot == "px4":
        return set_px4_params(link, values, optional=pwm_range_names(values),
                              timeout_s=timeout_s, retries=retries)
    return set_params(link, values, timeout_s=timeout_s, retries=retries)


@dataclass(frozen=True)
class GuardReport:
    """What became of the Lua pump guard: ``install`` (None: the vehicle has no scripting)
    and the one line to tell the operator."""

    install: ScriptInstall | None
    line: str

    @property
    def warning(self) -> bool:
        """True when the guard could not be installed (the line is a warning)."""
        return self.install is None


def install_pump_guard(link: Link, *, sitl: bool, timeout_s: float, retries: int) -> GuardReport:
    """Install :data:`missions.scripts.PUMP_GUARD` (ArduPilot only) by MAVLink FTP into the vehicle's
    scripts folder and switch scripting on (:func:`firmware_bridge.scripting.install_script`)."""
    install = install_script(link, PUMP_GUARD.name, PUMP_GUARD.read_bytes(), sitl=sitl,
                             timeout_s=timeout_s, retries=retries)
    if install is None:
        return GuardReport(None, "the vehicle has no Lua scripting (no SCR_ENABLE): the pump "
                                 "guard is not installed; after a failsafe only the fence and "
                                 "battery actions act, the pump may keep spraying")
    line = f"pump guard: {install.path} written and verified (CRC-32)"
    if install.reboot_needed:
        line += "; SCR_ENABLE was 0 and is now 1: reboot the vehicle before flying"
    return GuardReport(install, line)
