"""Cost functions of the coverage planner, kept apart so they can be swapped.

Each takes plain numbers (or numpy arrays of them) and returns seconds.
"""

from __future__ import annotations

import numpy as np


def work_time_s(
    spray_m: np.ndarray | float,
    turns: np.ndarray | float,
    deadhead_m: np.ndarray | float,
    *,
    speed_m_s: float,
    turn_time_s: float,
    transit_speed_m_s: float,
) -> np.ndarray | float:
    """Estimated work time in seconds: spray distance (m) / spray speed (m/s) + turns ×
    turn time (s) + dead-head distance (m) / transit speed (m/s)."""
    return spray_m / speed_m_s + turns * turn_time_s + deadhead_m / transit_speed_m_s


def search_estimate_s(
    spray_m: np.ndarray,
    passes: np.ndarray,
    pass_count_changes: np.ndarray,
    *,
    swath_m: float,
    cell_jump_m: float,
    speed_m_s: float,
    turn_time_s: float,
    transit_speed_m_s: float,
) -> np.ndarray:
    """Work time (s) estimated from what the heading-search kernel counts per heading.

    Cells are about half the changes in the number of passes per scan line; each turn
    flies about one swath (m) of dead-head, each jump between cells ``cell_jump_m``.
    """
    cells = np.maximum(1.0, pass_count_changes / 2.0)
    turns = np.maximum(0.0, passes - cells)
    deadhead = turns * swath_m + cells * cell_jump_m
    return work_time_s(
        spray_m, turns, deadhead,
        speed_m_s=speed_m_s, turn_time_s=turn_time_s, transit_speed_m_s=transit_speed_m_s,
    )
