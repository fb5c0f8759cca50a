"""Launch a real ArduPilot SITL (an ``arducopter`` binary) to fly agridrone missions against.

The binary is named by the ARDUPILOT_SITL environment variable (this project does not build
it). ArduPilot's own SITL defaults (``default_params/`` beside the binary, or the folder named
by ARDUPILOT_SITL_DEFAULTS) are loaded for the frame (quad, hexa or octa), plus any extra
``.parm`` files given, with the EEPROM wiped so they apply. SITL serves MAVLink on TCP
5760 + 10 × instance (a second client on 5762 + 10 × instance); :func:`launch_sitl` picks a
free instance unless told one and returns once the port accepts connections.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agridrone.drone import DroneProfile
from agridrone.errors import AgridroneError
from missions.scripts import PUMP_GUARD
from sim.process import SimProcess, executable_from_env

ENV_VAR = "ARDUPILOT_SITL"
DEFAULTS_ENV_VAR = "ARDUPILOT_SITL_DEFAULTS"
BASE_PORT = 5760
PORT_WAIT_S = 60.0
DRONE_PARM = "agridrone-drone.parm"
FRAMES = ("quad", "hexa", "octa")
MAX_INSTANCE = 60


def sitl_binary() -> Path | None:
    """The arducopter binary named by ARDUPILOT_SITL, or None when the variable is unset.
    Raises AgridroneError when it names something that is not an executable file."""
    return executable_from_env(ENV_VAR, "arducopter binary")


def default_params(binary: Path, frame: str) -> list[Path]:
    """ArduPilot's SITL default parameter files for ``frame`` (quad, hexa, octa): copter.parm
    plus copter-FRAME.parm where one exists, from ARDUPILOT_SITL_DEFAULTS or
    ``default_params/`` beside ``binary``. Raises AgridroneError when copter.parm is missing."""
    if frame not in FRAMES:
        raise AgridroneError(f"unknown SITL frame {frame!r}; one of {', '.join(FRAMES)}")
    folder = Path(os.environ.get(DEFAULTS_ENV_VAR) or Path(binary).parent / "default_params")
    base = folder / "copter.parm"
    if not base.is_file():
        raise AgridroneError(f"no ArduPilot SITL defaults at {base} (set {DEFAULTS_ENV_VAR} to "
                             "the folder holding ArduPilot's Tools/autotest/default_params)")
    extra = folder / f"copter-{frame}.parm"
    return [base, extra] if extra.is_file() else [base]


@dataclass
class Sitl(SimProcess):
    """A running SITL: its process, instance, MAVLink address (``tcp:127.0.0.1:PORT``), the
    address of its second client port, its working folder and log file."""

    instance: int
    address: str
    monitor_address: str
    workdir: Path
    log_path: Path


def sitl_command(binary: Path, home: tuple[float, float, float], speedup: float,
                 instance: int = 0, *, model: str = "quad",
                 param_files: Sequence[Path] = (), wipe: bool = True) -> list[str]:
    """The arducopter command line: ``model`` (quad, hexa, octa, or ``FRAME:file.json`` with
    the JSON path relative to SITL's working folder), ``home`` (lat deg, lon deg, alt m AMSL,
    heading 0), ``speedup`` times real time, ArduPilot's defaults for the frame then
    ``param_files``, EEPROM wiped unless ``wipe`` is False (then the parameters stored in the
    working folder's eeprom.bin win over the defaults: a power cycle)."""
    lat, lon, alt = home
    frame = model.split(":", 1)[0]
    defaults = ",".join(str(p) for p in [*default_params(binary, frame), *param_files])
    return [str(binary), "--model", model, "--speedup", f"{speedup:g}",
            "--home", f"{lat:.7f},{lon:.7f},{alt:.1f},0", "--defaults", defaults,
            *(["--wipe"] if wipe else []), "-I", str(instance), "--sim-address", "127.0.0.1"]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_instance(start: int = 0) -> int:
    """The first SITL instance from ``start`` whose TCP ports (5760..5763 + 10 N) are free.
    Raises AgridroneError when none is."""
    for instance in range(start, MAX_INSTANCE):
        tcp = [BASE_PORT + 10 * instance + k for k in range(4)]
        if all(_port_free(port) for port in tcp):
            return instance
    raise AgridroneError(f"no free SITL instance between {start} and {MAX_INSTANCE - 1}")


def launch_sitl(binary: Path, *, home: tuple[float, float, float], speedup: float = 10.0,
                instance: int | None = None, workdir: Path | None = None, model: str = "quad",
                param_files: Sequence[Path] = (), wait_s: float = PORT_WAIT_S,
                wipe: bool = True) -> Sitl:
    """Start ``binary`` (see :func:`sitl_command`) in ``workdir`` (a new temporary folder
    when None: SITL writes its EEPROM and logs there) as ``instance`` (the first free one
    when None) and wait up to ``wait_s`` seconds for its TCP port; ``wipe`` False keeps the
    folder's stored parameters (SITL's own reboot re-runs its command line, ``--wipe``
    included, so a restart with ``wipe`` False is how a SITL keeps what was set). Raises AgridroneError,
    with the tail of its output, when it exits or the port stays closed."""
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="sitl-"))
    folder.mkdir(parents=True, exist_ok=True)
    number = free_instance() if instance is None else instance
    log_path = folder / "arducopter.log"
    port = BASE_PORT + 10 * number
    command = sitl_command(binary, home, speedup, number, model=model, param_files=param_files,
                           wipe=wipe)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    sitl = Sitl(process, number, f"tcp:127.0.0.1:{port}", f"tcp:127.0.0.1:{port + 2}",
                folder, log_path)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _port_open(port):
            return sitl
        time.sleep(0.2)
    sitl.stop()
    tail = log_path.read_text(errors="replace")[-400:].strip()
    raise AgridroneError(f"ArduPilot SITL {binary} did not open TCP {port} within {wait_s:g} s"
                         f" (exit code {process.returncode}): {tail}")


