"""Time one GPT training step: numpy2gpt vs PyTorch eager, same architecture, same machine.

A step is forward + loss + backward + grad clipping + AdamW step + zero_grad, float32, timed
after warm-up. numpy2gpt's side runs one of two loops (PyTorch's is always the plain one):
  * `--loop plain` (default): a user's own loop and nothing else, `_, loss = model(x, y);
    loss.backward(); clip_grad_norm_(model.parameters(), 1.0); opt.step();
    opt.zero_grad(set_to_none=True)`;
  * `--loop trainer`: the step as `numpy2gpt train` runs it: `tune_malloc()` first (glibc keeps
    freed buffers for reuse).
With `--impl both` the two implementations alternate, each round in fresh processes, and the
JSON output holds each one's mean, median, p99 and max step time, the ratios numpy2gpt / PyTorch
of the means and of the medians, the median of each phase (forward, backward, clip, optimizer
step + zero_grad) and their ratios, and the machine record (CPU model, BLAS kernel, threads).

    python -m benchmarks.train_step --config baby --impl both [--loop trainer] [--rounds 3]
    python -m benchmarks.train_step --config baby --procs 2

`--procs N` is data parallel over processes, each process one thread, each rank stepping on its
N-th of the same batch with the same plain loop on the DDP-wrapped model:
  * numpy2gpt: `mpiexec -n N`, numpy2gpt.nn.parallel.DistributedDataParallel over MPI;
  * torch_ddp: `torchrun --nproc_per_node N`, torch's DistributedDataParallel over gloo;
against PyTorch eager on N threads (torch). All three alternate (`--impl both`). Each rank times
its own steps; rank 0's times are reported (the all-reduce keeps the ranks in step), and with
--memory its peak RSS, the memory per rank.

OpenBLAS's pinning variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) are removed for the timed
processes, as on a user's machine.
"""

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

from ._common import (
    CONFIGS,
    blas_info,
    kernel_threads,
    machine,
    median,
    rss_mib,
    run_child,
    step_summary,
    torch_info,
)

PHASES = ("forward", "backward", "clip", "optimizer")  # optimizer: opt.step() and zero_grad


def _batches(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    shape = (cfg["batch_size"], cfg["block_size"])
    return [(rng.integers(0, cfg["vocab_size"], shape), rng.integers(0, cfg["vocab_size"], shape))
            for _ in range(n)]


def _ranked(torch, model, backend):
    """Under a launcher (mpiexec or torchrun): join the process group, one thread per rank,
    and wrap the model in DDP. Returns (ddp model, rank, world size)."""
    torch.distributed.init_process_group(backend)
    torch.set_num_threads(1)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    return ddp, torch.distributed.get_rank(), torch.distributed.get_world_size()


def _numpy2gpt_step(cfg, loop, procs=1):
    import numpy2gpt as torch
    import numpy2gpt.distributed  # noqa: F401 - torch.distributed
    import numpy2gpt.nn.parallel  # noqa: F401 - torch.nn.parallel
    from numpy2gpt.gpt import GPT, GPTConfig
    from numpy2gpt.utils import tune_malloc

    if loop == "trainer":
        tune_malloc()  # as `numpy2gpt train` does; a user's own loop does not
    torch.manual_seed(0)
    keys = {k: v for k, v in cfg.items() if k != "batch_size"}
    model = GPT(GPTConfig(**keys, dropout=0.0, bias=True))
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99), verbose=False)
    if procs > 1:
        return _plain_step(torch, *_ranked(torch, model, "mpi"), opt), model
    return _plain_step(torch, model, 0, 1, opt), model


def _plain_step(torch, model, rank, world, opt):
    """A user's plain loop on rank `rank` of `world`: forward on its rows of the batch, backward
    (DDP averages the gradients), clip, AdamW, zero_grad. `step.phases` collects each phase's
    time (ms), so a gap between the libraries can be placed."""
    phases = {name: [] for name in PHASES}

    def step(x, y):
        rows = slice(rank * len(x) // world, (rank + 1) * len(x) // world)
        t0 = time.perf_counter()
        _, loss = model(torch.from_numpy(x[rows]), torch.from_numpy(y[rows]))
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        t3 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=True)
        t4 = time.perf_counter()
        for name, start, end in zip(PHASES, (t0, t1, t2, t3), (t1, t2, t3, t4)):
            phases[name].append(1000 * (end - start))
        return loss.item()
    step.phases = phases
    return step


