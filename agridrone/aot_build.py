"""Build the ahead-of-time kernel module that :mod:`agridrone.aot` loads, with numba's
``numba.pycc`` (which needs a C compiler, to link the module). ``agridrone warmup`` runs it as
``python -m agridrone.aot_build`` with ``AGRIDRONE_JIT=1``: the kernel modules must hold
numba dispatchers, whose Python functions are compiled. Prints the module's path; one
``error:`` line and exit status 1 when it cannot build.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from agridrone.aot import (
    ENTRIES,
    KERNEL_MODULES,
    MODULE_NAME,
    build_key,
    cache_folders,
    export_name,
    module_file,
)


def writable_folder() -> Path:
    """The first of :func:`agridrone.aot.cache_folders` this process can write to (created)."""
    for folder in cache_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise OSError("no writable cache folder: set AGRIDRONE_CACHE_DIR")


def build(folder: Path) -> tuple[Path, bool]:
    """Compile every kernel entry into the module for this build key in ``folder`` (kept when
    already built), remove the builds of other keys there; the module's path and whether it
    was built now. The module appears whole or not at all (built aside, then renamed into
    place)."""
    target = module_file(folder, build_key())
    built_now = not target.is_file()
    if built_now:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba.pycc is marked pending deprecation
            from numba.pycc import CC
        from llvmlite import binding

        for name in KERNEL_MODULES:
            importlib.import_module(name)
        compiler = CC(MODULE_NAME)
        compiler.target_cpu = binding.get_host_cpu_name()
        compiler.verbose = False
        for module, function, signature in ENTRIES:
            dispatcher = getattr(sys.modules[module], function)
            compiler.export(export_name(module, function), signature)(dispatcher.py_func)
        staging = Path(tempfile.mkdtemp(prefix=".aot-", dir=folder))
        try:
            compiler.output_dir = str(staging)
            compiler.output_file = target.name
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compiler.compile()
            try:
                staging.replace(target.parent)
            except OSError:  # a leftover folder, or another build's that just landed
                if not target.is_file():
                    shutil.rmtree(target.parent, ignore_errors=True)
                    staging.replace(target.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    for stale in folder.glob("aot-*"):
        if stale != target.parent:
            shutil.rmtree(stale, ignore_errors=True)
    return target, built_now


def main() -> int:
    """Build into the first writable cache folder; print "built" or "already built" and the
    module's path."""
    if os.environ.get("AGRIDRONE_JIT") != "1":
        print("error: run with AGRIDRONE_JIT=1 (the kernels must be numba dispatchers)", file=sys.stderr)
        return 1
    try:
        path, built_now = build(writable_folder())
        print(f"{'built' if built_now else 'already built'} {path}")
    except Exception as exc:  # noqa: BLE001 - any compiler or linker failure is one line
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
