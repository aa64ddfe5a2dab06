"""Sampling speed: numpy2gpt's GPT.generate with and without KV cache vs PyTorch with an
equivalent KV cache, same architecture, same weights, same machine.

Both models hold the same weights (numpy2gpt's initialisation, matrices scaled up, see
`write_weights`, loaded into numpy2gpt's GPT and into the tests' PyTorch nanoGPT,
tests/gpt/reference_nanogpt.py). From a 1-token prompt, batch 1, each generates `--new_tokens`
tokens (default 200), float32, temperature 1 with top-k, once with a KV cache and once re-running
the whole context each step. The PyTorch sampling loop is written here: with the cache it feeds
only the newest token and concatenates keys and values per layer (the usual eager KV cache), and
when the window is full it refills the cache from the last block_size tokens, as numpy2gpt does.
The two implementations alternate, each round in fresh processes; the JSON output holds median
tokens/s and the ratios. A greedy run checks that all four variants (two libraries, cache on and
off) produce the same tokens, and within each library sampling with the cache must give the
tokens sampling without it gives (same seed). The exit status is 1 if a check fails.

    python -m benchmarks.generate [--config baby|small|shakespeare] [--rounds 3]

The architecture is the config's (n_layer, n_head, n_embd, vocab_size) with `--block_size`
(default 256) so that the prompt plus the new tokens fit in one window. OpenBLAS's pinning
variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) are removed for the timed processes, as on a
user's machine; the BLAS kernel that ran is printed.
"""

import argparse
import json
import os
import tempfile
import time

import numpy as np

from ._common import CONFIGS, blas_info, median, run_child


def _model_config(args):
    cfg = {k: v for k, v in CONFIGS[args.config].items() if k != "batch_size"}
    cfg["block_size"] = args.block_size
    return cfg


WEIGHT_SCALE = 10.0


def write_weights(args, path):
    """numpy2gpt's initial weights (seed 0), weight matrices times WEIGHT_SCALE, as an .npz of
    the nanoGPT-named state dict.

    The scaling is for the token checks, not the timing (which does not depend on the values): at
    the default init (std 0.02) a model's greedy output is one token repeated, a check that proves
    little; scaled up, the output depends on the context (dozens of distinct tokens).
    """
    import numpy2gpt as torch
    from numpy2gpt.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(**_model_config(args), dropout=0.0, bias=True))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(path, **{k: v * np.float32(WEIGHT_SCALE) if v.ndim == 2 else v
                      for k, v in state.items()})


# ----- the two generators: (prompt, n, temperature, top_k, use_cache, seed) -> list of ids ------
def _numpy2gpt_generator(args, weights):
    import numpy2gpt as torch
    from numpy2gpt.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(**_model_config(args), dropout=0.0, bias=True))
    model.load_state_dict(weights)
    model.eval()

    def generate(prompt, n, temperature, top_k, use_cache, seed):
        idx = torch.tensor(np.array([prompt], dtype=np.int64))
        out = model.generate(idx, n, temperature=temperature, top_k=top_k, use_cache=use_cache,
                             generator=torch.Generator().manual_seed(seed))
        return out[0, len(prompt):].tolist()
    return generate


def _torch_generator(args, weights):
    import torch
    import torch.nn.functional as F

    from numpy2gpt.gpt import GPTConfig
    from tests.gpt.reference_nanogpt import RefGPT

    cfg = _model_config(args)
    model = RefGPT(GPTConfig(**cfg, dropout=0.0, bias=True))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    model.eval()
    block_size = cfg["block_size"]

    @torch.no_grad()
    def sample(idx, max_new_tokens, temperature, top_k, use_cache):
        caches, pos = None, 0  # per-layer {"k", "v"} dicts; positions they hold
        for _ in range(max_new_tokens):
            if not use_cache:
                logits, _ = model(idx[:, -block_size:])
            elif caches is not None and pos < block_size:  # feed just the newest token
                logits, _ = model(idx[:, -1:], caches=caches, pos0=pos)
                pos += 1
            else:  # first step, or the window is full: refill a fresh cache
                cond = idx[:, -block_size:]
                caches = [{} for _ in model.transformer.h]
                logits, _ = model(cond, caches=caches, pos0=0)
                pos = cond.shape[1]
            logits = logits[:, -1, :]
            if temperature == 0:
                idx_next = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("inf")
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx

    def generate(prompt, n, temperature, top_k, use_cache, seed):
        torch.manual_seed(seed)
        out = sample(torch.tensor([prompt]), n, temperature, top_k, use_cache)
        return out[0, len(prompt):].tolist()
    return generate


