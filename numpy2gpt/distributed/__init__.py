"""numpy2gpt.distributed: PyTorch's torch.distributed collectives, run by MPI (mpi4py).

Start N copies of a script with `mpiexec -n N python script.py`; each copy (a *rank*) calls
`init_process_group()` and then exchanges tensors with the others:

    import numpy2gpt as torch
    import numpy2gpt.distributed as dist

    dist.init_process_group()             # backend="mpi": rank and world size come from mpiexec
    t = torch.ones(3) * dist.get_rank()
    dist.all_reduce(t)                    # in place: every rank now holds the sum over ranks

See `numpy2gpt.nn.parallel.DistributedDataParallel` for data-parallel training built on it.
"""

from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    reduce,
)

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available", "reduce"]
