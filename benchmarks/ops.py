"""Per-op forward + backward time of the fused ops, numpy2gpt vs PyTorch (float32, GPT shapes).

    python -m benchmarks.ops [--config baby|small|shakespeare] [--repeat 50] [--after_matmul]

Each op runs on the activation shapes of the chosen GPT config; prints JSON with the median
microseconds of forward+backward for both libraries and their ratio. One process, alternating
the two libraries op by op; OpenBLAS pinning variables are unset for the measuring child.

`--after_matmul` times each call right after an untimed matrix product of the MLP's shape in
the same library, as ops run inside a training step. (After a product, OpenBLAS's worker
threads spin for a while on the other cores, which can change what a threaded op gets.)
"""

import argparse
import json
import sys
import time

import numpy as np

from ._common import (
    CONFIGS,
    blas_info,
    kernel_threads,
    machine,
    median,
    mlp_product,
    run_child,
    torch_info,
)


def _cases(cfg):
    B, T, C, H, V = (cfg["batch_size"], cfg["block_size"], cfg["n_embd"], cfg["n_head"],
                     cfg["vocab_size"])
    hs = C // H
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    tgt = rng.integers(0, V, (B * T,))
    return {  # name -> (inputs, fn(lib, *tensors))
        "linear": ([r(B, T, C), r(4 * C, C), r(4 * C)], lambda F, x, w, b: F.linear(x, w, b)),
        "layer_norm": ([r(B, T, C), r(C), r(C)],
                       lambda F, x, w, b: F.layer_norm(x, (C,), w, b)),
        "gelu": ([r(B, T, 4 * C)], lambda F, x: F.gelu(x)),
        "gelu_tanh": ([r(B, T, 4 * C)], lambda F, x: F.gelu(x, approximate="tanh")),
        "softmax": ([r(B, H, T, T)], lambda F, x: F.softmax(x, dim=-1)),
        "cross_entropy": ([r(B * T, V)], None),  # special-cased: needs targets
        "attention": ([r(B, H, T, hs), r(B, H, T, hs), r(B, H, T, hs)],
                      lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    }, tgt


def _time(lib, inputs, fn, tgt, repeat, before=None):
    if lib == "torch":
        import torch
        import torch.nn.functional as F

        tgt_t = torch.from_numpy(tgt)
    else:
        import numpy2gpt as torch
        import numpy2gpt.nn.functional as F

        tgt_t = torch.tensor(tgt)
    xs = [torch.tensor(a, requires_grad=True) for a in inputs]
    call = fn if fn is not None else (lambda F, x: F.cross_entropy(x, tgt_t))
    out = call(F, *xs)
    gy = torch.ones_like(out) if out.dim() else None
    if before is not None:  # (a, b) arrays: a @ b in this library before each timed call
        a, b = (torch.tensor(m) for m in before)
    times = []
    for _ in range(repeat + 3):
        if before is not None:
            a @ b
        t0 = time.perf_counter()
        out = call(F, *xs)
        out.backward(gy)
        times.append(time.perf_counter() - t0)
        for x in xs:
            x.grad = None
    return median(times[3:]) * 1e6


def child(args):
    import torch

    torch.set_num_threads(2)
    cfg = CONFIGS[args.config]
    cases, tgt = _cases(cfg)
    before = mlp_product(cfg) if args.after_matmul else None
    res = {}
    for name, (inputs, fn) in cases.items():
        ours = _time("numpy2gpt", inputs, fn, tgt, args.repeat, before)
        theirs = _time("torch", inputs, fn, tgt, args.repeat, before)
        res[name] = {"numpy2gpt_us": round(ours, 1), "torch_us": round(theirs, 1),
                     "ratio": round(ours / theirs, 2)}
    record = machine(blas_info(), torch_info(), kernel_threads())
    print(json.dumps({"config": args.config, "after_matmul": args.after_matmul,
                      "machine": record, "ops": res}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=list(CONFIGS), default="baby")
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--after_matmul", action="store_true",
                   help="time each call right after a matrix product, as inside a step")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    flags = ["--after_matmul"] if args.after_matmul else []
    out = run_child("benchmarks.ops", ["--config", args.config, "--repeat", str(args.repeat),
                                       "--child", *flags])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
