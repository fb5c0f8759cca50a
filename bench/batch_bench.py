"""Throughput of `agridrone batch` on generated 2-20 ha fields (30 % with 1-3 holes):
fields per second per core with --summary-only and with every file, the peak memory of
the batch (parent and workers), and the extrapolation to 100,000 fields on 16 cores.
Goals (issue 16): >= 25 fields/s/core summary-only, >= 5 with files, peak < 1 GB.

Run: python bench/batch_bench.py [N]   (N fields, default 200; never part of the test run)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agridrone.geo import LocalFrame  # noqa: E402
from bench.scale_fields import scale_field  # noqa: E402


def district(path: Path, count: int, seed: int = 7) -> Path:
    """A FeatureCollection of ``count`` fields of 2-20 ha, 30 % with 1-3 holes, spread
    over a few kilometres (each field its own polygon; ids f0000...)."""
    rng = np.random.default_rng(seed)
    features = []
    for k in range(count):
        area = float(rng.uniform(2, 20))
        holes = int(rng.integers(1, 4)) if rng.random() < 0.3 else 0
        geometry = scale_field(area, int(rng.integers(8, 60)), holes, seed=k)
        shift = LocalFrame(71.45, 30.2).to_wgs84(np.array([[rng.uniform(-3e3, 3e3), rng.uniform(-3e3, 3e3)]]))[0]
        dx, dy = shift[0] - 71.45, shift[1] - 30.2
        geometry["coordinates"] = [[[x + dx, y + dy] for x, y in ring] for ring in geometry["coordinates"]]
        features.append({"type": "Feature", "properties": {"id": f"f{k:04d}"}, "geometry": geometry})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def run(fields: Path, out: Path, jobs: int, *extra: str) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB, the largest process) of one batch."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "agridrone", "batch", str(fields), "-o", str(out),
                    "--jobs", str(jobs), *extra], check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return wall, peak


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        fields = district(Path(tmp) / "district.geojson", count)
        print(f"{count} generated fields of 2-20 ha (30 % with holes), {jobs} worker processes")
        for label, extra in (("--summary-only", ("--summary-only",)), ("all files", ())):
            out = Path(tmp) / label.strip("-").replace(" ", "_")
            wall, peak = run(fields, out, jobs, *extra)
            rows = (out / "summary.csv").read_text().splitlines()[1:]
            errors = sum(1 for r in rows if not r.endswith(","))
            rate = count / wall / jobs
            hours = 100_000 / (rate * 16) / 3600
            print(f"{label:15} {wall:7.1f} s, {rate:5.2f} fields/s/core, peak {peak:5.0f} MB "
                  f"(largest process), {errors} error rows; 100,000 fields on 16 cores: "
                  f"{hours:.1f} h (linear in cores; includes process start-up)")


if __name__ == "__main__":
    main()
