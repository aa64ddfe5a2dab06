"""A tiny float64 GPT under DistributedDataParallel:
`ddp_gpt.py <folder> grads|adamw overlap|blocking [view]` (view: gradient_as_bucket_view).

Every rank initializes its model from a different seed (so only the broadcast at construction
makes them equal) and takes its equal share of each batch that `batches()` draws. `grads`
saves the gradients after one backward; `adamw` runs 5 steps of 2 micro-batches each (no_sync
on the first, as nanoGPT accumulates), clip_grad_norm_ and AdamW, and saves the parameters.
"""

import contextlib
import sys
from pathlib import Path

import numpy as np

import numpy2gpt as torch
import numpy2gpt.distributed as dist
from numpy2gpt.gpt.model import GPT, GPTConfig
from numpy2gpt.nn.parallel import DistributedDataParallel as DDP
from numpy2gpt.tensor import POST_ACCUMULATE_GRAD_HOOKS

CONFIG = dict(vocab_size=32, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.0)
BATCH = 6  # sequences per micro-batch: divides among 2 and 3 ranks


def batch(step, micro):
    """The (inputs, targets) micro-batch a one-process run would take."""
    rng = np.random.default_rng(100 * step + micro)
    tokens = rng.integers(0, CONFIG["vocab_size"], size=(BATCH, CONFIG["block_size"] + 1))
    return torch.tensor(tokens[:, :-1]), torch.tensor(tokens[:, 1:])


def model(seed):
    torch.manual_seed(seed)
    return GPT(GPTConfig(**CONFIG)).double()


def train(net, ddp, rank=0, n=1, steps=5, micro_steps=2):
    """nanoGPT's loop: micro-batches, accumulation, clipping, AdamW. Returns the last loss."""
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1)
    for step in range(steps):
        for micro in range(micro_steps):
            x, y = batch(step, micro)
            shard = slice(rank * BATCH // n, (rank + 1) * BATCH // n)
            last = micro == micro_steps - 1
            sync = contextlib.nullcontext() if last or ddp is net else ddp.no_sync()
            with sync:
                _, loss = ddp(x[shard], y[shard])
                (loss / micro_steps).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)


if __name__ == "__main__":
    folder, mode, overlap = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "overlap"
    as_view = sys.argv[4:] == ["view"]
    dist.init_process_group()
    rank, n = dist.get_rank(), dist.get_world_size()
    net = model(seed=1234 + rank)  # rank 0's seed is the one-process run's
    DDP(net, overlap=overlap)  # a wrapper dropped at once: it must leave no hooks behind
    ddp = DDP(net, bucket_cap_mb=0.004, overlap=overlap,  # 4 kB buckets: several of them
              gradient_as_bucket_view=as_view)
    out = {"buckets": np.array(len(ddp._buckets))}
    if mode == "grads":
        x, y = batch(0, 0)
        shard = slice(rank * BATCH // n, (rank + 1) * BATCH // n)
        _, loss = ddp(x[shard], y[shard])
        loss.backward()
        out.update({name: p.grad.numpy() for name, p in net.named_parameters()})
        out["state_dict_keys"] = np.array(list(ddp.state_dict()))
        prefixed = {f"module.{k}": v for k, v in net.state_dict().items()}  # PyTorch DDP's keys
        assert ddp.load_state_dict(prefixed) == ddp.load_state_dict(net.state_dict())
        out["hooks_per_param"] = np.array([len(POST_ACCUMULATE_GRAD_HOOKS[id(p)])
                                           for p in net.parameters()])
    else:
        train(net, ddp, rank, n)
        out.update({name: p.detach().numpy() for name, p in net.named_parameters()})
    np.savez(folder / f"rank{rank}.npz", **out)
