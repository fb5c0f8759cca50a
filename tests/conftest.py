"""Test-session settings.

Hypothesis profiles: ``ci`` (the default) draws the same examples on every machine, so a
run on CI fails only where a run here fails too; ``explore`` (``HYPOTHESIS_PROFILE=explore``)
draws new random examples on every run, to look for counterexamples worth keeping as
``@example`` cases.

MAVLink 2 from the start: pymavlink picks the wire version when it first loads a dialect,
and ``firmware_bridge.link`` sets MAVLINK20 only when it is imported. A test module that
loaded pymavlink first left the MAVLink 1 classes in place while later code saw MAVLINK20
set (pymavlink's mavwp then built MISSION_ITEMs with a mission_type field the classes did
not have: a failure that depended on which tests ran before)."""

from __future__ import annotations

import os

os.environ.setdefault("MAVLINK20", "1")

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
