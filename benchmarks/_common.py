"""Shared benchmark plumbing: configs, child processes with OpenBLAS's pinning variables unset,
BLAS kernel reporting, medians."""

import json
import os
import statistics
import subprocess
import sys

from numpy2gpt.gpt.mfu import blas_info  # noqa: F401 - the benchmarks' BLAS report

CONFIGS = {
    "baby": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, vocab_size=65),
    "small": dict(n_layer=6, n_head=6, n_embd=192, block_size=128, batch_size=16, vocab_size=65),
    "shakespeare": dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=64,
                        vocab_size=65),
}

# These machines pin OpenBLAS to an older kernel; a user's machine does not. Benchmarks unset
# them for their own child processes only (tests and CI keep them).
PINNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def child_env(blas_threads=None):
    env = {k: v for k, v in os.environ.items() if k not in PINNING_VARS}
    if blas_threads is not None:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(blas_threads)
    return env


def run_child(module, args, blas_threads=None):
    """Run `python -m module args` in a fresh process; return its last stdout line as JSON."""
    out = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                         env=child_env(blas_threads))
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(xs):
    return statistics.median(xs)


def rss_mib():
    import resource

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
