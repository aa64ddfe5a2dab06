"""The kernels' threads (numpy2gpt/kernels/threads.py): set_num_threads / get_num_threads as in
PyTorch, BLAS following them, the default count, and the pool's parallel_blocks."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

import numpy2gpt
import numpy2gpt.kernels.threads as T

threadpoolctl = pytest.importorskip("threadpoolctl", reason="pip install threadpoolctl")


@pytest.fixture
def restore_threads():
    """Put numpy2gpt's, BLAS's and PyTorch's thread counts back after the test."""
    ours, theirs = numpy2gpt.get_num_threads(), torch.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=None, user_api="blas"):  # restores on exit
        yield
        T._num_threads = ours
    torch.set_num_threads(theirs)


def blas_threads():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas"]


def test_get_after_set_returns_n_like_pytorch(restore_threads):
    for n in (1, 3, np.int64(2)):  # a NumPy integer is an int to both
        numpy2gpt.set_num_threads(n)
        torch.set_num_threads(n)
        assert numpy2gpt.get_num_threads() == torch.get_num_threads() == n
        assert type(numpy2gpt.get_num_threads()) is int


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_bad_counts_raise_pytorchs_errors(restore_threads, bad):
    numpy2gpt.set_num_threads(3)
    with pytest.raises(Exception) as theirs:
        torch.set_num_threads(bad)
    with pytest.raises(type(theirs.value)) as ours:
        numpy2gpt.set_num_threads(bad)
    assert str(ours.value) == str(theirs.value)
    assert numpy2gpt.get_num_threads() == 3  # unchanged


def test_blas_threads_follow(restore_threads):
    if not blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library in this NumPy")
    for n in (1, 3):
        numpy2gpt.set_num_threads(n)
        assert set(blas_threads()) == {n}


def _count_in_fresh_python(env=None, preexec_fn=None):
    code = "import numpy2gpt; print(numpy2gpt.get_num_threads())"
    environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**environ, **(env or {})}, preexec_fn=preexec_fn, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux's CPU affinity")
def test_the_default_is_the_cores_this_process_may_use():
    """The affinity mask (capped by a cgroup quota); OMP_NUM_THREADS wins when set, as in
    PyTorch; an unusable OMP_NUM_THREADS is ignored."""
    cores = len(os.sched_getaffinity(0))
    expected = min(cores, T._cgroup_cpu_limit() or cores)
    assert _count_in_fresh_python() == expected
    assert _count_in_fresh_python({"OMP_NUM_THREADS": "3"}) == 3
    assert _count_in_fresh_python({"OMP_NUM_THREADS": "zero"}) == expected
    one_core = min(os.sched_getaffinity(0))
    assert _count_in_fresh_python(preexec_fn=lambda: os.sched_setaffinity(0, {one_core})) == 1


def test_cgroup_quota(tmp_path):
    """cgroup v2's cpu.max and v1's cfs quota/period, rounded up to whole cores; no quota: None."""
    assert T._cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert T._cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert T._cgroup_cpu_limit(tmp_path) == 2
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert T._cgroup_cpu_limit(tmp_path) == 1
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert T._cgroup_cpu_limit(tmp_path) is None


# ----- parallel_blocks ---------------------------------------------------------------------------
def run_blocks(n, block, work=None):
    """parallel_blocks; returns [(lo, hi, thread id)] of every block run."""
    done, lock = [], threading.Lock()

    def record(blocks):
        for lo, hi in blocks:
            if work:
                work(lo, hi)
            with lock:
                done.append((lo, hi, threading.get_ident()))

    T.parallel_blocks(n, block, record)
    return done


def nap(lo, hi):
    """A block's work, long enough for an idle pool worker to wake up and join in."""
    time.sleep(0.01)


@pytest.fixture
def threads(monkeypatch):
    """Set the kernel pool's size for one test (BLAS is left alone)."""
    return lambda n: monkeypatch.setattr(T, "_num_threads", n)


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 95])
def test_every_block_runs_once(threads, n):
    threads(3)
    done = run_blocks(n, 10)
    assert sorted((lo, hi) for lo, hi, _ in done) == [(lo, min(lo + 10, n))
                                                     for lo in range(0, n, 10)]


def test_blocks_run_on_two_threads_at_once(threads):
    """With two threads, the first two blocks meet at a barrier: only one thread running both
    would time out."""
    threads(2)
    barrier = threading.Barrier(2, timeout=30)

    def work(lo, hi):
        if lo < 20:
            barrier.wait()

    done = run_blocks(40, 10, work=work)
    assert len({tid for *_, tid in done}) == 2


def test_one_thread_or_one_block_runs_inline(threads):
    caller = threading.get_ident()
    threads(1)
    assert {tid for *_, tid in run_blocks(100, 10)} == {caller}
    threads(4)
    assert {tid for *_, tid in run_blocks(10, 10)} == {caller}


def test_a_call_from_a_pool_worker_runs_inline(threads):
    """No pool inside the pool: parallel_blocks called from a block running on a worker runs all
    its blocks on that worker (while other workers sit idle)."""
    threads(3)
    caller = threading.get_ident()
    barrier = threading.Barrier(2, timeout=30)
    nested = []

    def outer(lo, hi):
        barrier.wait()  # two blocks on two threads: one of them is a worker
        if threading.get_ident() != caller:
            inner = run_blocks(40, 10, work=nap)
            nested.append((threading.get_ident(), {tid for *_, tid in inner}))

    run_blocks(20, 10, work=outer)
    assert len(nested) == 1 and nested[0][1] == {nested[0][0]}


def test_an_error_in_a_worker_is_raised_in_the_caller(threads):
    threads(2)
    caller = threading.get_ident()

    def work(lo, hi):
        if threading.get_ident() != caller:
            raise ValueError("from a worker")
        time.sleep(0.01)  # leave blocks for the worker

    with pytest.raises(ValueError, match="from a worker"):
        for _ in range(20):  # until a worker has taken a block
            run_blocks(200, 10, work=work)
