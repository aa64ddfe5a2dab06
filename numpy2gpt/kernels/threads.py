"""Threads for the kernels: a small persistent pool that runs the blocks of a large elementwise
kernel on every core, and `set_num_threads` / `get_num_threads` (PyTorch's meaning).

Why threads pay in NumPy: a ufunc releases the GIL while it loops over an array, so threads that
each run the same ufunc calls on their own blocks of a large array compute at the same time.

    def work(blocks):                  # runs on this thread and on the pool's workers
        scratch = np.empty(...)        # each thread's own temporaries
        for lo, hi in blocks:          # the next block nobody has taken yet
            ...ufuncs on x[lo:hi]...
    parallel_blocks(x.size, BLOCK, work)

Same bits as one thread: the blocks are those a single thread would run (the same boundaries),
and each block gets the same calls; threads only decide who runs which block. Blocks are handed
out one at a time, so a thread slowed by a busy core simply takes fewer of them.

No spinning: idle workers sleep on a queue, and the caller, after running blocks itself, sleeps
until the workers that joined in are done. A worker that wakes up after the caller has finished
every block does nothing, so the caller never waits for a thread that had no core. Inputs of a
single block run inline: handing work to a thread costs tens of microseconds.

`set_num_threads(n)` sets both this pool's size and BLAS's threads (OpenBLAS, through
threadpoolctl), as `torch.set_num_threads` sets PyTorch's intra-op threads; `get_num_threads()`
returns n, by default the number of cores this process may use.
"""

import math
import os
import queue
import threading
from pathlib import Path

import numpy as np

BLOCK = 32768  # elements per block of a fused elementwise pass: its temporaries stay in L2 cache


# ----- how many threads --------------------------------------------------------------------------
def _cgroup_cpu_limit(root="/sys/fs/cgroup"):
    """The CPU quota of this process's cgroup in cores (rounded up), or None without one.

    cgroup v2 keeps "quota period" in cpu.max ("max" for none); v1 keeps the two numbers in
    cpu/cpu.cfs_quota_us (-1 for none) and cpu/cpu.cfs_period_us. (A container sees its own
    cgroup at /sys/fs/cgroup.)"""
    for files in (["cpu.max"], ["cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us"]):
        try:
            quota, period = " ".join(Path(root, f).read_text() for f in files).split()
            if quota not in ("max", "-1") and int(period) > 0:
                return max(1, math.ceil(int(quota) / int(period)))
        except (OSError, ValueError):
            pass
    return None


def default_num_threads():
    """The cores this process may use: its CPU affinity, capped by its cgroup's CPU quota; or
    OMP_NUM_THREADS when that is set to a positive integer (as in PyTorch)."""
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return min(cores, _cgroup_cpu_limit() or cores)


_num_threads = default_num_threads()
_blas_controller = None


def get_num_threads():
    """Returns the number of threads used for parallelizing CPU operations (kernels and BLAS)."""
    return _num_threads


def set_num_threads(n):
    """Sets the number of threads used for intraop parallelism on CPU: the kernel pool's, and
    BLAS's (through threadpoolctl), like `torch.set_num_threads`."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _num_threads = int(n)
    _limit_blas(_num_threads)


def _limit_blas(n):
    """Give BLAS n threads (threadpoolctl changes the loaded library's setting in place)."""
    global _blas_controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # a dependency; without it, BLAS keeps what the environment asked for
        return
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()
    _blas_controller.limit(limits=n, user_api="blas")


# ----- the pool ----------------------------------------------------------------------------------
class _Blocks:
    """The blocks (lo, hi) of range(n), `size` long (the last one shorter), handed out in order
    to whichever thread asks next."""

    def __init__(self, n, size):
        self.n, self.size, self.next_lo = n, size, 0
        self.lock = threading.Lock()

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            lo = self.next_lo
            if lo >= self.n:
                raise StopIteration
            self.next_lo = lo + self.size
        return lo, min(lo + self.size, self.n)


class _Job:
    """One parallel_blocks call: the workers that join in run `work(blocks)` beside the caller."""

    def __init__(self, work, blocks):
        self.work, self.blocks = work, blocks
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.running, self.closed, self.error = 0, False, None

    def join_in(self):
        """On a worker: run blocks until none are left, unless the caller has already finished."""
        with self.lock:
            if self.closed:
                return
            self.running += 1
        try:
            self.work(self.blocks)
        except BaseException as e:  # handed to the caller, which raises it
            self.error = self.error or e
        finally:
            with self.lock:
                self.running -= 1
                self.done.notify()

    def finish(self):
        """On the caller, after its own share: wait (asleep) for the workers still running."""
        with self.lock:
            self.closed = True
            self.done.wait_for(lambda: self.running == 0)
        if self.error is not None:
            raise self.error


class _Pool:
    """Worker threads started on first need and kept (daemons, asleep on a queue when idle)."""

    def __init__(self):
        self.jobs = queue.SimpleQueue()
        self.size = 0
        self.lock = threading.Lock()

    def submit(self, job, helpers):
        with self.lock:
            while self.size < helpers:
                threading.Thread(target=self._serve, name=f"numpy2gpt-kernel-{self.size}",
                                 daemon=True).start()
                self.size += 1
        for _ in range(helpers):
            self.jobs.put(job)

    def _serve(self):
        _local.inline = True  # kernels called from here run inline: no pool inside the pool
        while True:
            self.jobs.get().join_in()


_pool = _Pool()
_local = threading.local()
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=lambda: globals().update(_pool=_Pool()))


def parallel_blocks(n, block, work):
    """Run `work(blocks)` on this thread and on up to get_num_threads() - 1 pool workers.

    `blocks` yields the (lo, hi) blocks of range(n), `block` elements long, each to exactly one
    thread; `work` loops over it (`for lo, hi in blocks:`) and may allocate per-thread scratch
    before the loop. Returns when every block is done; an exception in any thread is raised here.
    With one block, one thread, or when called from a pool worker, all runs on this thread.
    NumPy's error state (np.errstate) is per thread: set it inside `work`.
    """
    block = max(1, block)
    helpers = min(_num_threads, -(-n // block)) - 1
    if helpers <= 0 or getattr(_local, "inline", False):
        work((lo, min(lo + block, n)) for lo in range(0, n, block))  # all here, in order
        return
    blocks = _Blocks(n, block)
    job = _Job(work, blocks)
    _pool.submit(job, helpers)
    try:
        work(blocks)
    finally:
        job.finish()


__all__ = ["BLOCK", "default_num_threads", "get_num_threads", "parallel_blocks",
           "set_num_threads"]
