"""The native GOST R 34.10-2012 core never branches or indexes memory on the private key d or the nonce k.

tests/gost/ct/ct_driver.c is compiled from the core's plain C sources (no Python) with SIGNAGENT_CT_VALGRIND, which
makes the core mark r, s and the public key as defined exactly where they become public output. The driver marks d
and k undefined; valgrind's memcheck then reports every conditional jump and every address computed from them.
A run must show no such report, and the driver's results must equal the Python module's (so the checked code is
the code that runs). A build with -DCT_SELFTEST_LEAK branches on a bit of d on purpose and must be reported: the
check can fail.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from signagent.gost import curves
from tests.conftest import require

pytestmark = pytest.mark.oracle

ROOT = Path(__file__).resolve().parents[2]
CORE_DIR = ROOT / "signagent" / "gost" / "_native" / "ec"
DRIVER = Path(__file__).resolve().parent / "ct" / "ct_driver.c"
MEMCHECK_H = Path("/usr/include/valgrind/memcheck.h")
# The flags setup.py uses for the extension, so that the optimiser makes the same choices as in the shipped module.
# Only the driver gets -g (readable reports); the core without it compiles twice as fast.
CFLAGS = ["-O3", "-std=c11", "-fwrapv", "-fno-strict-aliasing", "-Wall", "-Wextra", "-DSIGNAGENT_CT_VALGRIND"]
ERROR_EXIT = 99
SECRET_REPORTS = ("depends on uninitialised value", "Use of uninitialised value")
# Pseudo-Mersenne p with generic a, pseudo-Mersenne p with a = -3, and Montgomery arithmetic (generic p, a = 7).
CT_CURVES = ["tc26-256-A", "tc26-512-A", "cryptopro-test", "tc26-512-test"]


def _core_sources() -> list[str]:
    """Every C file of the core except the Python glue."""
    return sorted(str(p) for p in CORE_DIR.glob("*.c") if p.name != "ec_module.c")


def _gcc() -> str:
    gcc = shutil.which("gcc")
    require(gcc, "gcc (to build the constant-time driver)")
    require(shutil.which("valgrind"), "valgrind (Debian package valgrind)")
    require(MEMCHECK_H.is_file(), "valgrind/memcheck.h (Debian package valgrind)")
    return str(gcc)


def _compile_core(out_dir: Path, *defines: str) -> list[Path]:
    """The core's object files, compiled in parallel."""
    gcc = _gcc()
    jobs = []
    for src in _core_sources():
        obj = out_dir / (Path(src).stem + ".o")
        cmd = [gcc, *CFLAGS, *defines, f"-I{CORE_DIR}", "-c", src, "-o", str(obj)]
        jobs.append((obj, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for _obj, job in jobs:
        _, err = job.communicate(timeout=600)
        assert job.returncode == 0, err
    return [obj for obj, _ in jobs]


@pytest.fixture(scope="module")
def core_objects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The core as the module uses it on this machine (valgrind hides ADX, so: the portable multiplications)."""
    return _compile_core(tmp_path_factory.mktemp("ct_core"))


@pytest.fixture(scope="module")
def core_objects_adx(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The core with its BMI2/ADX multiplications forced on (valgrind runs them, though it hides the CPUID bit)."""
    return _compile_core(tmp_path_factory.mktemp("ct_core_adx"), "-DSIGNAGENT_EC_FORCE_ADX")


def _link_driver(objects: list[Path], out: Path, *defines: str) -> Path:
    cmd = [_gcc(), *CFLAGS, "-g", *defines, f"-I{CORE_DIR}", str(DRIVER), *map(str, objects), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def driver(core_objects: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _link_driver(core_objects, tmp_path_factory.mktemp("ct") / "ct_driver")


@pytest.fixture(scope="module")
def driver_adx(core_objects_adx: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _link_driver(core_objects_adx, tmp_path_factory.mktemp("ct_adx") / "ct_driver_adx")


@pytest.fixture(scope="module")
def leaky_driver(core_objects: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _link_driver(core_objects, tmp_path_factory.mktemp("ct_leak") / "ct_driver_leak", "-DCT_SELFTEST_LEAK")


def _inputs(c: curves.Curve, seed: str) -> tuple[int, int, int]:
    rng = random.Random(seed)
    return rng.randrange(1, c.q), rng.randrange(1, c.q), rng.randrange(1, c.q)


def _run(exe: Path, c: curves.Curve, d: int, k: int, e: int) -> subprocess.CompletedProcess[str]:
    n = c.size
    args = [v.to_bytes(n, "big").hex() for v in (c.p, c.a, c.b, c.q, c.x, c.y, d, k, e)]
    cmd = ["valgrind", "--tool=memcheck", f"--error-exitcode={ERROR_EXIT}", str(exe), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", CT_CURVES)
@pytest.mark.parametrize("variant", ["portable", "adx"])
def test_key_derivation_and_signing_are_constant_time(request: pytest.FixtureRequest, variant: str, name: str) -> None:
    driver = request.getfixturevalue("driver" if variant == "portable" else "driver_adx")
    c = curves.curve(name)
    d, k, e = _inputs(c, name)
    proc = _run(driver, c, d, k, e)
    assert not any(report in proc.stderr for report in SECRET_REPORTS), proc.stderr
    assert proc.returncode == 0, proc.stderr

    # The driver computed the same values as the Python module does (and its own signatures verify).
    from signagent.gost import _ec_c

    out = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    n = c.size
    engine = c.make_engine(_ec_c)
    d_b, k_b, e_b = (v.to_bytes(n, "big") for v in (d, k, e))
    assert bytes.fromhex(out["pub"]) == engine.public_key(d_b)
    assert bytes.fromhex(out["sig"]) == engine.sign(d_b, e_b, k_b)
    assert bytes.fromhex(out["mul"]) == engine.public_key(d_b)
    assert out["verify_given"] == "1"
    assert out["verify_random"] == "1"


def test_a_secret_dependent_branch_is_reported(leaky_driver: Path) -> None:
    c = curves.curve("tc26-256-A")
    d, k, e = _inputs(c, "leak")
    proc = _run(leaky_driver, c, d, k, e)
    assert proc.returncode == ERROR_EXIT, proc.stderr
    assert "depends on uninitialised value" in proc.stderr
    assert "ct_driver.c" in proc.stderr
