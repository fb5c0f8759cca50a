"""Launch a real ArduPilot SITL (an ``arducopter`` binary) to fly agridrone missions against.

The binary is named by the ARDUPILOT_SITL environment variable (this project does not build
it). It runs the quad model with the copter defaults and the sprayer setup of
``sim/params/`` (``--defaults``, EEPROM wiped so they apply), at a given home and speedup,
serving MAVLink on TCP 5760 + 10 × instance; :func:`launch_sitl` returns once that port
accepts connections. Use the address with ``agridrone simulate --connect`` or firmware_bridge.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agridrone.errors import AgridroneError
from sim.params import COPTER_PARM, SPRAYER_PARM

ENV_VAR = "ARDUPILOT_SITL"
BASE_PORT = 5760
PORT_WAIT_S = 60.0


def sitl_binary() -> Path | None:
    """The arducopter binary named by ARDUPILOT_SITL, or None when the variable is unset.
    Raises AgridroneError when it names something that is not an executable file."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise AgridroneError(f"{ENV_VAR}={value} is not an executable arducopter binary")
    return path


@dataclass
class Sitl:
    """A running SITL: its process, MAVLink address (``tcp:127.0.0.1:PORT``) and log file."""

    process: subprocess.Popen
    address: str
    log_path: Path

    def stop(self) -> None:
        """Terminate the SITL process (killed if it does not exit within 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5.0)

    def __enter__(self) -> Sitl:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def sitl_command(binary: Path, home: tuple[float, float, float], speedup: float,
                 instance: int = 0) -> list[str]:
    """The arducopter command line: quad model, ``home`` (lat deg, lon deg, alt m AMSL,
    heading 0), ``speedup`` times real time, defaults from sim/params/, EEPROM wiped."""
    lat, lon, alt = home
    defaults = ",".join(str(p) for p in (COPTER_PARM, SPRAYER_PARM))
    return [str(binary), "--model", "quad", "--speedup", f"{speedup:g}",
            "--home", f"{lat:.7f},{lon:.7f},{alt:.1f},0", "--defaults", defaults,
            "--wipe", "-I", str(instance), "--sim-address", "127.0.0.1"]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def launch_sitl(binary: Path, *, home: tuple[float, float, float], speedup: float = 10.0,
                instance: int = 0, workdir: Path | None = None,
                wait_s: float = PORT_WAIT_S) -> Sitl:
    """Start ``binary`` (see :func:`sitl_command`) in ``workdir`` (a new temporary folder
    when None: SITL writes its EEPROM and logs there) and wait up to ``wait_s`` seconds for
    its TCP port. Raises AgridroneError, with the tail of its output, when it exits or the
    port stays closed."""
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="sitl-"))
    log_path = folder / "arducopter.log"
    port = BASE_PORT + 10 * instance
    with log_path.open("wb") as log:
        process = subprocess.Popen(sitl_command(binary, home, speedup, instance), cwd=folder,
                                   stdout=log, stderr=subprocess.STDOUT)
    sitl = Sitl(process, f"tcp:127.0.0.1:{port}", log_path)
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
