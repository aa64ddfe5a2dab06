"""Forward time of each op against the bare NumPy expression it wraps (float32), and BPE training.

    python -m benchmarks.vs_numpy [--n 512] [--repeat 5] [--bpe-text FILE]

For each op, numpy2gpt's forward (inputs that require grad, as in training, so whatever the op
saves for backward is paid for) is timed against the NumPy expression that computes the same
result, e.g. `x ** 3` against `x * x * x`, softmax against exp / sum. With the default n=512 the
arrays hold ~1e5-1e6 elements, so numpy2gpt's per-call Python overhead (microseconds) is small
next to the arithmetic and the ratio measures the implementation. A sound implementation stays
well under 10x; an op above it is listed in "over_10x" (the slips this looks for: `np.power`
where multiplies serve, ~20x; a Python loop, a float64 detour, a needless big copy or sort).

The two sides are timed in alternation, best of `--repeat` blocks each (a block runs about 2 ms
of NumPy time), with BLAS single-threaded. Before timing, each pair's outputs are compared, so a
case cannot look fast by computing something cheaper. `--bpe-text` also times
BPETokenizer.train on the file's first 100 KB to a 1024-token vocabulary (incremental pair
counts: a few seconds at most). Prints JSON.
"""

import argparse
import json
import math
import sys
import time

import numpy as np

from ._common import blas_info, run_child

LIMIT = 10.0  # the ratio numpy2gpt / NumPy an op should stay well under


# ----- NumPy references ----------------------------------------------------------------------
def np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_layer_norm(a, w, b, eps=1e-5):
    xc = a - a.mean(axis=-1, keepdims=True)
    return xc / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps) * w + b


