"""Every collective on every rank; rank r's inputs are `inputs(r)`, so the test knows them all."""

import sys
from pathlib import Path

import numpy as np

import numpy2gpt as torch
import numpy2gpt.distributed as dist


def inputs(r):
    """Rank r's float64 (3, 4) array and int64 (5,) array."""
    rng = np.random.default_rng(r)
    return rng.standard_normal((3, 4)), rng.integers(0, 16, size=5)


dist.init_process_group()
rank, n = dist.get_rank(), dist.get_world_size()
x, ints = inputs(rank)
out = {"world_size": np.array(n), "backend": np.array(dist.get_backend())}

for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
    t = torch.tensor(x)
    assert dist.all_reduce(t, op=getattr(dist.ReduceOp, op)) is None
    out[f"all_reduce_{op}"] = t.numpy()
    t32 = torch.tensor(x, dtype=torch.float32)
    dist.all_reduce(t32, op=getattr(dist.ReduceOp, op))
    out[f"all_reduce_{op}_float32"] = t32.numpy()
for op in ("SUM", "MAX", "BAND", "BOR", "BXOR"):
    t = torch.tensor(ints)
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    out[f"all_reduce_{op}_int64"] = t.numpy()

for op in ("SUM", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
    t = torch.tensor(ints % 2 == 1)
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    out[f"all_reduce_{op}_bool"] = t.numpy()
for dtype in ("float16", "int8", "uint8", "int32"):
    t = torch.tensor(ints, dtype=getattr(torch, dtype))
    dist.all_reduce(t)
    out[f"all_reduce_SUM_{dtype}"] = t.numpy()

t = torch.tensor(x)
version = t._version
dist.all_reduce(t)
out["version_bumped"] = np.array(t._version > version)

base = torch.tensor(x)  # a non-contiguous view: only its elements change
dist.all_reduce(base[:, ::2])
out["strided"] = base.numpy()

t = torch.tensor(x)
work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
work.wait()
out["async_avg"] = t.numpy()
out["async_completed"] = np.array(work.is_completed())

for src in range(n):
    t = torch.tensor(x)
    dist.broadcast(t, src)
    out[f"broadcast_{src}"] = t.numpy()

base = torch.tensor(x)  # into a non-contiguous view
dist.broadcast(base[:, 1::2], n - 1)
out["broadcast_strided"] = base.numpy()

gathered = [torch.zeros(3, 4, dtype=torch.float64) for _ in range(n)]
dist.all_gather(gathered, torch.tensor(x))
out["all_gather"] = np.stack([g.numpy() for g in gathered])

t = torch.tensor(x)
dist.reduce(t, dst=n - 1, op=dist.ReduceOp.SUM)
out["reduce"] = t.numpy()

assert dist.barrier() is None
out["async_barrier"] = np.array(dist.barrier(async_op=True).wait())
np.savez(Path(sys.argv[1]) / f"rank{rank}.npz", **out)
dist.destroy_process_group()
out_initialized = dist.is_initialized()
assert not out_initialized
