"""``agridrone warmup``: compile the numba kernels into numba's on-disk cache once, after
install, so that the first real plan runs as fast as every later one."""

from __future__ import annotations

import time

import click

from agridrone.cli.plan_cmd import OUTPUT_OPTIONS, plan, plan_inputs

WARMUP_FIELD = "example:sahiwal_L_with_obstacles"  # holes and a bend: every kernel runs


@click.command()
def warmup() -> None:
    """Compile (or load) every numba kernel of `agridrone plan` by planning a bundled
    sample field in memory; nothing is written but numba's cache (__pycache__ beside the
    package, or numba's user cache folder when that is read-only). The README's install
    command runs it; run it again after upgrading.

    \b
    Example:
      pip install . && agridrone warmup
    """
    from agridrone.planner import make_plan

    params = plan.make_context("plan", [WARMUP_FIELD, "-o", "unused"]).params
    defaults = {k: v for k, v in params.items()
                if k not in ("field_file", "outdir", "as_json", *OUTPUT_OPTIONS)}
    t0 = time.perf_counter()
    make_plan(plan_inputs(WARMUP_FIELD, **defaults)[0])
    click.echo(f"numba kernels compiled and cached in {time.perf_counter() - t0:.1f} s")