def launch_sitl_for_drone(binary: Path, drone: DroneProfile, *, home: tuple[float, float, float],
                          speedup: float = 10.0, instance: int | None = None,
                          workdir: Path | None = None, temp_c: float = 25.0,
                          param_files: Sequence[Path] = (), pump_guard: bool = True,
                          wait_s: float = PORT_WAIT_S) -> Sitl:
    """Start SITL as ``drone``: the frame for its rotor count with a JSON frame model of its
    mass, rotors and pack (:mod:`sim.sitl_frame`, written into the working folder and named
    relative to it), its pack as SITL's battery (SIM_BATT_VOLTAGE, SIM_BATT_CAP_AH,
    BATT_CAPACITY), its yaw acceleration limited as a heavy frame's (ATC_ACCEL_Y_MAX,
    :func:`sim.sitl_frame.sitl_attitude_params`), and with ``pump_guard`` the Lua applet that
    stops the pump outside AUTO (copied to ``scripts/``, SCR_ENABLE=1). Other arguments as for :func:`launch_sitl`;
    ``home`` altitude (m AMSL) is also the frame model's reference altitude."""
    from sim.sitl_frame import sitl_attitude_params, sitl_battery_params, write_frame_model

    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="sitl-"))
    model = write_frame_model(folder, drone, temp_c=temp_c, elevation_m=float(home[2]))
    values = {**sitl_battery_params(drone, temp_c), **sitl_attitude_params()}
    if pump_guard:
        scripts = folder / "scripts"
        scripts.mkdir(exist_ok=True)
        (scripts / PUMP_GUARD.name).write_text(PUMP_GUARD.read_text())
        values["SCR_ENABLE"] = 1.0
    parm = folder / DRONE_PARM
    parm.write_text("".join(f"{name} {value:g}\n" for name, value in values.items()))
    return launch_sitl(binary, home=home, speedup=speedup, instance=instance, workdir=folder,
                       model=model, param_files=[parm, *param_files], wait_s=wait_s)
