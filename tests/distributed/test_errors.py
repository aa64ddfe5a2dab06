"""Clear errors: before init_process_group (PyTorch's), unsupported backends, and misuse inside
a real MPI job (shapes or dtypes that differ across ranks, bad ranks, ops, lists, models)."""

import pytest
import torch
from mpi_jobs import load_json, run_mpi

import numpy2gpt as ng
import numpy2gpt.distributed as dist
from numpy2gpt.nn.parallel import DistributedDataParallel


def message(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("call", [
    lambda lib: lib.distributed.all_reduce(lib.ones(2)),
    lambda lib: lib.distributed.broadcast(lib.ones(2), 0),
    lambda lib: lib.distributed.barrier(),
    lambda lib: lib.distributed.get_rank(),
    lambda lib: lib.distributed.get_world_size(),
    lambda lib: lib.nn.parallel.DistributedDataParallel(lib.nn.Linear(2, 2)),
])
def test_before_init_process_group_as_pytorch(call):
    assert not dist.is_initialized() and not torch.distributed.is_initialized()
    assert message(lambda: call(ng)) == message(lambda: call(torch))


@pytest.mark.parametrize("backend", ["gloo", "nccl", "ucc"])
def test_only_the_mpi_backend(backend):
    with pytest.raises(ValueError, match=f"^backend '{backend}' is not supported by "
                       r"numpy2gpt.distributed: the supported backend is 'mpi' \(start the "
                       r"script with mpiexec -n N\)$"):
        dist.init_process_group(backend)
    assert not dist.is_initialized()


def test_public_names():
    assert ng.distributed is dist and ng.nn.parallel.DistributedDataParallel is \
        DistributedDataParallel
    for name in dist.__all__:
        if name != "is_mpi_available":
            assert hasattr(torch.distributed, name), name


def test_misuse_inside_an_mpi_job(tmp_path):
    run_mpi(2, "errors", tmp_path)
    f32, f64 = "numpy2gpt.float32", "numpy2gpt.float64"
    differ = ("the tensors differ across ranks (rank 0: {}, rank 1: {}); every rank must pass a "
              "tensor of the same shape and dtype")
    for rank, got in enumerate(load_json(tmp_path, 2)):
        other = 1 - rank
        want = {
            "world_size": ["ValueError", "init_process_group: world_size=3 but mpiexec gave this "
                           "process world_size=2; the 'mpi' backend takes both from mpiexec "
                           "(leave world_size out)"],
            "rank": ["ValueError", f"init_process_group: rank={other} but mpiexec gave this "
                     f"process rank={rank}; the 'mpi' backend takes both from mpiexec (leave "
                     "rank out)"],
            "twice": ["ValueError", "trying to initialize the default process group twice!"],
            "shape": ["RuntimeError", "all_reduce: " + differ.format(f"{f32} [2]", f"{f32} [3]")],
            "dtype": ["RuntimeError", "broadcast: " + differ.format(f"{f32} [2]", f"{f64} [2]")],
            "gather_input": ["RuntimeError",
                             "all_gather: " + differ.format(f"{f32} [2]", f"{f32} [3]")],
            "src": ["RuntimeError", "broadcast: invalid root rank: 2 (the ranks are 0..1)"],
            "dst": ["RuntimeError", "reduce: invalid root rank: -1 (the ranks are 0..1)"],
            "gather_len": ["RuntimeError", "all_gather: tensor_list must be a list of "
                           "world_size=2 tensors (got 1)"],
            "gather_shape": ["RuntimeError", f"all_gather: tensor_list[0] is {f32} [3] but "
                             f"tensor is {f32} [2]; they must match"],
            "op": ["TypeError", "op must be a numpy2gpt.distributed.ReduceOp (e.g. "
                   "ReduceOp.SUM), got 'sum'"],
            "avg_int": ["TypeError", "ReduceOp.AVG needs a floating-point tensor, got "
                        "numpy2gpt.int64; use ReduceOp.SUM and divide"],
            "band_float": ["TypeError", f"ReduceOp.BAND needs an integer or bool tensor, got "
                           f"{f32}"],
            "not_tensor": ["TypeError", "Invalid function argument. Expected parameter `tensor` "
                           "of type Tensor but got <class 'list'> instead."],
            "group": ["ValueError", "numpy2gpt.distributed has only the default process group: "
                      "pass group=None (got 'world')"],
            "expanded": ["RuntimeError", "unsupported operation: more than one element of the "
                         "written-to tensor refers to a single memory location. Please clone() "
                         "the tensor before performing the operation."],
            "ok_after_errors": None,
            "ddp_count": ["RuntimeError", f"DDP expects same model across all ranks, but Rank "
                          f"{rank} has {2 + 2 * rank} params, while rank {other} has "
                          f"inconsistent {4 - 2 * rank} params."],
            "ddp_shape": ["RuntimeError", f"DDP expects same model across all ranks, but rank "
                          f"{other}'s parameter 0 (weight) is {f32} [{2 + other}, 2] where rank "
                          f"{rank}'s is {f32} [{2 + rank}, 2]."],
            "ddp_buffers": ["RuntimeError", "DDP expects same model across all ranks, but the "
                            "frozen parameters or the buffers differ across ranks in number, "
                            "shape or dtype"],
            "ddp_bucket_cap": ["ValueError", "bucket_cap_mb must be a positive number of "
                               "megabytes, got 0"],
            "ddp_device_ids": ["ValueError", "DistributedDataParallel device_ids and "
                               "output_device arguments only work with GPU modules; numpy2gpt "
                               "runs on the CPU: leave them None (got device_ids=[0], "
                               "output_device=None)"],
            "ddp_no_params": ["RuntimeError", "DistributedDataParallel is not needed when a "
                              "module doesn't have any parameter that requires a gradient."],
        }
        assert got == want