def np_erf(a):
    """A cheap NumPy erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): NumPy has no erf, and
    this is what a hand-written NumPy model would use. numpy2gpt's exact erf does a few times
    more arithmetic (three ranges of rational functions)."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(a))
    p = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
         + 0.254829592) * t
    return np.copysign(1.0 - p * np.exp(-a * a), a)


def np_gelu(a):
    return 0.5 * a * (1.0 + np_erf(a * (1 / math.sqrt(2.0))))


def np_gelu_tanh(a):
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a * a * a)))


def np_cross_entropy(a, t):
    m = a.max(axis=1, keepdims=True)
    lse = np.log(np.exp(a - m).sum(axis=1)) + m[:, 0]
    return (lse - a[np.arange(a.shape[0]), t]).mean()


def np_sdpa(q, k, v, causal):
    s = q @ k.swapaxes(-1, -2) * (1.0 / math.sqrt(q.shape[-1]))
    s = np.where(causal, s, -np.inf)
    return np_softmax(s) @ v


# ----- the cases: name -> (inputs, numpy2gpt fn of Tensors, NumPy fn of arrays[, value rtol]) --
def cases(n):
    """The cases on arrays scaled by n (n=512: 512 x 512 elementwise, 4096-row losses and
    indexing, (4, 4, 128, 32) attention; 1024 x 1024 for the selection and statistics ops)."""
    import numpy2gpt as ng
    from numpy2gpt.nn import functional as F

    rng = np.random.default_rng(0)

    def r(*shape, positive=False):
        a = rng.standard_normal(shape).astype(np.float32)
        return np.abs(a) + 0.1 if positive else a

    B, H, T, HS = 4, 4, max(n // 4, 2), 32  # attention: n=512 gives (4, 4, 128, 128) scores
    rows, m, big = 8 * n, n // 2, 2 * n
    causal = np.tril(np.ones((T, T), dtype=bool))
    idx_rows = rng.integers(0, rows, rows)
    idx_gather = rng.integers(0, n, (n, m))
    targets = rng.integers(0, 65, rows)
    sq, sq_pos, wide = r(n, n), r(n, n, positive=True), r(big, big)
    return {
        "add": ([sq, r(n, n)], lambda x, y: x + y, lambda a, b: a + b),
        "add_broadcast": ([sq, r(n)], lambda x, y: x + y, lambda a, b: a + b),
        "mul": ([sq, r(n, n)], lambda x, y: x * y, lambda a, b: a * b),
        "mul_scalar": ([sq], lambda x: x * 0.5, lambda a: a * np.float32(0.5)),
        "div": ([sq, sq_pos], lambda x, y: x / y, lambda a, b: a / b),
        "exp": ([sq], lambda x: x.exp(), np.exp),
        "log": ([sq_pos], lambda x: x.log(), np.log),
        "tanh": ([sq], lambda x: x.tanh(), np.tanh),
        "sqrt": ([sq_pos], lambda x: x.sqrt(), np.sqrt),
        "pow_2": ([sq], lambda x: x ** 2, lambda a: a * a),
        "pow_3": ([sq], lambda x: x ** 3, lambda a: a * a * a),
        "pow_0.5": ([sq_pos], lambda x: x ** 0.5, np.sqrt),
        "sum_dim": ([sq], lambda x: x.sum(dim=1), lambda a: a.sum(axis=1)),
        "sum_all": ([sq], lambda x: x.sum(), lambda a: a.sum()),
        "mean": ([sq], lambda x: x.mean(), lambda a: a.mean()),
        "mean_dim_keepdim": ([sq], lambda x: x.mean(dim=-1, keepdim=True),
                             lambda a: a.mean(axis=-1, keepdims=True)),
        "matmul": ([r(m, m), r(m, m)], lambda x, y: x @ y, lambda a, b: a @ b),
        "matmul_batched": ([r(B, H, T, HS), r(B, H, HS, T)], lambda x, y: x @ y,
                           lambda a, b: a @ b),
        "transpose_reshape": ([r(B, T, H, HS)], lambda x: x.transpose(1, 2).reshape(B, H, T * HS),
                              lambda a: a.transpose(0, 2, 1, 3).reshape(B, H, T * HS)),
        "transpose_flatten": ([sq], lambda x: x.t().reshape(-1), lambda a: a.T.reshape(-1)),
        "softmax": ([r(B, H, T, T)], lambda x: F.softmax(x, dim=-1), np_softmax),
        "log_softmax": ([r(rows, 65)], lambda x: F.log_softmax(x, dim=-1),
                        lambda a: a - a.max(-1, keepdims=True) - np.log(
                            np.exp(a - a.max(-1, keepdims=True)).sum(-1, keepdims=True))),
        "layer_norm": ([r(4 * n, 128), r(128), r(128)],
                       lambda x, w, b: F.layer_norm(x, (128,), w, b), np_layer_norm),
        "gelu": ([sq], lambda x: F.gelu(x), np_gelu, 1e-5),
        "gelu_tanh": ([sq], lambda x: F.gelu(x, approximate="tanh"), np_gelu_tanh),
        "erf": ([sq], lambda x: ng.erf(x), np_erf, 1e-5),
        "cross_entropy": ([r(rows, 65)], lambda x: F.cross_entropy(x, ng.tensor(targets)),
                          lambda a: np_cross_entropy(a, targets)),
        "sdpa_causal": ([r(B, H, T, HS), r(B, H, T, HS), r(B, H, T, HS)],
                        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                        lambda q, k, v: np_sdpa(q, k, v, causal)),
        "max_dim": ([sq], lambda x: tuple(ng.max(x, dim=1)),
                    lambda a: (a.max(axis=1), a.argmax(axis=1))),
        "amax": ([sq], lambda x: x.amax(dim=0), lambda a: a.max(axis=0)),
        "cumsum": ([sq], lambda x: ng.cumsum(x, dim=1), lambda a: np.cumsum(a, axis=1)),
        "gather": ([sq], lambda x: ng.gather(x, 1, ng.tensor(idx_gather)),
                   lambda a: np.take_along_axis(a, idx_gather, axis=1)),
        "index_int_array": ([r(rows, 64)], lambda x: x[ng.tensor(idx_rows)],
                            lambda a: a[idx_rows]),
        "index_slice_step": ([r(2 * n, n)], lambda x: x[::2, 1:].reshape(-1),
                             lambda a: a[::2, 1:].reshape(-1)),
        "cat": ([r(n, m), r(n, m)], lambda x, y: ng.cat([x, y], dim=0),
                lambda a, b: np.concatenate([a, b], axis=0)),
        "stack": ([r(n, m), r(n, m)], lambda x, y: ng.stack([x, y], dim=1),
                  lambda a, b: np.stack([a, b], axis=1)),
        "where": ([sq, r(n, n)], lambda x, y: ng.where(x > 0, x, y),
                  lambda a, b: np.where(a > 0, a, b)),
        "masked_fill": ([r(B, H, T, T)], lambda x: x.masked_fill(ng.tensor(~causal), -math.inf),
                        lambda a: np.where(causal, a, -np.inf)),
        "relu": ([sq], lambda x: F.relu(x), lambda a: np.maximum(a, 0)),
        "linear": ([r(4 * n, 128), r(n, 128), r(n)], lambda x, w, b: F.linear(x, w, b),
                   lambda a, w, b: a @ w.T + b),
        # selection and statistics, on a 2n x 2n matrix
        "clamp": ([wide], lambda x: ng.clamp(x, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
        "maximum": ([wide], lambda x: ng.maximum(x, x), lambda a: np.maximum(a, a)),
        "argmax": ([wide], lambda x: ng.argmax(x, 1), lambda a: np.argmax(a, 1)),
        "sort": ([wide], lambda x: ng.sort(x, 1).values, lambda a: np.sort(a, 1, kind="stable")),
        "topk": ([wide], lambda x: ng.topk(x, 5, 1).values,
                 lambda a: -np.sort(-a, 1, kind="stable")[:, :5]),
        "var": ([wide], lambda x: ng.var(x, 1), lambda a: np.var(a, 1, ddof=1)),
        "std": ([wide], lambda x: ng.std(x), lambda a: np.std(a, ddof=1)),
        "prod": ([wide * 0.1 + 1], lambda x: ng.prod(x, 0), lambda a: np.prod(a, 0)),
        "logsumexp": ([wide], lambda x: ng.logsumexp(x, 1), lambda a: np.log(np.exp(a).sum(1))),
        "norm": ([wide], lambda x: ng.norm(x), lambda a: np.linalg.norm(a)),
        "norm_3": ([wide], lambda x: ng.norm(x, 3, 1),
                   lambda a: (np.abs(a) ** 3).sum(1) ** (1 / 3)),
    }


# ----- timing ----------------------------------------------------------------------------------
def _block(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def best_times(ours, ref, repeat, target_s=0.002):
    """Best-of-`repeat` seconds per call of ours() and ref(), timed in alternation; each block
    runs a call count chosen so it lasts about `target_s` of NumPy time."""
    ours(), ref()  # warm up (first-call allocations, lazy imports)
    number = max(1, int(target_s / max(_block(ref, 1), 1e-7)))
    best_ours = best_ref = math.inf
    for _ in range(repeat):
        best_ours = min(best_ours, _block(ours, number))
        best_ref = min(best_ref, _block(ref, number))
    return best_ours, best_ref


def _arrays(out):
    import numpy2gpt as ng

    return [o.detach().numpy() if isinstance(o, ng.Tensor) else np.asarray(o)
            for o in (out if isinstance(out, tuple) else (out,))]


def check_same_result(name, ours_out, ref_out, rtol):
    """The two sides computed the same thing (float32 stays float32), or an AssertionError."""
    for o, e in zip(_arrays(ours_out), _arrays(ref_out), strict=True):
        assert o.shape == e.shape, f"{name}: shape {o.shape} != {e.shape}"
        if o.dtype.kind == "f":
            assert o.dtype == np.float32, f"{name}: float32 input gave {o.dtype}"
        finite = np.abs(e[np.isfinite(e)]) if e.dtype.kind == "f" else np.zeros(0)
        atol = rtol * float(finite.max(initial=0.0))  # relative to the result's scale
        np.testing.assert_allclose(o, e.astype(o.dtype), rtol=rtol, atol=atol, err_msg=name)


def measure(name, case, repeat):
    """(numpy2gpt seconds, NumPy seconds) per forward call of one case."""
    import numpy2gpt as ng

    inputs, ours_fn, ref_fn, *rtol = case
    tensors = [ng.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    check_same_result(name, ours_fn(*tensors), ref_fn(*inputs), (rtol or [1e-4])[0])
    return best_times(lambda: ours_fn(*tensors), lambda: ref_fn(*inputs), repeat)


def bpe_seconds(path):
    from numpy2gpt.gpt.tokenizers import BPETokenizer

    with open(path, encoding="utf-8") as f:
        text = f.read()[:100_000]
    t0 = time.perf_counter()
    BPETokenizer.train(text, 1024)
    return time.perf_counter() - t0


def child(args):
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl is a runtime dependency
        pass
    ops = {}
    for name, case in cases(args.n).items():
        t_ours, t_ref = measure(name, case, args.repeat)
        ops[name] = {"numpy2gpt_us": round(t_ours * 1e6, 1), "numpy_us": round(t_ref * 1e6, 1),
                     "ratio": round(t_ours / t_ref, 2)}
    out = {"n": args.n, "blas": blas_info(), "limit": LIMIT, "ops": ops,
           "over_10x": [k for k, v in ops.items() if v["ratio"] >= LIMIT]}
    if args.bpe_text:
        out["bpe_train_100kb_to_1024_s"] = round(bpe_seconds(args.bpe_text), 3)
    print(json.dumps(out))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=512, help="array size scale (default 512)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--bpe-text", default=None, help="also time BPE training on this text file")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    extra = ["--bpe-text", args.bpe_text] if args.bpe_text else []
    out = run_child("benchmarks.vs_numpy", ["--n", str(args.n), "--repeat", str(args.repeat),
                                            *extra, "--child"])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
