"""The machine's float32 matmul peak, measured once and cached: the denominator of MFU.

MFU (model FLOPs utilization) = FLOP/s a training step achieves / FLOP/s the hardware can do.
nanoGPT divides by an A100's 312 TFLOPS; on a CPU the honest ceiling is what NumPy's BLAS
reaches on a large float32 matrix multiply here, with the BLAS threads and kernel this process
uses. Measuring takes about a second, so the result is cached in
<cache>/matmul_peak.json (cache = $NUMPY2GPT_CACHE or ~/.cache/numpy2gpt), one entry per setup.
"""

import json
import os
import platform
import time

import numpy as np

from .data import atomic_write, cache_root

CACHE_FILE = "matmul_peak.json"
_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")


def _setup_key(n):
    """What the peak depends on: machine, NumPy (its BLAS), thread settings and matrix size."""
    env = ",".join(f"{k}={os.environ.get(k, '')}" for k in _BLAS_ENV)
    return (f"{platform.machine()}|{platform.processor()}|cpus={os.cpu_count()}|"
            f"numpy={np.__version__}|{env}|n={n}")


def time_matmul_peak(n=2048, repeats=3):
    """FLOP/s of the fastest of `repeats` (n x n) @ (n x n) float32 matmuls (after a warm-up)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)  # warm-up: BLAS threads start, pages get touched
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best  # n^2 outputs, each n multiplies and n adds


def measure_matmul_peak(n=2048, repeats=3, cache_dir=None, refresh=False):
    """The float32 matmul peak in FLOP/s, from the cache when this setup was measured before.

    `refresh=True` measures again. A missing or unreadable cache file is simply re-measured;
    an unwritable cache folder only costs the caching.
    """
    path = cache_root(cache_dir) / CACHE_FILE
    key = _setup_key(n)
    try:
        cache = json.loads(path.read_text())
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    if not refresh and isinstance(cache.get(key), int | float) and cache[key] > 0:
        return float(cache[key])
    peak = time_matmul_peak(n, repeats)
    cache[key] = peak
    try:
        text = json.dumps(cache, indent=1).encode()
        atomic_write({path: lambda f: f.write(text)})
    except OSError:
        pass  # read-only home, full disk...: the number is still right, just not remembered
    return peak


__all__ = ["measure_matmul_peak", "time_matmul_peak"]
