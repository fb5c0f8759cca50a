"""Steady segments of a flight: hover, forward flight, climb and descent.

Each airborne sample is classified by its climb rate and ground speed; runs of one kind
lasting at least MIN_SEGMENT_S seconds are segments. Accelerating samples (speeding up,
braking, turning) belong to none: the energy model prices them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agridrone.calibrate.flightlog import FlightLog

KINDS = ("hover", "forward", "climb", "descent")
CLIMB_M_S = 0.3  # faster than this up (down) is a climb (descent), m/s
HOVER_M_S = 0.5  # slower than this over the ground is hover, m/s
FORWARD_M_S = 1.5  # faster than this is forward flight, m/s
STEADY_M_S2 = 0.25  # at most this change of ground speed per second in a steady segment
MIN_SEGMENT_S = 3.0
RATE_WINDOW_S = 2.0  # speed change measured over this span (s)


@dataclass(frozen=True)
class Segment:
    """Samples ``start``..``stop`` (indices into the flight's arrays, ``stop`` exclusive) of
    one ``kind`` (one of KINDS), lasting ``duration_s`` seconds."""

    kind: str
    start: int
    stop: int
    duration_s: float


def smooth_rate(t_s: np.ndarray, x: np.ndarray, window_s: float = RATE_WINDOW_S) -> np.ndarray:
    """Rate of change of ``x`` per second, from ``x`` at ``window_s / 2`` seconds either side
    (at the ends, as far as the samples reach), so a noisy log's speed gives a steady rate."""
    if x.size < 2:
        return np.zeros_like(x)
    ahead = np.searchsorted(t_s, t_s + window_s / 2.0).clip(max=x.size - 1)
    behind = np.searchsorted(t_s, t_s - window_s / 2.0).clip(min=0)
    span = t_s[ahead] - t_s[behind]
    return np.where(span > 0, (x[ahead] - x[behind]) / np.where(span > 0, span, 1.0), 0.0)


def classify(flight: FlightLog) -> np.ndarray:
    """Each sample's kind as an index into KINDS, -1 for none (on the ground, accelerating,
    between the thresholds)."""
    v, vz = flight.speed_m_s, flight.climb_m_s
    accel = smooth_rate(flight.t_s, v)
    kind = np.full(v.size, -1, dtype=np.int64)
    level = np.abs(vz) <= CLIMB_M_S
    kind[level & (v < HOVER_M_S)] = 0
    kind[level & (v > FORWARD_M_S) & (np.abs(accel) <= STEADY_M_S2)] = 1
    kind[vz > CLIMB_M_S] = 2
    kind[vz < -CLIMB_M_S] = 3
    kind[~flight.airborne] = -1
    return kind


def find_segments(flight: FlightLog, min_s: float = MIN_SEGMENT_S) -> list[Segment]:
    """The flight's steady segments of at least ``min_s`` seconds, in time order."""
    kind = classify(flight)
    edges = np.flatnonzero(np.diff(kind)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [kind.size]))
    out = []
    for a, b in zip(starts, stops, strict=True):
        if kind[a] < 0 or b - a < 2:
            continue
        duration = float(flight.t_s[b - 1] - flight.t_s[a])
        if duration >= min_s:
            out.append(Segment(KINDS[kind[a]], int(a), int(b), duration))
    return out
