"""The kernels compiled ahead of time (agridrone.aot, built by `agridrone warmup`): plans
byte-identical to numba's JIT, no numba imported, any array-like argument taken as the JIT
takes it, and a build of other kernel sources never loaded."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agridrone.aot import build_key, module_file

ROOT = Path(__file__).resolve().parents[1]
FIELD = "example:sahiwal_L_with_obstacles"  # holes and a bend: every kernel runs


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A cache folder holding the module `agridrone warmup` built."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler (cc): numba.pycc cannot link the module")
    folder = tmp_path_factory.mktemp("aot-cache")
    result = subprocess.run([sys.executable, "-m", "agridrone", "warmup"], capture_output=True,
                            text=True, cwd=ROOT, timeout=600,
                            env={**os.environ, "AGRIDRONE_CACHE_DIR": str(folder)})
    assert result.returncode == 0, result.stderr
    assert "kernels compiled ahead of time, built" in result.stdout, result.stdout
    assert module_file(folder, build_key()).is_file()
    return folder


PLAN = ("import json, sys\n"
        "from agridrone.cli import main\n"
        "main(['plan', {field!r}, '-o', {out!r}])\n"
        "print(json.dumps(sorted(m for m in ('numba', 'llvmlite') if m in sys.modules)))\n")


def test_plans_are_byte_identical_and_need_no_numba(built, tmp_path):
    aot = _run(PLAN.format(field=FIELD, out=str(tmp_path / "aot")), {"AGRIDRONE_CACHE_DIR": str(built)})
    jit = _run(PLAN.format(field=FIELD, out=str(tmp_path / "jit")), {"AGRIDRONE_JIT": "1"})
    assert aot.returncode == 0, aot.stderr
    assert jit.returncode == 0, jit.stderr
    assert json.loads(aot.stdout.splitlines()[-1]) == []
    assert json.loads(jit.stdout.splitlines()[-1]) == ["llvmlite", "numba"]
    names = sorted(p.name for p in (tmp_path / "aot").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "jit").iterdir())
    assert {"plan.json", "dose.tif", "preview.png", "sortie-01.plan"} <= set(names)
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "aot", tmp_path / "jit", names, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_compiled_kernels_convert_arguments_as_the_jit_does(built):
    code = ("import json, numpy as np\n"
            "from agridrone.aot import compiled_module\n"
            "from agridrone.coverage.kernels import _swath_line_ys\n"
            "from agridrone.energy import _ramp_time\n"
            "ry = np.array([0.0, 3.0, 1.0, 10.0, 2.0])\n"
            "out = {'compiled': compiled_module() is not None,\n"
            "       'f64': _swath_line_ys(ry, 2.0, 0.5).tolist(),\n"
            "       'f32': _swath_line_ys(ry.astype(np.float32), 2.0, 0.5).tolist(),\n"
            "       'strided': _swath_line_ys(np.repeat(ry, 2)[::2], 2, 0.5).tolist(),\n"
            "       'ramp': _ramp_time(5, 2, 0.5)}\n"
            "for bad in (lambda: _swath_line_ys(ry.reshape(5, 1), 2.0, 0.5),\n"
            "            lambda: _swath_line_ys(ry, 2.0)):\n"
            "    try:\n"
            "        bad()\n"
            "        out.setdefault('accepted', []).append(1)\n"
            "    except TypeError:\n"
            "        out.setdefault('refused', []).append(1)\n"
            "print(json.dumps(out))\n")
    aot = _run(code, {"AGRIDRONE_CACHE_DIR": str(built)})
    jit = _run(code, {"AGRIDRONE_JIT": "1"})
    assert aot.returncode == 0, aot.stderr  # a float32 array read as float64 would crash here
    assert jit.returncode == 0, jit.stderr
    compiled, jitted = json.loads(aot.stdout), json.loads(jit.stdout)
    assert compiled.pop("compiled") and not jitted.pop("compiled")
    assert compiled["f64"] == [0.5, 2.5, 4.5, 6.5, 8.5]
    assert compiled["f32"] == compiled["strided"] == compiled["f64"]
    assert compiled["refused"] == [1, 1]
    assert compiled["ramp"] == pytest.approx(jitted["ramp"], rel=1e-15)
    assert {k: v for k, v in compiled.items() if k != "refused"} == \
        {k: v for k, v in jitted.items() if k not in ("refused", "accepted")}


def test_a_build_for_other_kernel_sources_is_never_loaded(built, tmp_path):
    stale = tmp_path / "cache"
    shutil.copytree(module_file(built, build_key()).parent, stale / "aot-0123456789abcdef")
    code = ("from agridrone.aot import compiled_module\n"
            "from agridrone.coverage.kernels import _heading_costs\n"
            "print(compiled_module() is None, type(_heading_costs).__name__)\n")
    result = _run(code, {"AGRIDRONE_CACHE_DIR": str(stale)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "CPUDispatcher"]


def test_warmup_writes_the_bytecode(built):
    """Without .pyc files (an editable install with PYTHONDONTWRITEBYTECODE=1) every plan
    process compiles its modules again."""
    import importlib.util

    for module in ("agridrone/planner.py", "agridrone/coverage/transit.py", "missions/files.py"):
        assert Path(importlib.util.cache_from_source(str(ROOT / module))).is_file(), module


def test_the_build_key_follows_the_kernel_sources(tmp_path):
    package = tmp_path / "agridrone"
    for module in ("coverage/kernels.py", "dose_kernels.py", "energy.py", "aot.py"):
        (package / module).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "agridrone" / module, package / module)
    assert build_key(package) == build_key()
    kernels = package / "coverage" / "kernels.py"
    kernels.write_text(kernels.read_text().replace("lo = mid + 1", "lo = mid + 2"))
    assert build_key(package) != build_key()


def test_warmup_without_a_compiler_still_fills_numbas_cache(tmp_path):
    """The ahead-of-time build fails (no C compiler on PATH): warmup says so in one note and
    succeeds, and plans run on numba's JIT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bin_dir), "CC": "no-such-compiler",
           "AGRIDRONE_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-m", "agridrone", "warmup"], capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "note: the kernels could not be compiled ahead of time" in result.stdout
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-built left behind
    assert "Traceback" not in result.stdout + result.stderr
