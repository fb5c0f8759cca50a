"""Calibration on logs real ArduPilot SITL writes now: SITL flies agridrone's agras-t10 plans
of one field as a worn T10 (tests/data/drones/t10-worn.toml), `agridrone calibrate` learns
it from SITL's DataFlash logs, and predicts a held-out sortie of another field within 5 %,
where the preset misses by more.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary. About
two minutes at SITL speedup 40: three sorties of the 2 ha field, one of the irregular one.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("fly against")

from agridrone.calibrate.profile_toml import read_calibration  # noqa: E402
from agridrone.cli import main  # noqa: E402
from tests.sitl.calibration_flights import fly  # noqa: E402


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flights")
    return fly(BINARY, "rect", folder), fly(BINARY, "irregular", folder)


def test_calibrated_on_one_field_predicts_a_sortie_of_another(logs, tmp_path):
    train, holdout = logs
    assert len(train) == 3 and len(holdout) == 1
    out = tmp_path / "t10-from-sitl.toml"
    result = CliRunner().invoke(main, ["calibrate", *map(str, train), "--drone", "agras-t10",
                                       "--flow", "1.5", "--holdout", str(holdout[0]),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    cal = read_calibration(out).table
    (error,) = cal["holdout_error_pct"]
    (base_error,) = cal["holdout_base_error_pct"]
    assert abs(error) <= 5.0, result.output
    assert abs(base_error) > abs(error), result.output
