"""Sorted distinct values of an array without ``np.unique``, whose first call imports
``numpy.ma`` (15 ms of every plan process) to ask whether the array is masked."""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of the 1-D ``values``, ascending: ``np.unique(values)`` for
    arrays without NaN."""
    ordered = np.sort(np.asarray(values).ravel())
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
