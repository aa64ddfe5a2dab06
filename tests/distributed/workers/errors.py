"""Misuses on every rank; each rank records the (type, message) of every error it got."""

import json
import sys
from pathlib import Path

import numpy2gpt as torch
import numpy2gpt.distributed as dist
from numpy2gpt import nn
from numpy2gpt.nn.parallel import DistributedDataParallel as DDP

errors = {}


def record(name, fn):
    try:
        fn()
    except Exception as e:
        errors[name] = [type(e).__name__, str(e)]
    else:
        errors[name] = None


from mpi4py import MPI  # noqa: E402  (only to know the rank before init)

world_rank, n = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
record("world_size", lambda: dist.init_process_group("mpi", world_size=n + 1))
record("rank", lambda: dist.init_process_group(rank=(world_rank + 1) % n))
dist.init_process_group(backend="mpi", world_size=n, rank=world_rank)
record("twice", lambda: dist.init_process_group())
rank = dist.get_rank()
shape = (2,) if rank == 0 else (3,)
record("shape", lambda: dist.all_reduce(torch.zeros(shape)))
dtype = torch.float32 if rank == 0 else torch.float64
record("dtype", lambda: dist.broadcast(torch.zeros(2, dtype=dtype), 0))
record("gather_input", lambda: dist.all_gather([torch.zeros(shape)] * n, torch.zeros(shape)))
record("src", lambda: dist.broadcast(torch.zeros(2), n))
record("dst", lambda: dist.reduce(torch.zeros(2), dst=-1))
record("gather_len", lambda: dist.all_gather([torch.zeros(2)], torch.zeros(2)))
record("gather_shape", lambda: dist.all_gather([torch.zeros(3)] * n, torch.zeros(2)))
record("op", lambda: dist.all_reduce(torch.zeros(2), op="sum"))
record("avg_int", lambda: dist.all_reduce(torch.zeros(2, dtype=torch.int64),
                                          op=dist.ReduceOp.AVG))
record("band_float", lambda: dist.all_reduce(torch.zeros(2), op=dist.ReduceOp.BAND))
record("not_tensor", lambda: dist.all_reduce([1.0]))
record("group", lambda: dist.all_reduce(torch.zeros(2), group="world"))
record("expanded", lambda: dist.all_reduce(torch.zeros(1).expand(3)))
record("ok_after_errors", lambda: dist.all_reduce(torch.zeros(2)))  # the group still works

layers = [nn.Linear(2, 2)] + ([nn.Linear(2, 2)] if rank == 1 else [])
record("ddp_count", lambda: DDP(nn.Sequential(*layers)))
record("ddp_shape", lambda: DDP(nn.Linear(2, 2 + rank)))
frozen = nn.Linear(2, 2)
frozen.register_buffer("running", torch.zeros(1 + rank))
record("ddp_buffers", lambda: DDP(frozen))
record("ddp_bucket_cap", lambda: DDP(nn.Linear(2, 2), bucket_cap_mb=0))
record("ddp_device_ids", lambda: DDP(nn.Linear(2, 2), device_ids=[0]))
record("ddp_no_params", lambda: DDP(nn.Linear(2, 2).requires_grad_(False)))

(Path(sys.argv[1]) / f"rank{rank}.json").write_text(json.dumps(errors))
