"""Hypothesis profiles: ``ci`` (the default) draws the same examples on every machine, so a
run on CI fails only where a run here fails too; ``explore`` (``HYPOTHESIS_PROFILE=explore``)
draws new random examples on every run, to look for counterexamples worth keeping as
``@example`` cases."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
