"""A simulator process started by this project, stopped by its own PID, and the executable
an environment variable names for it."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from agridrone.errors import AgridroneError

STOP_WAIT_S = 5.0


@dataclass
class SimProcess:
    """A running SITL process; a context manager that stops it on exit."""

    process: subprocess.Popen

    def stop(self) -> None:
        """Terminate the process by its PID (SIGTERM), killed if it has not exited within
        STOP_WAIT_S seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_WAIT_S)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def executable_from_env(variable: str, what: str) -> Path | None:
    """The executable file named by environment ``variable`` (resolved), or None when the
    variable is unset. Raises AgridroneError, naming ``what`` it should be, when it names
    anything else."""
    value = os.environ.get(variable)
    if not value:
        return None
    path = Path(value).resolve()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise AgridroneError(f"{variable}={value} is not an executable {what}")
    return path
