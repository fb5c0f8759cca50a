"""Launch a real PX4 SITL (SIH simulator, no Gazebo) to fly agridrone missions against.

The start script is named by the PX4_SITL environment variable (``run.sh WORKDIR [INSTANCE]``
of a prebuilt PX4 SITL, such as ../shared/px4sitl/run.sh; this project does not build PX4).
A fresh working folder is a fresh vehicle (parameters, mission store, logs live there).

Ports: instance N listens for its ground station on UDP 18570 + N and, until a client has
spoken, sends to 127.0.0.1:14550, the same port for every instance; then it answers only the
first address that spoke to it, for good. So each instance is talked to from its own fixed
local port, ``udpout:127.0.0.1:18570+N:24570+N`` (:attr:`Px4Sitl.address`): every connection
of a test (and of ``simulate --connect``) reaches it, and two instances never share a socket. Home comes from PX4_HOME_LAT/LON/ALT, the
speed from PX4_SIM_SPEED_FACTOR (SIH runs that many simulated seconds per wall second and the
start script scales PX4's link-loss timeouts by it).

The simulated hexacopter flies with its own tune (:data:`SIH_HEX_TUNE`, set at start-up like an
airframe file's): PX4's generic multicopter gains are too slow for SIH's vehicle, a 1 kg
airframe with a linear drag of 1 N per m/s (SIH_MASS, SIH_KDV), so at the 5 m/s spray speed the
velocity integrator carries a drag of 5 m/s² and with MPC_XY_VEL_I_ACC 0.4 took seconds to
follow each turn: PX4 SIH wove ±0.4 m across every pass after the turn-in, and wandered
±0.2 m in height. Both move the spray pattern's ramps in the overlap strips between passes:
on its own telemetry, PX4 SIH's dose within ±10 % on the 2 ha sample went from 78 to 98 %
with the positions moved onto the pass lines. With this tune the cross-track error (p90)
fell from 0.34 to 0.15-0.16 m, the height error (p90) from 0.22 to 0.13-0.14 m and the share
from 77-79 % to 92.0-93.9 % in four flights (the horizontal gains alone: 86.0-87.6 %;
bench/leadin_bench.py). This is the simulated vehicle's tune, not the
plan's: a real drone keeps its own (the plan's PX4 parameters are :mod:`missions.px4_params`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agridrone.errors import AgridroneError
from sim.process import SimProcess, executable_from_env

ENV_VAR = "PX4_SITL"
READY_TEXT = "Ready for takeoff!"
BASE_PORT = 18570
GCS_BASE_PORT = 24570  # our local port for instance N: 24570 + N
READY_WAIT_S = 60.0
HEX_MODEL = "sihsim_hex"
MAX_INSTANCE = 9
# PX4 parameter reference ranges (defaults): MPC_XY_P 0-2 (0.95), MPC_XY_VEL_P_ACC 1.2-5 (1.8),
# MPC_XY_VEL_I_ACC 0-60 (0.4), MPC_XY_TRAJ_P 0.1-1 (0.5), MPC_Z_P 0.1-1.5 (1.0),
# MPC_Z_VEL_P_ACC 2-15 (4.0), MPC_Z_VEL_I_ACC 0.2-3 (2.0).
SIH_HEX_TUNE = {"MPC_XY_P": 1.5, "MPC_XY_VEL_P_ACC": 4.0, "MPC_XY_VEL_I_ACC": 3.0,
                "MPC_XY_TRAJ_P": 1.0,
                "MPC_Z_P": 1.5, "MPC_Z_VEL_P_ACC": 8.0, "MPC_Z_VEL_I_ACC": 3.0}
TUNES = {HEX_MODEL: SIH_HEX_TUNE}


def px4_script() -> Path | None:
    """The PX4 SITL start script named by PX4_SITL, or None when the variable is unset.
    Raises AgridroneError when it names something that is not an executable file."""
    return executable_from_env(ENV_VAR, "PX4 SITL start script")


@dataclass
class Px4Sitl(SimProcess):
    """A running PX4 SITL: its process, instance, MAVLink address
    (``udpout:127.0.0.1:18570+N:24570+N``), speed factor, working folder and log file."""

    instance: int
    address: str
    speed_factor: float
    workdir: Path
    log_path: Path


def px4_environment(home: tuple[float, float, float], speed_factor: float, model: str,
                    params: dict[str, float] | None = None) -> dict[str, str]:
    """The environment for run.sh: home (lat deg, lon deg, alt m AMSL), SIH ``speed_factor``
    (simulated seconds per wall second), ``model`` (PX4_SIM_MODEL, e.g. sihsim_hex), and
    the model's tune (:data:`TUNES`) and ``params`` over it set at start-up
    (PX4_PARAM_NAME=value, applied after the airframe's defaults)."""
    if not 1.0 <= speed_factor <= 50.0:
        raise AgridroneError(f"PX4 SIH speed factor {speed_factor:g} must be between 1 and 50")
    lat, lon, alt = home
    env = dict(os.environ)
    env.update({"PX4_SIM_MODEL": model, "PX4_HOME_LAT": f"{lat:.7f}",
                "PX4_HOME_LON": f"{lon:.7f}", "PX4_HOME_ALT": f"{alt:.1f}",
                "PX4_SIM_SPEED_FACTOR": f"{speed_factor:g}"})
    for name, value in {**TUNES.get(model, {}), **(params or {})}.items():
        env[f"PX4_PARAM_{name}"] = f"{value:g}"
    return env


def launch_px4(script: Path, *, instance: int, home: tuple[float, float, float],
               speed_factor: float = 10.0, model: str = HEX_MODEL,
               params: dict[str, float] | None = None, workdir: Path | None = None,
               wait_s: float = READY_WAIT_S) -> Px4Sitl:
    """Start ``script WORKDIR INSTANCE`` (see :func:`px4_environment` for the rest) in
    ``workdir`` (a new temporary folder when None) and wait up to ``wait_s`` wall seconds for
    "Ready for takeoff!" in its output. ``instance`` is 0..9: each running PX4 needs its own.
    Raises AgridroneError, with the tail of its output, when it exits or is not ready in time."""
    if not 0 <= instance <= MAX_INSTANCE:
        raise AgridroneError(f"PX4 instance {instance} must be between 0 and {MAX_INSTANCE}")
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="px4-"))
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "px4.log"
    env = px4_environment(home, speed_factor, model, params)
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(script), str(folder / "vehicle"), str(instance)],
                                   stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env)
    sitl = Px4Sitl(process, instance, f"udpout:127.0.0.1:{BASE_PORT + instance}:{GCS_BASE_PORT + instance}", speed_factor,
                   folder, log_path)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and process.poll() is None:
        if READY_TEXT in log_path.read_text(errors="replace"):
            return sitl
        time.sleep(0.2)
    sitl.stop()
    tail = log_path.read_text(errors="replace")[-400:].strip()
    raise AgridroneError(f"PX4 SITL {script} (instance {instance}) was not ready within "
                         f"{wait_s:g} s (exit code {process.returncode}): {tail}")
