"""Where a data-parallel step's time goes: forward, backward (with the all-reduce), clip + AdamW,
and the all-reduce of the gradients alone, on each rank of `mpiexec -n N` or in one process.

    OMP_NUM_THREADS=1 python -m benchmarks.ddp_phases --config baby          # one process
    OMP_NUM_THREADS=1 mpiexec -n 2 python -m benchmarks.ddp_phases --config baby [--overlap]

One process steps on the whole batch, each of N ranks on its N-th of it (a user's plain loop on
a DistributedDataParallel model); prints rank 0's medians in ms as JSON. Run the variants one
after another on an idle machine and compare: half the batch taking more than half the time is
the per-op cost that does not shrink with the batch.
"""

import argparse
import json
import time

import numpy as np

from ._common import CONFIGS, median


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=list(CONFIGS), default="baby")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--overlap", action="store_true", help="DistributedDataParallel(overlap=True)")
    args = p.parse_args(argv)

    import numpy2gpt as torch
    import numpy2gpt.distributed as dist
    from numpy2gpt.gpt.model import GPT, GPTConfig
    from numpy2gpt.nn.parallel import DistributedDataParallel

    cfg = dict(CONFIGS[args.config])
    batch = cfg.pop("batch_size")
    dist.init_process_group("mpi")  # a world of one without mpiexec
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = GPT(GPTConfig(dropout=0.0, bias=False, **cfg))
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    step_model = DistributedDataParallel(model, overlap=args.overlap) if world > 1 else model
    rng = np.random.default_rng(rank)
    shape = (batch // world, cfg["block_size"])
    x = torch.tensor(rng.integers(0, cfg["vocab_size"], shape))
    y = torch.tensor(rng.integers(0, cfg["vocab_size"], shape))

    phases = {"forward": [], "backward": [], "clip_step": [], "step": []}
    for it in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        _, loss = step_model(x, y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        if it >= args.warmup:
            for name, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                phases[name].append(dt)
    n_params = sum(p.numel() for p in model.parameters())
    if world > 1:  # the exchange alone: every gradient in one flat tensor
        flat, phases["all_reduce"] = torch.zeros(n_params), []
        for it in range(args.warmup + args.steps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(flat)
            if it >= args.warmup:
                phases["all_reduce"].append(time.perf_counter() - t0)
    if rank == 0:
        out = {"config": args.config, "world_size": world, "overlap": args.overlap,
               "gradient_mb": round(n_params * 4 / 1e6, 2),
               **{f"{k}_ms": round(median(v) * 1e3, 2) for k, v in phases.items()}}
        print(json.dumps(out))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
