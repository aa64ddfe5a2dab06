"""The machine's float32 matmul peak, the denominator of MFU, and an MFU that cannot exceed it.

MFU (model FLOPs utilization) = FLOP/s a training step achieves / FLOP/s the hardware can do.
nanoGPT divides by an A100's 312 TFLOPS; on a CPU the honest ceiling is what NumPy's BLAS
reaches on a large float32 matrix multiply here, with the BLAS kernel and thread count this
process uses (read with threadpoolctl).

A measurement is only as good as its moment: a program running beside it slows the matmul, and
every MFU against that peak reads too high. So:
- each process measures once (a few short matmuls, spaced out: a fraction of a second) and
  uses the best of that and of the earlier quiet measurements of the same setup, kept in
  <cache>/matmul_peak.json (cache = $NUMPY2GPT_CACHE or ~/.cache/numpy2gpt);
- a measurement during which the measuring thread was kept off its CPU (something else ran)
  is used when nothing better is known, but never cached;
- MFUMeter measures again when a step claims more FLOP/s than the peak, and never reports more
  than 100%.
"""

import dataclasses
import json
import math
import os
import platform
import time
from typing import NamedTuple

import numpy as np

from .data import atomic_write, cache_root

CACHE_FILE = "matmul_peak.json"
QUIET_CPU_SHARE = 0.9  # less: the measuring thread waited for a CPU, the machine was busy
_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")
_wall_clock, _cpu_clock = time.perf_counter, time.thread_time  # tests inject fake clocks
_this_process = {}  # (cache file, setup key) -> the MatmulPeak this process measured


class Timing(NamedTuple):
    flops: float  # FLOP/s of the fastest timed matmul
    cpu_share: float  # the part of its wall time the measuring thread spent on a CPU


@dataclasses.dataclass(frozen=True)
class MatmulPeak:
    """A float32 matmul peak and where it comes from: what an MFU is relative to."""

    flops: float  # FLOP/s
    measured_at: str  # when the best measurement was taken, "2026-12-07 02:09 UTC"
    blas: str  # NumPy's BLAS library, version and kernel, "openblas 0.3.31 Haswell"
    threads: int | None  # its thread count
    samples: int = 1  # how many measurements this is the best of
    note: str = ""  # anything that makes it less than a quiet measurement

    def describe(self):
        text = (f"{self.flops / 1e9:.4g} GFLOP/s float32 matmul peak ({self.blas}, "
                f"{self.threads} thread{'s' if self.threads != 1 else ''}; best of "
                f"{self.samples} measurement"
                f"{'s' if self.samples != 1 else ''}, taken {self.measured_at})")
        return f"{text}; {self.note}" if self.note else text

    def as_dict(self):
        """The JSON form benchmarks print: GFLOP/s instead of FLOP/s."""
        out = dataclasses.asdict(self)
        return {"gflops": round(out.pop("flops") / 1e9, 2), **out}


def blas_info():
    """NumPy's BLAS as threadpoolctl sees it: library, kernel (architecture), threads, version."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    blas = [d for d in threadpool_info() if d.get("user_api") == "blas"]
    numpys = [d for d in blas if "numpy" in str(d.get("filepath", ""))]  # not torch's, scipy's
    return [{k: d.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
            for d in numpys or blas]


def cpu_model():
    """The CPU's model name ("model name" in /proc/cpuinfo; the platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _setup_key(n, info):
    """What the peak depends on: CPU, NumPy, the BLAS kernel and thread count in use (`info`,
    from blas_info; the BLAS environment variables when threadpoolctl cannot tell), size."""
    if isinstance(info, str):
        blas = ",".join(f"{k}={os.environ.get(k, '')}" for k in _BLAS_ENV)
    else:
        blas = ";".join(f"{d['internal_api']} {d['version']} {d['architecture']} "
                        f"threads={d['num_threads']}" for d in info)
    return (f"{platform.machine()}|{cpu_model()}|cpus={os.cpu_count()}|"
            f"numpy={np.__version__}|{blas}|n={n}")


