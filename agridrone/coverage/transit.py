"""Transit paths that stay inside the field and outside the no-spray zones.

A straight segment when it stays inside; otherwise the shortest path through a
visibility graph over the region's reflex vertices (a shortest path around obstacles
bends only there).
"""

from __future__ import annotations

import heapq

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

TOLERANCE_M = 0.01  # a transit may graze an edge by up to 1 cm


class TransitPlanner:
    """Shortest pump-off paths inside ``allowed`` (local metres).

    allowed: where the drone may fly (the field minus the no-spray zones). fallback:
    where it may fly when ``allowed`` does not connect two points (between the parts of
    a field in several pieces): the field's convex hull minus the no-spray zones.
    """

    def __init__(self, allowed: MultiPolygon, fallback: MultiPolygon) -> None:
        self._regions = [_Region(allowed), _Region(fallback)]

    def path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The path from a to b as an (n, 2) array of local metres, a and b included."""
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        for region in self._regions:
            found = region.path(a, b)
            if found is not None:
                return found
        return np.vstack([a, b])


class _Region:
    def __init__(self, region: MultiPolygon) -> None:
        self._free = shapely.buffer(region, TOLERANCE_M)
        shapely.prepare(self._free)
        self._nodes = _reflex_vertices(region)
        self._adjacency: np.ndarray | None = None

    def visible(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each segment a[i]–b[i] stays inside the region (to 1 cm)."""
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        return shapely.covers(self._free, lines)

    def path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        if self.visible(a[None, :], b[None, :])[0]:
            return np.vstack([a, b])
        nodes = self._nodes
        if nodes.shape[0] == 0:
            return None
        graph = self._graph()
        from_a = self.visible(np.repeat(a[None, :], len(nodes), axis=0), nodes)
        to_b = self.visible(nodes, np.repeat(b[None, :], len(nodes), axis=0))
        route = _dijkstra(nodes, graph, a, b, from_a, to_b)
        if route is None:
            return None
        return np.vstack([a, nodes[route], b])

    def _graph(self) -> np.ndarray:
        if self._adjacency is None:
            n = self._nodes.shape[0]
            i, j = np.triu_indices(n, k=1)
            ok = self.visible(self._nodes[i], self._nodes[j]) if i.size else np.zeros(0, bool)
            adjacency = np.zeros((n, n), dtype=bool)
            adjacency[i[ok], j[ok]] = True
            adjacency[j[ok], i[ok]] = True
            self._adjacency = adjacency
        return self._adjacency


def _reflex_vertices(region: MultiPolygon) -> np.ndarray:
    """Vertices where the region's boundary turns away from its interior."""
    oriented = shapely.orient_polygons(region)  # shells counter-clockwise, holes clockwise
    points: list[np.ndarray] = []
    for polygon in shapely.get_parts(oriented):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:-1, :2]
            if len(coords) < 3:
                continue
            before = coords - np.roll(coords, 1, axis=0)
            after = np.roll(coords, -1, axis=0) - coords
            cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
            points.append(coords[cross < 0])
    return np.vstack(points) if points else np.empty((0, 2))


def _dijkstra(
    nodes: np.ndarray,
    adjacency: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    from_a: np.ndarray,
    to_b: np.ndarray,
) -> list[int] | None:
    """Shortest node sequence from a to b; node n is a, n + 1 is b."""
    n = nodes.shape[0]
    distance = np.full(n + 2, np.inf)
    parent = np.full(n + 2, -1, dtype=np.int64)
    distance[n] = 0.0
    heap = [(0.0, n)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > distance[u]:
            continue
        if u == n + 1:
            break
        here = a if u == n else nodes[u]
        if u == n:
            neighbours = np.flatnonzero(from_a)
        else:
            neighbours = np.flatnonzero(adjacency[u])
        candidates = [(int(v), nodes[v]) for v in neighbours]
        if u < n and to_b[u]:
            candidates.append((n + 1, b))
        for v, point in candidates:
            nd = d + float(np.hypot(*(point - here)))
            if nd < distance[v]:
                distance[v] = nd
                parent[v] = u
                heapq.heappush(heap, (nd, v))
    if not np.isfinite(distance[n + 1]):
        return None
    route: list[int] = []
    v = int(parent[n + 1])
    while v != n:
        route.append(v)
        v = int(parent[v])
    return route[::-1]
