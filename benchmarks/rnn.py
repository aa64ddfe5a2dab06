"""A recurrent layer's forward + backward, numpy2gpt vs PyTorch eager, same shapes, same machine.

    python -m benchmarks.rnn [--cell LSTM|GRU|RNN] [--rounds 3] [--repeat 10] [--threads 1]

One layer over a (batch 32, 50 steps, 64 features) input with 256 hidden units, batch_first, a
Linear head and a mean-square loss; each timed call is the forward and `loss.backward()`. The two
libraries alternate, each round in fresh processes (OpenBLAS pinning variables unset, BLAS and
PyTorch on `--threads`). Prints JSON: each round's median ms, their mean and median per library,
the ratio numpy2gpt / PyTorch of the medians, and the machine record.
"""

import argparse
import json
import sys
import time

import numpy as np

from ._common import blas_info, kernel_threads, machine, median, run_child, torch_info

BATCH, STEPS, FEATURES, HIDDEN = 32, 50, 64, 256


def child(args):
    if args.lib == "torch":
        import torch

        torch.set_num_threads(args.threads)
    else:
        import numpy2gpt as torch

        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layer = getattr(torch.nn, args.cell)(FEATURES, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, FEATURES)
    x = torch.randn(BATCH, STEPS, FEATURES)
    times = []
    for _ in range(args.repeat + 2):
        t0 = time.perf_counter()
        out, _ = layer(x)
        head(out).square().mean().backward()
        times.append(time.perf_counter() - t0)
    record = machine(blas_info(), torch_info() if args.lib == "torch" else None,
                     kernel_threads() if args.lib != "torch" else None)
    print(json.dumps({"ms": median(times[2:]) * 1e3, "machine": record}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", choices=["LSTM", "GRU", "RNN"], default="LSTM")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lib", choices=["numpy2gpt", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    runs, record = {"numpy2gpt": [], "torch": []}, {}
    for _ in range(args.rounds):
        for lib in runs:
            out = run_child("benchmarks.rnn", ["--child", "--lib", lib, "--cell", args.cell,
                                               "--repeat", str(args.repeat),
                                               "--threads", str(args.threads)],
                            blas_threads=args.threads)
            runs[lib].append(round(out["ms"], 1))
            record[lib] = out["machine"]
    summary = {lib: {"rounds_ms": ms, "mean_ms": round(float(np.mean(ms)), 1),
                     "median_ms": round(median(ms), 1)} for lib, ms in runs.items()}
    print(json.dumps({"cell": args.cell, "shape": [BATCH, STEPS, FEATURES, HIDDEN],
                      "threads": args.threads, **summary,
                      "ratio_of_medians": round(summary["numpy2gpt"]["median_ms"]
                                                / summary["torch"]["median_ms"], 2),
                      "machine": record}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