def _torch_step(cfg, loop, procs=1):
    import torch

    from numpy2gpt.gpt import GPTConfig
    from tests.gpt.reference_nanogpt import RefGPT

    torch.manual_seed(0)
    keys = {k: v for k, v in cfg.items() if k != "batch_size"}
    model = RefGPT(GPTConfig(**keys, dropout=0.0, bias=True))
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    if procs > 1:
        return _plain_step(torch, *_ranked(torch, model, "gloo"), opt), model
    return _plain_step(torch, model, 0, 1, opt), model


# how --procs N starts the ranks of each implementation (benchmarks.train_step --child follows)
LAUNCHERS = {
    "numpy2gpt": lambda n: ["mpiexec", "-n", str(n), sys.executable],
    "torch_ddp": lambda n: [sys.executable, "-m", "torch.distributed.run", "--standalone",
                            "--nproc_per_node", str(n)],
}


def child(args):
    cfg = CONFIGS[args.config]
    procs = args.procs if args.impl in LAUNCHERS else 1
    if args.impl == "torch":
        import torch

        torch.set_num_threads(args.blas_threads)
    make = _numpy2gpt_step if args.impl == "numpy2gpt" else _torch_step
    step, model = make(cfg, args.loop, procs)
    data = _batches(cfg, args.warmup + args.steps)
    for x, y in data[:args.warmup]:
        step(x, y)
    result = {"impl": args.impl, "procs": procs}
    if args.impl == "numpy2gpt":  # what this process's steps run on, read here
        result["blas"], result["kernel_threads"] = blas_info(), kernel_threads()
    else:
        result["torch"] = torch_info()
    if args.measure == "time":
        times = []
        for x, y in data[args.warmup:]:
            t0 = time.perf_counter()
            step(x, y)
            times.append(time.perf_counter() - t0)
        result["ms"] = [1000 * t for t in times]
        result["phase_ms"] = {name: v[args.warmup:] for name, v in step.phases.items()}
        if args.impl == "numpy2gpt" and procs == 1:  # MFU against the matmul peak (<= 1)
            from numpy2gpt.gpt.mfu import MFUMeter

            meter = MFUMeter(log=lambda line: print(line, file=sys.stderr))
            result["mfu"] = meter(model, cfg["batch_size"], median(times))
            result["model_gflops"] = result["mfu"] * meter.peak.flops / 1e9
            result["matmul_peak"] = meter.peak.as_dict()
    else:  # peak RSS above the pre-step baseline, sampled by a thread
        import gc

        gc.collect()
        base, peak, stop = rss_mib(), [0.0], threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mib())
                stop.wait(0.0005)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        for x, y in data[args.warmup:]:
            step(x, y)
        stop.set()
        t.join()
        result["peak_rss_above_baseline_mib"] = max(peak[0], rss_mib()) - base
    if procs == 1 or _rank() == 0:
        print(json.dumps(result))


