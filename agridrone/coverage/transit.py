"""Transit paths that stay inside the field and outside the no-spray zones.

A straight segment when it stays inside; otherwise the shortest path through the
region's reduced visibility graph: its nodes are the reflex vertices (a shortest path
around obstacles bends only there) and its edges the visible segments between two of
them that are tangent to the boundary at both ends (a shortest path never bends into
the obstacle it turns around). The graph is built once per region; one shortest-path
tree is grown per distinct endpoint (the station serves every sortie and every trial of
the sortie splitter), and finished paths are remembered, so a query costs one vectorised
visibility test of its free endpoint against the nodes.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

TOLERANCE_M = 0.01  # a transit may graze an edge by up to 1 cm
TANGENT_SLACK = 1e-9  # sine slack of the tangency test (keeps near-collinear edges)
MAX_TREES = 64  # shortest-path trees kept per region (one per recent endpoint)
MAX_PATHS = 20000  # finished paths remembered per planner


class TransitPlanner:
    """Shortest pump-off paths inside ``allowed`` (local metres).

    allowed: where the drone may fly (the field minus the no-spray zones). fallback:
    where it may fly when ``allowed`` does not connect two points (between the parts of
    a field in several pieces): the field's convex hull minus the no-spray zones. extra:
    regions tried after those (the band beyond the boundary where lead legs end).
    """

    def __init__(self, allowed: MultiPolygon, fallback: MultiPolygon,
                 *extra: MultiPolygon) -> None:
        self._regions = [_Region(allowed), _Region(fallback), *(_Region(r) for r in extra)]
        self._paths: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._straight: set[bytes] = set()  # queries known to be straight (:meth:`expect`)

    def expect(self, starts: np.ndarray, goal: np.ndarray) -> None:
        """Test in one vectorised call which paths from ``starts`` ((n, 2) local metres)
        to ``goal`` are straight segments inside the field, so that :meth:`path` answers
        those without a visibility test of its own (the sortie splitter asks the way home
        from every leg end, one query at a time). The paths are the same either way."""
        starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
        goal = np.asarray(goal, dtype=np.float64).reshape(2)
        if starts.shape[0] == 0:
            return
        seen = self._regions[0].visible(starts, np.broadcast_to(goal, starts.shape))
        tail = goal.tobytes()
        self._straight.update(a.tobytes() + tail for a in starts[seen])

    def path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The path from a to b as an (n, 2) array of local metres, a and b included."""
        a = np.asarray(a, dtype=np.float64).reshape(2)
        b = np.asarray(b, dtype=np.float64).reshape(2)
        key = a.tobytes() + b.tobytes()
        found = self._paths.get(key)
        if found is None:
            found = np.array((a, b)) if key in self._straight else self._compute(a, b)
            self._paths[key] = found
            if len(self._paths) > MAX_PATHS:
                self._paths.popitem(last=False)
        return found.copy()

    def _compute(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        for region in self._regions:
            found = region.path(a, b)
            if found is not None:
                return found
        return np.array((a, b))


class _Region:
    def __init__(self, region: MultiPolygon) -> None:
        self._free = shapely.buffer(region, TOLERANCE_M)
        shapely.prepare(self._free)
        self._nodes, self._before, self._after = _reflex_vertices(region)
        self._edges: list[list[tuple[int, float]]] | None = None
        self._trees: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._asked: set[bytes] = set()  # endpoints met once (a second meeting grows a tree)

    def visible(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each segment a[i]–b[i] stays inside the region (to 1 cm)."""
        lines = shapely.linestrings(np.concatenate([a, b], axis=1).reshape(-1, 2, 2))
        return shapely.covers(self._free, lines)

    def path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        if self.visible(a[None, :], b[None, :])[0]:
            return np.array((a, b))
        if self._nodes.shape[0] == 0:
            return None
        key_a, key_b = a.tobytes(), b.tobytes()
        reverse = key_a in self._trees and key_b not in self._trees
        if not reverse and key_b not in self._trees:
            if key_a in self._asked:
                reverse = True
            elif key_b not in self._asked:  # both endpoints new: one search, no tree
                self._asked.update((key_a, key_b))
                route = _astar(self._nodes, self._graph(), a, b,
                               self._seen_from(a), self._seen_from(b))
                return None if route is None else self._straighten(
                    np.vstack([a, self._nodes[route], b]))
        start, goal = (b, a) if reverse else (a, b)
        distance, parent = self._tree(goal)
        route = self._route_to(distance, parent, start)
        if route is None:
            return None
        xy = np.vstack([start, self._nodes[route], goal])
        return self._straighten(xy[::-1].copy() if reverse else xy)

    def _straighten(self, xy: np.ndarray) -> np.ndarray:
        """The path without the bends it can skip: a shortest path bends at a vertex it
        could skip only where that vertex is collinear (a tie of lengths to rounding), and
        the search's choice among ties depends on the direction it ran in."""
        if len(xy) <= 2:
            return xy
        keep = [0]
        for i in range(1, len(xy) - 1):
            if not self.visible(xy[keep[-1]][None, :], xy[i + 1][None, :])[0]:
                keep.append(i)
        keep.append(len(xy) - 1)
        return xy[keep]

    def _seen_from(self, p: np.ndarray) -> np.ndarray:
        """Whether each node is visible from ``p`` and the segment is tangent there."""
        nodes = self._nodes
        mask = _tangent(nodes, self._before, self._after, p[None, :])
        idx = np.flatnonzero(mask)
        if idx.size:
            mask[idx] = self.visible(np.repeat(p[None, :], idx.size, axis=0), nodes[idx])
        return mask

    def _route_to(self, distance: np.ndarray, parent: np.ndarray,
                  start: np.ndarray) -> list[int] | None:
        """Node indices of the shortest path from ``start`` to a tree's goal, or None: the
        first node, in order of path length (m) through it, that ``start`` sees along a
        tangent, tested a few at a time (most queries need one or two visibility tests, not
        one per node; ties go to the lower index, as one test of every node would)."""
        nodes = self._nodes
        tangent = _tangent(nodes, self._before, self._after, start[None, :])
        cost = np.where(tangent, np.hypot(*(nodes - start).T) + distance, np.inf)
        order = np.argsort(cost, kind="stable")
        order = order[np.isfinite(cost[order])]
        lo, size = 0, 4
        while lo < order.size:
            batch = order[lo:lo + size]
            seen = self.visible(np.repeat(start[None, :], batch.size, axis=0), nodes[batch])
            if seen.any():
                route = [int(batch[int(np.argmax(seen))])]
                while parent[route[-1]] >= 0:
                    route.append(int(parent[route[-1]]))
                return route
            lo, size = lo + size, size * 4
        return None

    def _tree(self, goal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) from every node to ``goal`` through the graph, and each node's next
        node towards it (-1: straight to the goal)."""
        key = goal.tobytes()
        tree = self._trees.get(key)
        if tree is None:
            tree = _dijkstra(self._nodes, self._graph(), goal, self._seen_from(goal))
            self._trees[key] = tree
            if len(self._trees) > MAX_TREES:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(key)
        return tree

    def _graph(self) -> list[list[tuple[int, float]]]:
        """Adjacency lists (neighbour, length m) of the reduced visibility graph."""
        if self._edges is None:
            nodes, before, after = self._nodes, self._before, self._after
            n = nodes.shape[0]
            rows: list[np.ndarray] = []
            cols: list[np.ndarray] = []
            for i in range(n - 1):
                j = np.arange(i + 1, n)
                ok = _tangent(nodes[j], before[j], after[j], nodes[i][None, :])
                ok &= _tangent(nodes[i][None, :], before[i][None, :], after[i][None, :], nodes[j])
                rows.append(np.full(int(ok.sum()), i))
                cols.append(j[ok])
            i = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            j = np.concatenate(cols) if cols else np.zeros(0, np.int64)
            if i.size:
                seen = self.visible(nodes[i], nodes[j])
                i, j = i[seen], j[seen]
            length = np.hypot(*(nodes[j] - nodes[i]).T)
            edges: list[list[tuple[int, float]]] = [[] for _ in range(n)]
            for u, v, w in zip(i.tolist(), j.tolist(), length.tolist(), strict=True):
                edges[u].append((v, w))
                edges[v].append((u, w))
            self._edges = edges
        return self._edges


def _tangent(u: np.ndarray, before: np.ndarray, after: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Whether the line from each node u towards w leaves both of u's boundary neighbours
    (``before``, ``after``) on one side: a shortest path may bend at u only along such a
    line. Arrays broadcast over rows; a zero-length segment counts as tangent."""
    d = w - u
    p = before - u
    q = after - u
    c1 = d[:, 0] * p[:, 1] - d[:, 1] * p[:, 0]
    c2 = d[:, 0] * q[:, 1] - d[:, 1] * q[:, 0]
    scale = np.hypot(d[:, 0], d[:, 1]) ** 2 * np.hypot(p[:, 0], p[:, 1]) * np.hypot(q[:, 0], q[:, 1])
    return c1 * c2 >= -TANGENT_SLACK * scale


def _reflex_vertices(region: MultiPolygon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices where the region's boundary turns away from its interior, with the vertex
    before and after each on its ring."""
    oriented = shapely.orient_polygons(region)  # shells counter-clockwise, holes clockwise
    points: list[np.ndarray] = []
    before: list[np.ndarray] = []
    after: list[np.ndarray] = []
    for polygon in shapely.get_parts(oriented):
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)[:-1, :2]
            if len(coords) < 3:
                continue
            prev_xy = np.roll(coords, 1, axis=0)
            next_xy = np.roll(coords, -1, axis=0)
            into = coords - prev_xy
            out = next_xy - coords
            reflex = into[:, 0] * out[:, 1] - into[:, 1] * out[:, 0] < 0
            points.append(coords[reflex])
            before.append(prev_xy[reflex])
            after.append(next_xy[reflex])
    if not points:
        empty = np.empty((0, 2))
        return empty, empty, empty
    return np.vstack(points), np.vstack(before), np.vstack(after)


def _dijkstra(
    nodes: np.ndarray,
    edges: list[list[tuple[int, float]]],
    goal: np.ndarray,
    to_goal: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest distance (m) from every node to ``goal`` and the next node on that path
    (-1: the goal itself); ``to_goal``: the nodes with a straight, tangent view of it."""
    n = nodes.shape[0]
    distance = np.full(n, np.inf)
    parent = np.full(n, -1, dtype=np.int64)
    direct = np.flatnonzero(to_goal)
    distance[direct] = np.hypot(*(nodes[direct] - goal).T)
    dist = distance.tolist()
    par = parent.tolist()
    heap = [(dist[v], int(v)) for v in direct]
    heapq.heapify(heap)
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for v, w in edges[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                par[v] = u
                heapq.heappush(heap, (nd, v))
    return np.asarray(dist), np.asarray(par, dtype=np.int64)


def _astar(
    nodes: np.ndarray,
    edges: list[list[tuple[int, float]]],
    a: np.ndarray,
    b: np.ndarray,
    from_a: np.ndarray,
    to_b: np.ndarray,
) -> list[int] | None:
    """Node indices of the shortest path from a to b (A* with the straight-line distance
    to b, which never overestimates), or None; ``from_a``/``to_b``: the nodes with a
    straight, tangent view of a / of b."""
    n = nodes.shape[0]
    h = np.hypot(*(nodes - b).T).tolist()
    g = [np.inf] * n
    par = [-1] * n
    heap = []
    for v, d in zip(np.flatnonzero(from_a).tolist(), np.hypot(*(nodes[from_a] - a).T).tolist(), strict=True):
        g[v] = d
        heap.append((d + h[v], d, v))
    heapq.heapify(heap)
    done = [False] * n
    best, last = np.inf, -1
    while heap:
        f, d, u = heapq.heappop(heap)
        if f >= best:
            break
        if done[u]:
            continue
        done[u] = True
        if to_b[u] and d + h[u] < best:
            best, last = d + h[u], u
        for v, w in edges[u]:
            nd = d + w
            if nd < g[v]:
                g[v] = nd
                par[v] = u
                heapq.heappush(heap, (nd + h[v], nd, v))
    if last < 0:
        return None
    route = [last]
    while par[route[-1]] >= 0:
        route.append(par[route[-1]])
    return route[::-1]
