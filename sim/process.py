"""A simulator process started by this project, stopped by its own PID."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

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
