"""The same DDP script on PyTorch (gloo) or numpy2gpt (MPI): `as_torch.py <folder> torch|numpy2gpt`.

Covers what PyTorch's behaviour defines: parameters unused on some or all ranks, the error when a
parameter got no gradient without find_unused_parameters, no_sync accumulation, and the check
that all ranks wrap the same model. Each rank writes gradients and error messages to JSON.
"""

import importlib
import json
import os
import sys
from pathlib import Path

torch = importlib.import_module(sys.argv[2])
dist = torch.distributed
nn = torch.nn
DDP = torch.nn.parallel.DistributedDataParallel

if sys.argv[2] == "torch":  # gloo learns rank and size from the environment mpiexec sets
    dist.init_process_group("gloo", rank=int(os.environ["PMI_RANK"]),
                            world_size=int(os.environ["PMI_SIZE"]))
else:
    dist.init_process_group()
rank = dist.get_rank()
torch.set_default_dtype(torch.float64)
out = {}


def error_of(fn):
    try:
        fn()
    except Exception as e:
        return [type(e).__name__, str(e)]
    return None


def grads(model):
    return {n: None if p.grad is None else p.grad.tolist() for n, p in model.named_parameters()}


class Heads(nn.Module):
    """Three heads: `a` is used by rank 0, `b` by rank 1, `c` by nobody."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(3, 4)
        self.a, self.b, self.c = nn.Linear(4, 1), nn.Linear(4, 1), nn.Linear(4, 1)

    def forward(self, x, head):
        return getattr(self, head)(self.trunk(x).tanh())


torch.manual_seed(0)
x = torch.randn(4, 3) + rank
head = "a" if rank == 0 else "b"

model = Heads()
ddp = DDP(model, find_unused_parameters=True)
ddp(x, head).sum().backward()
out["unused"] = grads(model)
model.zero_grad()
ddp(x, head).sum().backward()  # a second iteration works
out["unused_again"] = grads(model)

for as_view in (False, True):  # two steps without zero_grad: stale gradients of unused heads
    model = Heads()
    ddp = DDP(model, find_unused_parameters=True, gradient_as_bucket_view=as_view)
    for _ in range(2):
        ddp(x, head).sum().backward()
    out[f"unused_no_zero_grad_view_{as_view}"] = grads(model)

model = Heads()  # find_unused_parameters with no_sync: a head used in the first micro-step only
ddp = DDP(model, find_unused_parameters=True)
with ddp.no_sync():
    ddp(x, head).sum().backward()
ddp(x, "a").sum().backward()
out["unused_after_no_sync"] = grads(model)

model = Heads()
ddp = DDP(model)  # without find_unused_parameters, c (and a or b) never get a gradient
ddp(x, head).sum().backward()
out["no_find_unused"] = error_of(lambda: ddp(x, head))

model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2))
ddp = DDP(model)
with ddp.no_sync():
    ddp(x).sum().backward()  # accumulated locally only
out["no_sync_local"] = grads(model)
ddp(2 * x).sum().backward()  # averages the accumulated sums
out["no_sync_then_sync"] = grads(model)

model.zero_grad()
loss = ddp(x).sum()
with torch.no_grad():
    ddp(x)  # an evaluation between forward and backward changes nothing
loss.backward()
out["no_grad_forward_between"] = grads(model)

layers = [nn.Linear(2, 2)] + ([nn.Linear(2, 2)] if rank == 1 else [])
out["count_error"] = error_of(lambda: DDP(nn.Sequential(*layers)))

(Path(sys.argv[1]) / f"rank{rank}.json").write_text(json.dumps(out))
dist.destroy_process_group()
