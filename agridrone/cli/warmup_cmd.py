"""``agridrone warmup``: compile the numba kernels once after install, ahead of time into one
extension module (agridrone.aot) and into numba's on-disk cache, so that the first real plan
runs as fast as every later one."""

from __future__ import annotations

import compileall
import importlib.util
import os
import subprocess
import sys
import time

import click

from agridrone.cli.plan_cmd import OUTPUT_OPTIONS, plan, plan_inputs

WARMUP_FIELD = "example:sahiwal_L_with_obstacles"  # holes and a bend: every kernel runs
PACKAGES = ("agridrone", "missions", "firmware_bridge", "sim")


def write_bytecode() -> bool:
    """Write the compiled bytecode (.pyc) of every module of :data:`PACKAGES`; whether all
    were written. An editable install, or PYTHONDONTWRITEBYTECODE=1, leaves none, and then
    every process compiles the ~100 modules a plan imports (50-90 ms of each plan)."""
    written = True
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            written &= bool(compileall.compile_dir(folder, quiet=2))
    return written


@click.command()
def warmup() -> None:
    """Compile the numba kernels of `agridrone plan` once after install: ahead of time into
    one module (a plan that loads it never imports numba, 0.4-0.5 s faster) and into numba's
    cache, by planning a bundled sample field in memory.

    It also writes the packages' bytecode (.pyc), which an editable install or
    PYTHONDONTWRITEBYTECODE=1 leaves unwritten. All are kept in __pycache__ beside the
    package, or in the user's cache folder when that is read-only (~/.cache/agridrone for
    the module); AGRIDRONE_CACHE_DIR names another folder for the module. The ahead-of-time build needs a C compiler; without one, plans
    load the kernels from numba's cache. The README's install command runs it; run it again
    after upgrading (a build for other kernel sources is never loaded).

    \b
    Example:
      pip install . && agridrone warmup
    """
    from agridrone.aot import compiled_module
    from agridrone.planner import make_plan

    t0 = time.perf_counter()
    build = subprocess.Popen([sys.executable, "-m", "agridrone.aot_build"],
                             env={**os.environ, "AGRIDRONE_JIT": "1"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        params = plan.make_context("plan", [WARMUP_FIELD, "-o", "unused"]).params
        defaults = {k: v for k, v in params.items()
                    if k not in ("field_file", "outdir", "as_json", *OUTPUT_OPTIONS)}
        make_plan(plan_inputs(WARMUP_FIELD, **defaults)[0])
        how = ("with the ahead-of-time kernels" if compiled_module() is not None
               else "(numba kernels compiled into or loaded from numba's cache)")
        click.echo(f"sample field planned in {time.perf_counter() - t0:.1f} s {how}")
        out, err = build.communicate()
    finally:
        if build.poll() is None:  # Ctrl-C or a failed plan: no build left running
            build.kill()
            build.wait()
    if not write_bytecode():
        click.echo("note: the bytecode could not be written (read-only install folder)")
    if build.returncode == 0:
        click.echo(f"kernels compiled ahead of time, {out.strip()} ({time.perf_counter() - t0:.1f} s)")
    else:
        reason = (err.strip().splitlines() or ["no message"])[-1].removeprefix("error: ")
        click.echo(f"note: the kernels could not be compiled ahead of time ({reason}); "
                   "plans load them from numba's cache")
