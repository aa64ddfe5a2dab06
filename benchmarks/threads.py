"""What a second Python thread buys numpy2gpt's kernels on this machine, in three measurements.

    python -m benchmarks.threads [--config baby|small] [--steps 30]

1. `two_threads`: two Python threads each running their own chain of NumPy calls (out-of-place
   float32 multiplies on their own arrays: no shared data, no lock) against one thread running
   both chains, for calls of 2,048 to 131,072 elements. NumPy lets go of the GIL inside each
   call, so two threads could take half the time; every call also takes the GIL back, and when
   the other thread holds it the caller sleeps until it is handed over. "speedup" is one
   thread's time over two threads' (2 at best).
2. `pool`: the kernel pool (numpy2gpt/kernels/threads.py) running float32 exact GELU forward on
   the baby config's MLP activations (768 x 512), at 1 and 2 threads alternating call by call:
   back to back, after 5 ms asleep, and right after an untimed matrix product of the MLP's shape
   (OpenBLAS's worker then spins on the other core); with the delay from the call to the pool
   worker's first block, and the share of calls it joined at all.
3. `step`: a user's plain training loop of the chosen config, its steps alternating between a
   kernel pool of 1 and of 2 threads in one process (BLAS keeps 2 threads throughout): median
   step time of each, and of the exact GELU inside it (forward and backward); and for GELU's
   forward, how many of its blocks the calling thread and the pool's worker ran and how long
   each took (median and 90th percentile); and how long per step the calling thread was
   runnable but had no core (Linux's schedstat; null elsewhere).
Prints JSON with the machine record; runs in a fresh process with OpenBLAS's pinning variables
unset.
"""

import argparse
import contextlib
import json
import sys
import threading
import time

import numpy as np

from ._common import CONFIGS, blas_info, kernel_threads, machine, median, mlp_product, run_child


def _multiplies(calls, size):
    a = np.random.default_rng(0).random(size, dtype=np.float32)
    out = np.empty_like(a)
    for _ in range(calls):
        np.multiply(a, a, out=out)


def two_threads(total=4_000_000, rounds=3):
    """One thread running two chains of multiplies against two threads running one each."""
    result = {}
    for size in (2048, 8192, 32768, 131072):
        calls = total // size
        one, two = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            _multiplies(calls, size)
            _multiplies(calls, size)
            one.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            other = threading.Thread(target=_multiplies, args=(calls, size))
            other.start()
            _multiplies(calls, size)
            other.join()
            two.append(time.perf_counter() - t0)
        result[str(size)] = {"calls_per_thread": calls,
                             "one_thread_us_per_call": round(median(one) / 2 / calls * 1e6, 2),
                             "speedup": round(median(one) / median(two), 2)}
    return result


@contextlib.contextmanager
def _gelu_blocks_through(wrapper):
    """GELU's kernels call `wrapper` in place of parallel_blocks; afterwards they call it again
    and the pool has its size back."""
    import numpy2gpt.kernels.gelu as gelu
    import numpy2gpt.kernels.threads as threads

    saved = threads._num_threads
    gelu.parallel_blocks = wrapper
    try:
        yield
    finally:
        gelu.parallel_blocks, threads._num_threads = threads.parallel_blocks, saved


def pool(repeat=60):
    """The kernel pool's exact GELU on 1 and 2 threads, in three situations."""
    import numpy2gpt.kernels.gelu as gelu
    import numpy2gpt.kernels.threads as threads

    a, b = mlp_product(CONFIGS["baby"])
    x = np.random.default_rng(0).standard_normal((len(a), b.shape[1])).astype(np.float32)
    started = {}  # thread id -> when it took its first block, in the call being timed

    def noting(blocks):
        for lo_hi in blocks:
            started.setdefault(threading.get_ident(), time.perf_counter())
            yield lo_hi

    def watched(n_items, block, work):  # parallel_blocks, noting each thread's first block
        threads.parallel_blocks(n_items, block, lambda blocks: work(noting(blocks)))

    result = {}
    with _gelu_blocks_through(watched):
        for situation in ("back to back", "after 5 ms asleep", "after a product"):
            times, delays, joined = {1: [], 2: []}, [], 0
            for i in range(2 * (repeat + 3)):
                k = threads._num_threads = 1 + i % 2
                if situation == "after 5 ms asleep":
                    time.sleep(0.005)
                elif situation == "after a product":
                    a @ b
                started.clear()
                t0 = time.perf_counter()
                gelu.gelu_forward_fast(x, "none", True)
                elapsed = time.perf_counter() - t0
                if i < 6:  # warm-up
                    continue
                times[k].append(elapsed)
                worker = [t for tid, t in started.items() if tid != threading.get_ident()]
                if k == 2 and worker:
                    joined += 1
                    delays.append(worker[0] - t0)
            result[situation] = {
                "one_thread_us": round(median(times[1]) * 1e6, 1),
                "two_threads_us": round(median(times[2]) * 1e6, 1),
                "speedup": round(median(times[1]) / median(times[2]), 2),
                "worker_start_us": round(median(delays) * 1e6, 1) if delays else None,
                "worker_joined": round(joined / len(times[2]), 2)}
    return result


