"""Heading search: the pass direction that minimises the estimated work time.

Candidates are a coarse sweep every 5°, every edge direction of the region, then a
finer sweep around the best few. All candidates of a round are scored in parallel by
a numba kernel (``prange`` over headings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agridrone.coverage.kernels import _heading_costs
from agridrone.coverage.objectives import search_estimate_s
from agridrone.coverage.swaths import LINE_EPS_M, FlatRings

COARSE_STEP_DEG = 5.0
FINE_STEP_DEG = 0.25
REFINE_BEST = 3


@dataclass(frozen=True)
class SearchSettings:
    """What the search scores with: swath (m), spray and transit speeds (m/s), turn time
    (s), edge margin (m) and the typical jump between cells (m)."""

    swath_m: float
    speed_m_s: float
    transit_speed_m_s: float
    turn_time_s: float
    edge_margin_m: float
    cell_jump_m: float


def score_headings(
    rings: FlatRings, headings_deg: np.ndarray, settings: SearchSettings
) -> np.ndarray:
    """Estimated work time (s) for each compass heading (degrees) over the region whose
    rings, already shrunk by the edge margin, are given in local metres."""
    headings = np.ascontiguousarray(headings_deg, dtype=np.float64)
    spray, passes, changes = _heading_costs(
        rings.xs, rings.ys, rings.offsets, headings, float(settings.swath_m), LINE_EPS_M,
        float(settings.edge_margin_m),
    )
    return search_estimate_s(
        spray, passes.astype(np.float64), changes.astype(np.float64),
        swath_m=settings.swath_m, cell_jump_m=settings.cell_jump_m,
        speed_m_s=settings.speed_m_s, turn_time_s=settings.turn_time_s,
        transit_speed_m_s=settings.transit_speed_m_s,
    )


def edge_headings(rings: FlatRings) -> np.ndarray:
    """Compass direction (degrees, 0–180) of every ring edge longer than 1 m."""
    dx = np.diff(rings.xs)
    dy = np.diff(rings.ys)
    keep = np.ones(dx.shape[0], dtype=bool)
    keep[rings.offsets[1:-1] - 1] = False  # the step from one ring to the next is no edge
    keep &= np.hypot(dx, dy) > 1.0
    return np.degrees(np.arctan2(dx[keep], dy[keep])) % 180.0


def search_heading(rings: FlatRings, settings: SearchSettings) -> tuple[float, float]:
    """The best compass heading in [0, 180) degrees and its estimated work time (s)."""
    coarse = np.arange(0.0, 180.0, COARSE_STEP_DEG)
    candidates = np.unique(np.round(np.concatenate([coarse, edge_headings(rings)]), 6) % 180.0)
    scores = score_headings(rings, candidates, settings)
    best = candidates[np.argsort(scores, kind="stable")[:REFINE_BEST]]
    offsets = np.arange(-COARSE_STEP_DEG / 2, COARSE_STEP_DEG / 2 + 1e-9, FINE_STEP_DEG)
    fine = np.unique(np.round((best[:, None] + offsets[None, :]).ravel(), 6) % 180.0)
    all_headings = np.concatenate([candidates, fine])
    all_scores = np.concatenate([scores, score_headings(rings, fine, settings)])
    index = int(np.argmin(all_scores))
    return float(all_headings[index]), float(all_scores[index])
