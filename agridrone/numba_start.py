"""Loading numba's array support without importing scipy.

The first time a process calls (or loads from the cache) a numba kernel, numba imports its
array library, whose ``numba.np.arraymath`` probes for BLAS at import by importing
``scipy.linalg.cython_blas``: all of scipy.linalg, 0.13-0.22 s of every ``agridrone plan``
on the 2-core machine, for a flag (``_HAVE_BLAS``) that only picks between BLAS and a plain
loop for the inner products of ``np.correlate`` and ``np.convolve``, which no agridrone
kernel calls. The
kernels themselves never need scipy; a later ``np.linalg`` kernel would still import it
through numba's own ``ensure_blas``, which is put back at once.
"""

from __future__ import annotations

import sys


def _no_blas_probe() -> None:
    raise ImportError("BLAS probe skipped by agridrone (no kernel uses it)")


def load_numba_without_scipy() -> None:
    """Import numba's array library with its BLAS probe answered "none" (once; harmless
    when it is already loaded)."""
    if "numba.np.arraymath" in sys.modules:
        return
    from numba.np import linalg

    probe = getattr(linalg, "ensure_blas", None)
    if probe is None:  # a numba without this probe: nothing to skip
        return
    linalg.ensure_blas = _no_blas_probe
    try:
        from numba.np import arraymath
    finally:
        linalg.ensure_blas = probe
    arraymath.ensure_blas = probe
