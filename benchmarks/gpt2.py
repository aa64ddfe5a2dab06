"""GPT-2 124M (random weights): numpy2gpt beside PyTorch + transformers on the same machine.

Both sides run the same weights: a random transformers GPT2LMHeadModel (GPT-2 small's shape:
12 layers, 12 heads, 768 wide, 1024 positions, 50257 tokens) is saved once with save_pretrained,
then each implementation loads that folder in a fresh process (numpy2gpt with from_pretrained,
NumPy + safetensors only) and measures, float32, no gradients:

  load_s            reading the checkpoint into a model
  forward_ms        one forward of a (batch, seq_len) batch, last position's logits only (what
                    generation needs; transformers is given logits_to_keep=1 to do the same work)
  gen_tokens_per_s  greedy generation of new_tokens tokens after a prompt, with the KV cache
  rss_after_load_mib / peak_rss_mib   resident memory after loading / peak over the whole run
                    (the peak includes loading)

Rounds alternate the implementations so slow drifts of a shared machine hit both. The output
(JSON) also says whether the greedy tokens agree and how far the logits are apart.

    python -m benchmarks.gpt2 [--seq_len 128] [--new_tokens 32] [--blas_threads 2] [--rounds 2]

OpenBLAS's pinning variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) are removed for the timed
processes, as on a user's machine; the BLAS kernel that ran is printed.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time

import numpy as np

from ._common import blas_info, median, rss_mib, run_child

IMPLS = ("numpy2gpt", "transformers")


def _inputs(args):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 50257, (args.batch, args.seq_len))
    prompt = rng.integers(0, 50257, (1, args.prompt_len))
    return batch, prompt


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def make_weights(folder):
    """Write a random GPT-2 124M checkpoint with transformers (the shared weights)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
    print(json.dumps({"ok": True}))


def _numpy2gpt_impl(folder):
    import numpy2gpt as ng
    from numpy2gpt.gpt.pretrained import from_pretrained

    model = from_pretrained(folder).eval()

    def forward(x):
        with ng.no_grad():
            return model(x)[0].numpy()[:, -1]

    def generate(prompt, n):
        return model.generate(prompt, n, temperature=0.0).numpy()

    return forward, generate


def _transformers_impl(folder, threads):
    import torch
    from transformers import GPT2LMHeadModel

    torch.set_num_threads(threads)
    model = GPT2LMHeadModel.from_pretrained(folder).eval()

    def forward(x):
        with torch.no_grad():
            return model(torch.from_numpy(x), logits_to_keep=1).logits.numpy()[:, -1]

    def generate(prompt, n):
        with torch.no_grad():
            out = model.generate(torch.from_numpy(prompt), max_new_tokens=n, min_new_tokens=n,
                                 do_sample=False, use_cache=True, pad_token_id=0)
        return out.numpy()

    return forward, generate


def child(args):
    batch, prompt = _inputs(args)
    t0 = time.perf_counter()
    if args.impl == "numpy2gpt":
        forward, generate = _numpy2gpt_impl(args.weights)
    else:
        forward, generate = _transformers_impl(args.weights, args.blas_threads)
    result = {"impl": args.impl, "load_s": time.perf_counter() - t0,
              "rss_after_load_mib": rss_mib()}
    logits = forward(batch)  # warm-up, and the logits the parent compares
    np.save(os.path.join(args.weights, f"logits_{args.impl}.npy"), logits)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        forward(batch)
        times.append(time.perf_counter() - t0)
    result["forward_ms"] = 1000 * median(times)
    generate(prompt, 2)  # warm-up
    t0 = time.perf_counter()
    tokens = generate(prompt, args.new_tokens)
    result["gen_tokens_per_s"] = args.new_tokens / (time.perf_counter() - t0)
    result["tokens"] = tokens[0, args.prompt_len:].tolist()
    result["peak_rss_mib"] = _peak_rss_mib()
    result["blas"] = blas_info() if args.impl == "numpy2gpt" else None
    print(json.dumps(result))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq_len", type=int, default=128)
    p.add_argument("--prompt_len", type=int, default=16)
    p.add_argument("--new_tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3, help="timed forwards per round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--blas_threads", type=int, default=2, help="BLAS / PyTorch intra-op threads")
    p.add_argument("--impl", choices=IMPLS, help=argparse.SUPPRESS)
    p.add_argument("--weights", help=argparse.SUPPRESS)
    p.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.make:
        return make_weights(args.weights)
    if args.impl:
        return child(args)

    folder = tempfile.mkdtemp(prefix="numpy2gpt_gpt2_bench_")
    try:
        run_child("benchmarks.gpt2", ["--make", "--weights", folder])
        common = ["--weights", folder, "--batch", str(args.batch), "--seq_len", str(args.seq_len),
                  "--prompt_len", str(args.prompt_len), "--new_tokens", str(args.new_tokens),
                  "--repeats", str(args.repeats), "--blas_threads", str(args.blas_threads)]
        runs = {impl: [] for impl in IMPLS}
        for _ in range(args.rounds):
            for impl in IMPLS:  # alternate, so slow drifts of the machine hit both equally
                runs[impl].append(run_child("benchmarks.gpt2", common + ["--impl", impl],
                                            blas_threads=args.blas_threads))
        logits = {impl: np.load(os.path.join(folder, f"logits_{impl}.npy")) for impl in IMPLS}
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    import torch
    import transformers

    out = {"model": "GPT-2 124M shape, random weights, float32",
           "batch": args.batch, "seq_len": args.seq_len, "prompt_len": args.prompt_len,
           "new_tokens": args.new_tokens, "rounds": args.rounds,
           "blas_threads": args.blas_threads, "cpu": platform.processor() or platform.machine(),
           "cpu_count": os.cpu_count(), "numpy_version": np.__version__,
           "torch_version": torch.__version__, "transformers_version": transformers.__version__,
           "numpy_blas": runs["numpy2gpt"][0]["blas"]}
    for impl in IMPLS:
        rs = runs[impl]
        out[impl] = {
            "load_s": round(median([r["load_s"] for r in rs]), 2),
            "forward_ms": round(median([r["forward_ms"] for r in rs]), 1),
            "gen_tokens_per_s": round(median([r["gen_tokens_per_s"] for r in rs]), 1),
            "rss_after_load_mib": round(max(r["rss_after_load_mib"] for r in rs)),
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in rs)),
        }
    a, b = out["numpy2gpt"], out["transformers"]
    out["numpy2gpt_over_transformers"] = {
        "forward_ms": round(a["forward_ms"] / b["forward_ms"], 2),
        "gen_tokens_per_s": round(a["gen_tokens_per_s"] / b["gen_tokens_per_s"], 2),
        "peak_rss_mib": round(a["peak_rss_mib"] / b["peak_rss_mib"], 2),
    }
    out["max_abs_logit_diff"] = float(np.abs(logits["numpy2gpt"] - logits["transformers"]).max())
    out["same_greedy_tokens"] = runs["numpy2gpt"][0]["tokens"] == runs["transformers"][0]["tokens"]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