def child(args):
    if args.impl == "torch":
        import torch

        torch.set_num_threads(args.blas_threads)
    weights = dict(np.load(args.weights))
    make = _torch_generator if args.impl == "torch" else _numpy2gpt_generator
    generate = make(args, weights)
    prompt = [0]
    sampling = dict(temperature=args.temperature, top_k=args.top_k)
    for use_cache in (True, False):  # warm-up: first-call allocations, lazy imports
        generate(prompt, 16, use_cache=use_cache, seed=0, **sampling)
    result = {"impl": args.impl, "blas": blas_info() if args.impl == "numpy2gpt" else None,
              "s_cache": [], "s_nocache": []}
    for rep in range(args.reps):
        for use_cache in (True, False):
            t0 = time.perf_counter()
            generate(prompt, args.new_tokens, use_cache=use_cache, seed=rep, **sampling)
            result["s_cache" if use_cache else "s_nocache"].append(time.perf_counter() - t0)
    if args.check:  # tokens, cached and uncached, for the equality checks
        for use_cache in (True, False):
            mode = "cache" if use_cache else "nocache"
            result[f"greedy_{mode}"] = generate(prompt, args.new_tokens, 0.0, None, use_cache,
                                                seed=0)
            result[f"sampled_{mode}"] = generate(prompt, args.new_tokens, use_cache=use_cache,
                                                 seed=123, **sampling)
    print(json.dumps(result))


def _first_mismatch(a, b):
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                None if len(a) == len(b) else min(len(a), len(b)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=list(CONFIGS), default="baby")
    p.add_argument("--impl", choices=["numpy2gpt", "torch", "both"], default="both")
    p.add_argument("--block_size", type=int, default=256)
    p.add_argument("--new_tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    p.add_argument("--top_k", type=int, default=50)
    p.add_argument("--blas_threads", type=int, default=2, help="BLAS / PyTorch intra-op threads")
    p.add_argument("--reps", type=int, default=2, help="generations per mode per process")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--weights", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    if args.new_tokens + 1 > args.block_size:
        print(f"note: 1 + {args.new_tokens} tokens exceed block_size {args.block_size}: the "
              "window slides and both caches are refilled when it is full")

    impls = ["numpy2gpt", "torch"] if args.impl == "both" else [args.impl]
    times = {impl: {"cache": [], "nocache": []} for impl in impls}
    greedy, sampled, blas = {}, {}, None
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "weights.npz")
        write_weights(args, weights)
        for rnd in range(args.rounds):
            for impl in impls:  # alternate, so slow drifts of the machine hit both equally
                common = ["--config", args.config, "--impl", impl,
                          "--block_size", str(args.block_size),
                          "--new_tokens", str(args.new_tokens),
                          "--temperature", str(args.temperature), "--top_k", str(args.top_k),
                          "--blas_threads", str(args.blas_threads), "--reps", str(args.reps),
                          "--weights", weights, "--child"] + (["--check"] if rnd == 0 else [])
                r = run_child("benchmarks.generate", common, blas_threads=args.blas_threads)
                times[impl]["cache"] += r["s_cache"]
                times[impl]["nocache"] += r["s_nocache"]
                blas = r["blas"] or blas
                if rnd == 0:
                    greedy[f"{impl}_cache"] = r["greedy_cache"]
                    greedy[f"{impl}_nocache"] = r["greedy_nocache"]
                    sampled[impl] = (r["sampled_cache"], r["sampled_nocache"])

    out = {"config": args.config, **_model_config(args), "batch_size": 1, "prompt_tokens": 1,
           "new_tokens": args.new_tokens, "temperature": args.temperature, "top_k": args.top_k,
           "blas_threads": args.blas_threads, "rounds": args.rounds, "reps_per_round": args.reps,
           "numpy_blas": blas}
    for impl in impls:
        for mode in ("cache", "nocache"):
            out[f"{impl}_{mode}_tokens_per_s"] = round(
                args.new_tokens / median(times[impl][mode]), 1)
            out[f"{impl}_{mode}_tokens_per_s_best"] = round(
                args.new_tokens / min(times[impl][mode]), 1)  # the least disturbed run
        out[f"{impl}_cache_speedup"] = round(out[f"{impl}_cache_tokens_per_s"] /
                                             out[f"{impl}_nocache_tokens_per_s"], 2)
    if args.impl == "both":
        for mode in ("cache", "nocache"):
            out[f"ratio_{mode}_tokens_per_s_numpy2gpt_over_torch"] = round(
                out[f"numpy2gpt_{mode}_tokens_per_s"] / out[f"torch_{mode}_tokens_per_s"], 3)
    # the greedy check: every variant must produce the reference's tokens
    ref_name = next(iter(greedy))
    ref = greedy[ref_name]
    mismatches = {name: _first_mismatch(ref, toks) for name, toks in greedy.items()}
    out["greedy_tokens_equal"] = all(m is None for m in mismatches.values())
    if not out["greedy_tokens_equal"]:
        out["greedy_first_mismatch_vs_" + ref_name] = {k: v for k, v in mismatches.items()
                                                      if v is not None}
    out["greedy_distinct_tokens"] = len(set(ref))
    # a random-init model's greedy output soon repeats itself; sampled tokens (temperature,
    # top_k, same seed) exercise more of the vocabulary: cached must equal uncached within each
    # library (the two libraries' random streams differ, so not across them)
    out["sampled_cache_equals_nocache"] = {impl: c == n for impl, (c, n) in sampled.items()}
    out["sampled_distinct_tokens"] = {impl: len(set(c)) for impl, (c, _) in sampled.items()}
    ok = out["greedy_tokens_equal"] and all(out["sampled_cache_equals_nocache"].values())
    print(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
