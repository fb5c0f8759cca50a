"""The ArduPilot SITL binary the test modules in tests/sitl/ fly against, from ARDUPILOT_SITL."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.sitl import ENV_VAR, sitl_binary


def binary_or_skip(purpose: str = "fly against") -> Path:
    """The ``arducopter`` binary named by ARDUPILOT_SITL, or skip the calling module saying
    what it would have done with one (``purpose``) and how to give one."""
    binary = sitl_binary()
    if binary is None:
        pytest.skip(f"{ENV_VAR} is not set: no real ArduPilot SITL to {purpose} "
                    f"(set {ENV_VAR}=/path/to/arducopter)", allow_module_level=True)
    return binary
