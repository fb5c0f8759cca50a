"""Heading search: the pass direction that minimises the estimated work time.

Candidates are a coarse sweep every 5°, every edge direction of the region, then a
finer sweep around the best few. All candidates of a round are scored by one numba
kernel call. The kernel counts the regular scan lines only;
the passes the swath generator adds under edges that run nearly along the passes (each one
sprayed over ground a regular pass sprays too) show only when the passes are laid, so
:func:`shortlist` names the few headings worth laying and the caller keeps the one whose
laid passes cost least.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agridrone.coverage.kernels import _heading_costs
from agridrone.coverage.objectives import search_estimate_s
from agridrone.coverage.swaths import CLIP_TOLERANCE_M, LINE_EPS_M, FlatRings
from agridrone.coverage.unique import sorted_unique

COARSE_STEP_DEG = 5.0
FINE_STEP_DEG = 0.25
REFINE_BEST = 3
SNAP_DEG = 1.5
SNAP_COST = 0.02
SHORTLIST_COST = 0.03  # edge directions within 3 % of the best estimate are laid and compared
SHORTLIST_MAX = 3  # at most this many edge directions besides the best heading


@dataclass(frozen=True)
class SearchSettings:
    """What the search scores with: swath (m), spray and transit speeds (m/s), turn time
    (s), edge margin (m), the typical jump between cells (m) and the least spray distance
    that can cover the field (sprayable area / swath, m): a heading whose lines leave
    slivers unsprayed must fly them later, so it is charged at least that."""

    swath_m: float
    speed_m_s: float
    transit_speed_m_s: float
    turn_time_s: float
    edge_margin_m: float
    cell_jump_m: float
    min_spray_m: float


def score_headings(
    rings: FlatRings, headings_deg: np.ndarray, settings: SearchSettings
) -> np.ndarray:
    """Estimated work time (s) for each compass heading (degrees) over the region whose
    rings, shrunk by the edge margin and grown by CLIP_TOLERANCE_M, are given in local
    metres (lines are laid from 1 mm inside the shrunk region, as the passes are)."""
    headings = np.ascontiguousarray(headings_deg, dtype=np.float64)
    spray, passes, changes = _heading_costs(
        rings.xs, rings.ys, rings.offsets, headings, float(settings.swath_m),
        LINE_EPS_M + CLIP_TOLERANCE_M,
        float(settings.edge_margin_m),
    )
    return search_estimate_s(
        np.maximum(spray, settings.min_spray_m), passes.astype(np.float64), changes.astype(np.float64),
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
    candidates = sorted_unique(np.round(np.concatenate([coarse, edge_headings(rings)]), 6) % 180.0)
    scores = score_headings(rings, candidates, settings)
    best = candidates[np.argsort(scores, kind="stable")[:REFINE_BEST]]
    offsets = np.arange(-COARSE_STEP_DEG / 2, COARSE_STEP_DEG / 2 + 1e-9, FINE_STEP_DEG)
    fine = sorted_unique(np.round((best[:, None] + offsets[None, :]).ravel(), 6) % 180.0)
    all_headings = np.concatenate([candidates, fine])
    all_scores = np.concatenate([scores, score_headings(rings, fine, settings)])
    index = int(np.argmin(all_scores))
    best_heading, best_score = float(all_headings[index]), float(all_scores[index])
    return _snap_to_edge(rings, best_heading, best_score, settings)


def _snap_to_edge(
    rings: FlatRings, heading: float, score: float, settings: SearchSettings
) -> tuple[float, float]:
    """Prefer an edge direction within SNAP_DEG of the best heading when it costs at most
    SNAP_COST more: passes parallel to an edge leave no sliver along it, and operators
    expect them there."""
    edges = sorted_unique(np.round(edge_headings(rings), 6))
    offset = np.abs((edges - heading + 90.0) % 180.0 - 90.0)
    near = edges[offset <= SNAP_DEG]
    if near.size == 0:
        return heading, score
    scores = score_headings(rings, near, settings)
    ok = scores <= score * (1.0 + SNAP_COST)
    if not ok.any():
        return heading, score
    candidates = near[ok]
    pick = int(np.argmin(np.abs((candidates - heading + 90.0) % 180.0 - 90.0)))
    return float(candidates[pick]), float(scores[ok][pick])


def shortlist(
    rings: FlatRings, best_deg: float, best_score_s: float, settings: SearchSettings
) -> np.ndarray:
    """Headings (degrees) worth laying out: ``best_deg`` first, then up to SHORTLIST_MAX edge
    directions more than SNAP_DEG from it and from each other (the nearer ones were offered
    to :func:`_snap_to_edge`) whose estimated work time is within SHORTLIST_COST of
    ``best_score_s`` (s), cheapest first. Passes along an edge need no added pass under it,
    so where the best estimate runs nearly along an edge an edge direction often flies less
    once laid."""
    edges = sorted_unique(np.round(edge_headings(rings), 6))
    if edges.size == 0:
        return np.array([best_deg])
    scores = score_headings(rings, edges, settings)
    picked = [best_deg]
    for index in np.argsort(scores, kind="stable"):
        if scores[index] > best_score_s * (1.0 + SHORTLIST_COST) or len(picked) > SHORTLIST_MAX:
            break
        apart = np.abs((np.asarray(picked) - edges[index] + 90.0) % 180.0 - 90.0)
        if np.all(apart > SNAP_DEG):
            picked.append(float(edges[index]))
    return np.asarray(picked)
