"""A simulated ArduCopter for agridrone's tests and rehearsals.

:mod:`sim.vehicle` (``SimVehicle``, the MAVLink endpoint and main loop) builds on
:mod:`sim.link` (TCP/UDP sockets), :mod:`sim.faults` (loss, duplication, latency, reboot,
link drop), :mod:`sim.params` (parameter table from ``sim/params/*.parm``),
:mod:`sim.mission_server` (mission/fence/rally protocol), :mod:`sim.telemetry` (stream rates),
:mod:`sim.boot` (boot timeline and pre-arm failures), :mod:`sim.flight` (kinematics, modes,
AUTO, failsafe), :mod:`sim.sprayer` (AC_Sprayer) and :mod:`sim.battery` (the pack drained by
thrust and sagging by its resistance, as SITL's; the airframe from :mod:`sim.sitl_frame`).
"""

from sim.vehicle import SimVehicle

__all__ = ["SimVehicle"]
