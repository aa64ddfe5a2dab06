"""numpy2gpt.distributed's collectives on real `mpiexec -n 2` / `-n 3` jobs, against NumPy."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mpi_jobs import ROOT, WORKERS, load_json, load_npz, require_mpi, run_mpi

import numpy2gpt.distributed as dist


def inputs(r):  # the same as workers/collectives.py's
    rng = np.random.default_rng(r)
    return rng.standard_normal((3, 4)), rng.integers(0, 16, size=5)


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_match_numpy(tmp_path, n):
    run_mpi(n, "collectives", tmp_path)
    xs = np.stack([inputs(r)[0] for r in range(n)])
    ints = np.stack([inputs(r)[1] for r in range(n)])
    truth = {"SUM": xs.sum(0), "AVG": xs.mean(0), "PRODUCT": xs.prod(0), "MIN": xs.min(0),
             "MAX": xs.max(0)}
    int_truth = {"SUM": ints.sum(0), "MAX": ints.max(0), "BAND": np.bitwise_and.reduce(ints),
                 "BOR": np.bitwise_or.reduce(ints), "BXOR": np.bitwise_xor.reduce(ints)}
    results = load_npz(tmp_path, n)
    for rank, got in enumerate(results):
        assert got["world_size"] == n and got["backend"] == "mpi"
        for op, want in truth.items():
            np.testing.assert_allclose(got[f"all_reduce_{op}"], want, rtol=1e-12, err_msg=op)
            assert got[f"all_reduce_{op}_float32"].dtype == np.float32
            np.testing.assert_allclose(got[f"all_reduce_{op}_float32"],
                                       truth[op].astype(np.float32), rtol=1e-5, atol=1e-6)
        for op, want in int_truth.items():
            assert got[f"all_reduce_{op}_int64"].dtype == np.int64
            np.testing.assert_array_equal(got[f"all_reduce_{op}_int64"], want, err_msg=op)
        bools = ints % 2 == 1
        bool_truth = {"SUM": bools.any(0), "PRODUCT": bools.all(0), "MIN": bools.all(0),
                      "MAX": bools.any(0), "BAND": bools.all(0), "BOR": bools.any(0),
                      "BXOR": np.logical_xor.reduce(bools)}
        for op, want in bool_truth.items():
            np.testing.assert_array_equal(got[f"all_reduce_{op}_bool"], want, err_msg=op)
        for dtype in ("float16", "int8", "uint8", "int32"):
            summed = got[f"all_reduce_SUM_{dtype}"]
            assert summed.dtype == dtype
            np.testing.assert_array_equal(summed, ints.sum(0).astype(dtype))
        assert got["version_bumped"]
        strided = inputs(rank)[0].copy()
        strided[:, ::2] = xs[:, :, ::2].sum(0)
        np.testing.assert_allclose(got["strided"], strided, rtol=1e-12)
        np.testing.assert_allclose(got["async_avg"], xs.mean(0), rtol=1e-12)
        assert got["async_completed"] and got["async_barrier"]
        for src in range(n):
            np.testing.assert_array_equal(got[f"broadcast_{src}"], xs[src])
        strided = inputs(rank)[0].copy()
        strided[:, 1::2] = xs[n - 1][:, 1::2]
        np.testing.assert_array_equal(got["broadcast_strided"], strided)
        np.testing.assert_array_equal(got["all_gather"], xs)
        # reduce: only the destination rank's tensor changes
        want = xs.sum(0) if rank == n - 1 else xs[rank]
        np.testing.assert_allclose(got["reduce"], want, rtol=1e-12)


def test_reduce_op_names_are_pytorchs():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert hasattr(torch.distributed.ReduceOp, name) and hasattr(dist.ReduceOp, name)


def test_without_mpiexec_a_world_of_one(tmp_path):
    require_mpi()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, WORKERS / "alone.py", tmp_path], env=env, check=True,
                   timeout=120)
    (got,) = load_json(tmp_path, 1)
    assert (got["rank"], got["world_size"]) == (0, 1)
    assert got["all_reduce"] == [1.0, 2.0]
    assert got["ddp_grad"] == got["plain_grad"]
    assert not got["after_destroy"] and got["again"]