def _runqueue_wait():
    """Seconds this thread has spent runnable but not running (waiting for a core), from Linux's
    schedstat; None where there is none."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def step(config, steps):
    """A plain loop's steps alternating between a kernel pool of 1 and 2 threads."""
    import numpy2gpt.kernels.gelu as gelu
    import numpy2gpt.kernels.threads as threads

    from .train_step import _batches, _numpy2gpt_step

    cfg = CONFIGS[config]
    run, _ = _numpy2gpt_step(cfg, "plain")
    x, y = _batches(cfg, 1)[0]
    in_gelu = [0.0]
    blocks_run = {(k, who): [] for k in (1, 2) for who in ("caller", "worker")}
    caller = threading.get_ident()

    def timing(blocks):  # how long each block of GELU's forward took, on the thread that ran it
        who = "caller" if threading.get_ident() == caller else "worker"
        start = time.perf_counter()
        for lo_hi in blocks:
            yield lo_hi
            end = time.perf_counter()
            blocks_run[threads._num_threads, who].append(end - start)
            start = end

    def timed_blocks(n_items, block, work):  # GELU's parallel part, forward and backward
        t0 = time.perf_counter()
        if getattr(work, "func", None) is gelu._gelu_float32:  # the forward's blocks
            threads.parallel_blocks(n_items, block, lambda blocks: work(timing(blocks)))
        else:
            threads.parallel_blocks(n_items, block, work)
        in_gelu[0] += time.perf_counter() - t0

    times, gelus, waits = {1: [], 2: []}, {1: [], 2: []}, {1: [], 2: []}
    with _gelu_blocks_through(timed_blocks):
        for i in range(2 * (steps + 2)):
            k = threads._num_threads = 1 + i % 2
            in_gelu[0] = 0.0
            wait0, t0 = _runqueue_wait(), time.perf_counter()
            run(x, y)
            if i >= 4:  # warm-up
                times[k].append(time.perf_counter() - t0)
                gelus[k].append(in_gelu[0])
                if wait0 is not None:
                    waits[k].append(_runqueue_wait() - wait0)
            else:
                for run_times in blocks_run.values():
                    run_times.clear()

    def blocks(k, who):
        t = blocks_run[k, who]
        return {"blocks": len(t), "median_us": round(median(t) * 1e6) if t else None,
                "p90_us": round(float(np.percentile(t, 90)) * 1e6) if t else None}

    return {f"{k}_thread{'s' if k > 1 else ''}": {
        "step_ms": round(median(times[k]) * 1e3, 2),
        "gelu_ms": round(median(gelus[k]) * 1e3, 2),
        "caller_runnable_not_running_ms": round(median(waits[k]) * 1e3, 2) if waits[k] else None,
        "gelu_forward_blocks": {who: blocks(k, who) for who in ("caller", "worker")}}
        for k in (1, 2)}


def child(args):
    record = {"config": args.config, "two_threads": two_threads(), "pool": pool(),
              "step": step(args.config, args.steps)}
    record["machine"] = machine(blas_info(), None, kernel_threads())
    print(json.dumps(record))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=["baby", "small"], default="baby")
    p.add_argument("--steps", type=int, default=30, help="steps timed per pool size")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    out = run_child("benchmarks.threads", ["--config", args.config, "--steps", str(args.steps),
                                           "--child"])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