def _rank():
    """This process's rank under mpiexec (PMI_RANK, OMPI_...) or torchrun (RANK)."""
    from numpy2gpt.gpt.ranks import launched

    return int(os.environ.get("RANK", launched()[0]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=list(CONFIGS), default="baby")
    p.add_argument("--impl", choices=["numpy2gpt", "torch", "torch_ddp", "both"],
                   default="both")
    p.add_argument("--loop", choices=["plain", "trainer"], default="plain",
                   help="numpy2gpt's step: a user's plain loop, or as `numpy2gpt train` runs it "
                        "(tune_malloc)")
    p.add_argument("--blas_threads", type=int, default=2, help="BLAS / PyTorch intra-op threads")
    p.add_argument("--procs", type=int, default=1,
                   help="data parallel over this many processes of one thread each: numpy2gpt "
                        "under mpiexec and PyTorch DDP (gloo) under torchrun, against PyTorch "
                        "eager on as many threads (1: no processes)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--memory", action="store_true", help="also measure peak RSS of a step")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--measure", default="time", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.procs < 1 or (args.procs > 1 and args.loop != "plain"):
        p.error("--procs N (>= 1) times a user's plain loop on N processes: no --loop trainer")
    if args.procs > 1 and CONFIGS[args.config]["batch_size"] % args.procs:
        p.error(f"--procs {args.procs} does not divide the {args.config} batch "
                f"({CONFIGS[args.config]['batch_size']} sequences)")
    if args.impl == "torch_ddp" and args.procs == 1:
        p.error("--impl torch_ddp needs --procs N > 1")
    if args.procs > 1:
        args.blas_threads = args.procs  # PyTorch eager gets the cores the ranks use
    if args.child:
        return child(args)

    impls = ["numpy2gpt", "torch"] if args.impl == "both" else [args.impl]
    if args.impl == "both" and args.procs > 1:
        impls.append("torch_ddp")
    times = {impl: [] for impl in impls}
    phases = {impl: {name: [] for name in PHASES} for impl in impls}
    memory = {impl: [] for impl in impls}
    model_gflops, peaks, read = [], [], {}
    for _ in range(args.rounds):
        for impl in impls:  # alternate, so slow drifts of the machine hit both equally
            common = ["--config", args.config, "--impl", impl, "--loop", args.loop,
                      "--blas_threads", str(args.blas_threads),
                      "--procs", str(args.procs),
                      "--steps", str(args.steps), "--warmup", str(args.warmup), "--child"]
            launcher = LAUNCHERS[impl](args.procs) if args.procs > 1 and impl in LAUNCHERS \
                else None
            blas = 1 if launcher else args.blas_threads
            r = run_child("benchmarks.train_step", common, blas_threads=blas, launcher=launcher)
            times[impl] += r["ms"]
            for name in PHASES:
                phases[impl][name] += r["phase_ms"][name]
            if "mfu" in r:
                model_gflops.append(r["model_gflops"])
                peaks.append(r["matmul_peak"])
            read.update({(impl if impl == "torch_ddp" else k): r[k]  # eager's threads apart
                         for k in ("blas", "kernel_threads", "torch") if k in r})
            if args.memory:
                m = run_child("benchmarks.train_step", common + ["--measure", "memory"],
                              blas_threads=blas, launcher=launcher)
                memory[impl].append(m["peak_rss_above_baseline_mib"])
    out = {"config": args.config, **CONFIGS[args.config], "loop": args.loop,
           "blas_threads": args.blas_threads, "procs": args.procs,
           "steps_per_round": args.steps, "rounds": args.rounds,
           "machine": machine(read.get("blas"), read.get("torch"), read.get("kernel_threads"))}
    if "torch_ddp" in read:  # each DDP rank's PyTorch, as it read itself
        out["machine"]["torch_ddp_threads_per_rank"] = read["torch_ddp"]["threads"]
    for impl in impls:
        out[f"{impl}_ms"] = step_summary(times[impl])
        out[f"{impl}_phase_median_ms"] = {name: round(median(v), 2)
                                          for name, v in phases[impl].items()}
        if args.memory:
            out[f"{impl}_peak_rss_mib"] = round(median(memory[impl]), 1)
    if peaks:  # every round's steps against the best peak any round measured
        peak = max(peaks, key=lambda p: p["gflops"])
        out["numpy2gpt_mfu"] = round(median(model_gflops) / peak["gflops"], 3)
        out["matmul_peak_gflops"] = peak["gflops"]
        out["matmul_peak"] = peak
    if args.impl == "both":
        for other in impls[1:]:
            for stat in ("mean", "median"):
                out[f"ratio_{stat}_numpy2gpt_over_{other}"] = round(
                    out["numpy2gpt_ms"][stat] / out[f"{other}_ms"][stat], 3)
            mine, theirs = out["numpy2gpt_phase_median_ms"], out[f"{other}_phase_median_ms"]
            out[f"ratio_phase_median_numpy2gpt_over_{other}"] = {
                name: round(mine[name] / theirs[name], 3) for name in PHASES}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
