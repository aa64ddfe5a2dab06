"""Run without mpiexec: a world of one, where DDP's gradients are the plain ones."""

import json
import sys
from pathlib import Path

import numpy2gpt as torch
import numpy2gpt.distributed as dist
from numpy2gpt.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group()
out = {"rank": dist.get_rank(), "world_size": dist.get_world_size()}
t = torch.tensor([1.0, 2.0])
dist.all_reduce(t, op=dist.ReduceOp.AVG)
out["all_reduce"] = t.tolist()
torch.manual_seed(0)
model = torch.nn.Linear(3, 2)
x = torch.randn(4, 3)
DDP(model)(x).pow(2).sum().backward()
out["ddp_grad"] = model.weight.grad.tolist()
model.zero_grad()
model(x).pow(2).sum().backward()
out["plain_grad"] = model.weight.grad.tolist()
dist.destroy_process_group()
out["after_destroy"] = dist.is_initialized()
dist.init_process_group()  # a new group after destroy_process_group
out["again"] = dist.is_initialized()
(Path(sys.argv[1]) / "rank0.json").write_text(json.dumps(out))