def time_matmul_peak(n=1024, repeats=5, pause=0.05):
    """Time `repeats` (n x n) @ (n x n) float32 matmuls, `pause` seconds apart (a burst of load
    elsewhere hits few of them), after a warm-up; return the fastest as a Timing."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)  # warm-up: BLAS threads start, pages get touched
    best = Timing(0.0, 0.0)
    for i in range(repeats):
        if i:
            time.sleep(pause)
        wall, cpu = _wall_clock(), _cpu_clock()
        np.matmul(a, b, out=out)
        wall, cpu = max(_wall_clock() - wall, 1e-9), _cpu_clock() - cpu
        # The calling thread computes its part and then spins until BLAS's other threads are
        # done, so on an idle machine it is on a CPU the whole time; n^2 outputs, each n
        # multiplies and n adds.
        best = max(best, Timing(2.0 * n**3 / wall, min(cpu / wall, 1.0)))  # by FLOP/s first
    return best


def _read_cache(path):
    """The valid entries of the cache file ({} when it is missing or unreadable)."""
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}

    def valid(e):
        return (isinstance(e, dict) and isinstance(e.get("flops"), int | float)
                and math.isfinite(e["flops"]) and e["flops"] > 0
                and isinstance(e.get("measured_at"), str)
                and isinstance(e.get("samples"), int) and e["samples"] > 0)
    return {key: e for key, e in cache.items() if valid(e)} if isinstance(cache, dict) else {}


def matmul_peak(n=1024, cache_dir=None, refresh=False):
    """This setup's float32 matmul peak as a MatmulPeak: the best of this process's measurement
    and of the quiet ones cached before. A process measures once (again with `refresh=True`).

    A missing or unreadable cache is simply measured; an unwritable cache folder only costs the
    caching.
    """
    info = blas_info()
    path, key = cache_root(cache_dir) / CACHE_FILE, _setup_key(n, info)
    if not refresh and (path, key) in _this_process:
        return _this_process[path, key]
    if isinstance(info, str):
        blas, threads = f"unknown BLAS ({info})", None
    else:
        blas = "; ".join(f"{d['internal_api']} {d['version']} {d['architecture']}" for d in info)
        threads = info[0]["num_threads"] if info else None
    cache = _read_cache(path)
    entry = cache.get(key)
    known = entry and MatmulPeak(entry["flops"], entry["measured_at"], blas, threads,
                                 entry["samples"])
    timing = time_matmul_peak(n)
    fresh = MatmulPeak(timing.flops, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), blas,
                       threads)
    if timing.cpu_share >= QUIET_CPU_SHARE:
        best = fresh if not known or fresh.flops > known.flops else known
        peak = dataclasses.replace(best, samples=(known.samples if known else 0) + 1)
        cache[key] = {"flops": peak.flops, "measured_at": peak.measured_at,
                      "samples": peak.samples}
        try:
            text = json.dumps(cache, indent=1).encode()
            atomic_write({path: lambda f: f.write(text)})
        except OSError:
            pass  # read-only home, full disk...: the number is still right, just not remembered
    elif known and known.flops >= fresh.flops:
        peak = known  # this moment's slower measurement is the load's, not the machine's
    else:
        peak = dataclasses.replace(fresh, note=(
            f"measured while the machine was busy (the measuring thread was on a CPU "
            f"{timing.cpu_share:.0%} of the time), so not cached: MFU may read high"))
    _this_process[path, key] = peak
    return peak


def measure_matmul_peak(n=1024, cache_dir=None, refresh=False):
    """The float32 matmul peak in FLOP/s (see matmul_peak for where it comes from)."""
    return matmul_peak(n, cache_dir, refresh).flops


class MFUMeter:
    """MFU of training steps against the machine's matmul peak, never above 100%.

    The peak is measured at the first call, and `log` says what it is: an MFU means nothing
    without its denominator. A step that achieves more FLOP/s than the peak shows that the
    peak was measured under load: it is measured again (and `log` says so); should the step
    still beat it, the step's own rate becomes the peak (MFU 100%).
    """

    def __init__(self, log=print, n=1024, cache_dir=None):
        self.log, self.n, self.cache_dir = log, n, cache_dir
        self.peak = None  # the MatmulPeak MFUs are relative to
        self.changed = False  # the last call set a new peak: earlier MFUs had another one

    def __call__(self, model, fwdbwd_per_iter, dt):
        """The MFU of a step in which `fwdbwd_per_iter` sequences took `dt` seconds."""
        self.changed = self.peak is None
        if self.peak is None:
            self.peak = matmul_peak(self.n, self.cache_dir)
            self.log(f"mfu is relative to the {self.peak.describe()}")
        mfu = model.estimate_mfu(fwdbwd_per_iter, dt, peak_flops=self.peak.flops)
        if mfu > 1:
            achieved, old = mfu * self.peak.flops, self.peak
            again = matmul_peak(self.n, self.cache_dir, refresh=True)
            self.peak = again if again.flops > old.flops else old
            if achieved > self.peak.flops:
                self.peak = dataclasses.replace(self.peak, flops=achieved, note=(
                    f"raised to a training step's rate, which beat the re-measured "
                    f"{again.flops / 1e9:.4g} GFLOP/s"))
            self.changed = True
            self.log(f"mfu: a step ran at {achieved / 1e9:.4g} GFLOP/s, more than the "
                     f"{old.flops / 1e9:.4g} GFLOP/s peak, which must have been measured under "
                     f"load: re-measured; mfu is now relative to the {self.peak.describe()}")
            mfu = achieved / self.peak.flops
        return mfu


__all__ = ["MFUMeter", "MatmulPeak", "blas_info", "cpu_model", "matmul_peak",
           "measure_matmul_peak", "time_matmul_peak"]
