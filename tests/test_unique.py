"""``sorted_unique`` is ``np.unique`` (for arrays without NaN) without importing numpy.ma."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agridrone.coverage.unique import sorted_unique


@given(arrays(np.float64, st.integers(0, 60), elements=st.floats(-1e3, 1e3) | st.sampled_from([0.0, 1.5, -0.0])))
def test_floats_as_np_unique(values):
    assert np.array_equal(sorted_unique(values), np.unique(values))


@given(arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5)))
def test_integers_as_np_unique(values):
    result = sorted_unique(values)
    assert result.dtype == np.int64 and np.array_equal(result, np.unique(values))


def test_it_does_not_import_numpy_ma():
    code = ("import sys, numpy as np\nfrom agridrone.coverage.unique import sorted_unique\n"
            "sorted_unique(np.array([3.0, 1.0, 3.0]))\nprint('numpy.ma' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
