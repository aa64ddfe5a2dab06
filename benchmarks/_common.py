"""Shared benchmark plumbing: configs, child processes with OpenBLAS's pinning variables unset,
the machine record (CPU model, BLAS kernel, thread counts), medians and step-time summaries."""

import json
import os
import statistics
import subprocess
import sys

import numpy as np

from numpy2gpt.gpt.mfu import blas_info, cpu_model  # noqa: F401 - the BLAS report

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


def run_child(module, args, blas_threads=None, launcher=None):
    """Run `python -m module args` in a fresh process; return its last stdout line as JSON.
    launcher: the command that starts it instead of this Python, e.g. ["mpiexec", "-n", "2",
    sys.executable] (then only rank 0 prints the JSON)."""
    command = [*(launcher or [sys.executable]), "-m", module, *args]
    out = subprocess.run(command, capture_output=True, text=True, env=child_env(blas_threads))
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def mlp_product(cfg):
    """The two float32 operands of a GPT config's first MLP product, (B*T, C) @ (C, 4C): the
    product a step runs just before GELU (random values; only the shapes matter)."""
    rng = np.random.default_rng(1)
    n, c = cfg["batch_size"] * cfg["block_size"], cfg["n_embd"]
    return (rng.standard_normal((n, c)).astype(np.float32),
            rng.standard_normal((c, 4 * c)).astype(np.float32))


def torch_info():
    """PyTorch's side of a timed child, read inside it: its intra-op threads and the SIMD level
    its CPU kernels dispatch to."""
    import torch

    return {"threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def kernel_threads():
    """numpy2gpt's kernel thread pool size in this process (numpy2gpt.get_num_threads())."""
    import numpy2gpt

    return numpy2gpt.get_num_threads()


def machine(numpy_blas=None, torch=None, numpy2gpt_threads=None):
    """The "machine" record of a benchmark's JSON: the CPU model and the cores this process may
    use, and what the timed children ran on as they read it themselves - NumPy's BLAS
    (`numpy_blas`, from blas_info(): library, kernel, threads), numpy2gpt's kernel threads
    (`numpy2gpt_threads`, from kernel_threads()) and PyTorch's threads and CPU capability
    (`torch`, from torch_info())."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas_threads = None
    if isinstance(numpy_blas, list):  # a string when threadpoolctl is missing
        blas_threads = [d["num_threads"] for d in numpy_blas]
        blas_threads = blas_threads[0] if len(set(blas_threads)) == 1 else blas_threads or None
    return {"cpu_model": cpu_model(), "cpus": cpus, "numpy_blas": numpy_blas,
            "blas_threads": blas_threads, "numpy2gpt_kernel_threads": numpy2gpt_threads,
            "torch_threads": torch["threads"] if torch else None,
            "torch_cpu_capability": torch["cpu_capability"] if torch else None}


def median(xs):
    return statistics.median(xs)


def step_summary(ms):
    """Mean, median, 99th percentile and max of step times in ms: a mean above the median
    shows a slow tail that a median alone hides."""
    return {"mean": round(statistics.fmean(ms), 2), "median": round(median(ms), 2),
            "p99": round(float(np.percentile(ms, 99)), 2), "max": round(max(ms), 2)}


def rss_mib():
    import resource

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
