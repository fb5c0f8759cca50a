"""The order the crew drives to the day's fields: an open path from the first field given
(where the crew starts) through every other, shortest by total drive.

Exact for up to ``EXACT_MAX`` fields (Held-Karp dynamic programming over subsets); beyond,
nearest neighbour improved by 2-opt (segment reversals) until no reversal shortens the path.
Either way the order is never longer than nearest neighbour's.
"""

from __future__ import annotations

import numpy as np

EXACT_MAX = 8  # fields ordered exactly (Held-Karp: 2^(n-1) (n-1)^2 steps)


def path_m(dist: np.ndarray, order: list[int]) -> float:
    """Length (m) of the open path visiting ``order`` with distances ``dist`` (n, n m)."""
    return float(sum(dist[a, b] for a, b in zip(order[:-1], order[1:], strict=True)))


def nearest_neighbour(dist: np.ndarray) -> list[int]:
    """From field 0, always on to the nearest field not yet visited (ties: lower index)."""
    order, left = [0], list(range(1, len(dist)))
    while left:
        nxt = min(left, key=lambda i: (dist[order[-1], i], i))
        order.append(nxt)
        left.remove(nxt)
    return order


def held_karp(dist: np.ndarray) -> list[int]:
    """The shortest open path from field 0 through all fields (exact)."""
    n = len(dist)
    if n <= 2:
        return list(range(n))
    rest = n - 1  # fields 1..n-1 as bits 0..n-2
    full = (1 << rest) - 1
    cost = np.full((1 << rest, rest), np.inf)
    back = np.full((1 << rest, rest), -1, dtype=np.int64)
    for j in range(rest):
        cost[1 << j, j] = dist[0, j + 1]
    for mask in range(1, full + 1):
        for j in range(rest):
            c = cost[mask, j]
            if not (mask >> j) & 1 or not np.isfinite(c):
                continue
            for k in range(rest):
                if (mask >> k) & 1:
                    continue
                nxt = mask | (1 << k)
                v = c + dist[j + 1, k + 1]
                if v < cost[nxt, k] - 1e-9:
                    cost[nxt, k] = v
                    back[nxt, k] = j
    j = int(np.argmin(cost[full]))
    order, mask = [], full
    while j >= 0:
        order.append(j + 1)
        prev = int(back[mask, j])
        mask ^= 1 << j
        j = prev
    return [0, *reversed(order)]


def two_opt(dist: np.ndarray, order: list[int]) -> list[int]:
    """``order`` improved by reversing segments (first field kept) while that shortens it."""
    order = list(order)
    n = len(order)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            for k in range(i + 1, n):
                a, b = order[i - 1], order[i]
                c = order[k]
                after = dist[a, c] - dist[a, b]
                if k + 1 < n:
                    d = order[k + 1]
                    after += dist[b, d] - dist[c, d]
                if after < -1e-9:
                    order[i:k + 1] = reversed(order[i:k + 1])
                    improved = True
    return order


def best_order(dist: np.ndarray) -> list[int]:
    """Driving order of the fields (indices into ``dist``, starting at 0)."""
    if len(dist) <= EXACT_MAX:
        return held_karp(dist)
    return two_opt(dist, nearest_neighbour(dist))
