"""How agridrone's numba kernels run: compiled ahead of time into one extension module when
``agridrone warmup`` has built it for exactly these kernel sources, else compiled just in
time by numba (``@njit(cache=True)``, loaded from numba's on-disk cache when warm).

A plan process that finds the ahead-of-time module never imports numba: importing numba
and loading the first cached kernel cost 0.4-0.5 s of every ``agridrone plan`` on the
2-core machine, a quarter of the whole process. The module's folder is named by a digest
(:func:`build_key`) of the kernel sources, the Python ABI, numpy's major version and the
CPU, so a changed kernel, another interpreter or another machine never loads a stale build:
it plans with numba's JIT as before. ``AGRIDRONE_JIT=1`` forces the JIT (the build itself
runs under it); ``AGRIDRONE_CACHE_DIR`` names the folder to keep the module in.

Kernels are declared with :func:`kernel`. The ones Python calls (entries) carry their numba
signature, which the ahead-of-time build compiles; with the built module they become that
module's function behind a guard that converts every argument to the signature's type (the
compiled code reads memory as declared: a float32 array would crash the process). Kernels
only other kernels call carry no signature: they are compiled into the entries, and stay
plain Python functions in a process that loaded the module.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import operator
import os
import platform
import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

PACKAGE_DIR = Path(__file__).resolve().parent
KERNEL_MODULES = ("agridrone.coverage.kernels", "agridrone.dose_kernels", "agridrone.energy")
MODULE_NAME = "agridrone_kernels"  # the extension module's name (its PyInit_ symbol)
ENTRIES: list[tuple[str, str, str]] = []  # (module, function, numba signature) of every entry
_DTYPES = {"float64": np.float64, "int64": np.int64, "boolean": np.bool_}
_SCALARS: dict[str, Callable] = {"float64": float, "int64": operator.index, "boolean": bool}


def _cpu_identity() -> str:
    """The CPU model and instruction-set flags (Linux), else the platform's processor name:
    the build targets this CPU."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = [line for line in lines if line.startswith(("model name", "flags"))]
    return "\n".join(wanted[:2])


def build_key(package_dir: Path = PACKAGE_DIR) -> str:
    """The digest (16 hex digits) naming the ahead-of-time build of the kernel sources under
    ``package_dir`` for this interpreter, numpy major version and CPU."""
    digest = hashlib.sha256()
    for module in (*KERNEL_MODULES, __name__):
        digest.update((package_dir.parent / (module.replace(".", "/") + ".py")).read_bytes())
    for part in (sys.implementation.cache_tag, np.__version__.split(".")[0], platform.machine(),
                 _cpu_identity()):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def cache_folders() -> list[Path]:
    """Where the built module may be, in the order searched: ``AGRIDRONE_CACHE_DIR`` alone
    when set, else ``__pycache__`` beside the package and the user's cache folder."""
    named = os.environ.get("AGRIDRONE_CACHE_DIR")
    if named:
        return [Path(named)]
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agridrone"
    return [PACKAGE_DIR / "__pycache__", user]


def module_file(folder: Path, key: str) -> Path:
    """The path of the built module for ``key`` in cache folder ``folder``."""
    return folder / f"aot-{key}" / (MODULE_NAME + importlib.machinery.EXTENSION_SUFFIXES[0])


def export_name(module: str, function: str) -> str:
    """The name of kernel ``module.function`` in the built module."""
    return f"{module.rsplit('.', 1)[-1]}__{function}"


@cache
def compiled_module() -> ModuleType | None:
    """The ahead-of-time module built for these kernel sources, or None (not built, stale,
    unloadable, or ``AGRIDRONE_JIT=1``)."""
    if os.environ.get("AGRIDRONE_JIT") == "1":
        return None
    key = build_key()
    for folder in cache_folders():
        path = module_file(folder, key)
        if not path.is_file():
            continue
        spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except ImportError:
            continue
        return module
    return None


def argument_types(signature: str) -> list[tuple[str, int]]:
    """(numba type name, number of dimensions, 0 for a scalar) of each argument of a numba
    signature string such as ``"float64[::1](float64[:, ::1], int64)"``."""
    arguments = signature[signature.rindex("(") + 1:signature.rindex(")")]
    return [(name, dims.count(",") + 1 if dims else 0)
            for name, dims in re.findall(r"(\w+)(\[[^\]]*\])?", arguments)]


def _converter(name: str, ndim: int) -> Callable:
    """A function giving its argument as numba type ``name`` with ``ndim`` dimensions
    (C-contiguous arrays), or raising TypeError."""
    if ndim == 0:
        return _SCALARS[name]
    dtype = _DTYPES[name]

    def as_array(value):
        array = np.ascontiguousarray(value, dtype=dtype)
        if array.ndim != ndim:
            raise TypeError(f"expected a {ndim}-dimensional array, got {array.ndim} dimensions")
        return array
    return as_array


def _guarded(compiled: Callable, func: Callable, signature: str) -> Callable:
    """``compiled`` behind argument conversion to ``signature``, named and documented as
    ``func``. The wrapper is written out per arity (``def call(a0, a1): return
    compiled(c0(a0), c1(a1))``): a loop over the arguments cost 4 µs of the 5 µs a call,
    12,000 calls in a 111 ha plan."""
    types = argument_types(signature)
    names = [f"a{k}" for k in range(len(types))]
    converted = ", ".join(f"c{k}({name})" for k, name in enumerate(names))
    scope = {"compiled": compiled, **{f"c{k}": _converter(*t) for k, t in enumerate(types)}}
    exec(f"def call({', '.join(names)}):\n    return compiled({converted})\n", scope)
    call = scope["call"]
    call.__name__, call.__qualname__, call.__doc__ = func.__name__, func.__qualname__, func.__doc__
    call.__module__ = func.__module__
    return call


def _njit() -> Callable:
    """numba's ``njit(cache=True)``, with numba's array library loaded without scipy."""
    from numba import njit

    from agridrone.numba_start import load_numba_without_scipy

    load_numba_without_scipy()
    return njit(cache=True)


def kernel(signature: str | None = None) -> Callable[[Callable], Callable]:
    """Decorator of a numba kernel: ``signature`` (numba's string form, C-contiguous arrays)
    for a kernel Python calls, none for one only kernels call. See the module docstring."""
    def decorate(func: Callable) -> Callable:
        if signature is not None:
            ENTRIES.append((func.__module__, func.__name__, signature))
        module = compiled_module()
        if module is None:
            return _njit()(func)
        if signature is None:
            return func
        return _guarded(getattr(module, export_name(func.__module__, func.__name__)), func, signature)
    return decorate
