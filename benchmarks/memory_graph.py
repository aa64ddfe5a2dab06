"""Why Functions hold their outputs by weak reference: the seed's memory experiment, measured.

Each iteration builds the graph of `y = square(square(square(x)))` on 10,000 float elements and
drops it (10,000 times, like the seed's loop); a backward pass on the last graph follows. With weak
output references every graph is freed by reference counting the moment `y` is rebound. With strong
references (output -> creator -> output) each graph is a reference cycle that only the cyclic
garbage collector can free, so memory piles up between collections.

Each mode runs in a fresh process, several times; the script prints JSON with the peak memory
*above the baseline* measured before the loop (tracemalloc: NumPy buffers and Python objects;
RSS: what the OS sees).

    python -m benchmarks.memory_graph [--iters 10000] [--size 10000] [--runs 3]
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import types


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def run_once(mode, iters, size):
    """One measurement in this process; returns peak MiB above baseline (tracemalloc, RSS)."""
    import threading
    import tracemalloc

    import numpy as np

    import numpy2gpt as torch
    from numpy2gpt.autograd import function

    if mode == "strong":  # what the design avoids: outputs held strongly -> reference cycles
        function.weakref = types.SimpleNamespace(ref=lambda y: (lambda: y))

    x = torch.tensor(np.random.default_rng(0).standard_normal(size), requires_grad=True)
    peak_rss = [0.0]
    stop = threading.Event()

    def sample_rss():
        while not stop.is_set():
            peak_rss[0] = max(peak_rss[0], _rss_mib())
            stop.wait(0.002)

    base_rss = _rss_mib()
    tracemalloc.start()
    base_traced = tracemalloc.get_traced_memory()[0]
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    for _ in range(iters):
        y = torch.square(torch.square(torch.square(x)))
    y.sum().backward()
    stop.set()
    sampler.join()
    peak_traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"tracemalloc_peak_mib": (peak_traced - base_traced) / 2**20,
            "rss_peak_mib": max(peak_rss[0], _rss_mib()) - base_rss}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=10_000)
    p.add_argument("--size", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--child", choices=["weak", "strong"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(run_once(args.child, args.iters, args.size)))
        return
    results = {}
    for mode in ("weak", "strong"):
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-m", "benchmarks.memory_graph", "--child", mode,
                                  "--iters", str(args.iters), "--size", str(args.size)],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout))
        results[mode] = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
    ratio = results["strong"]["tracemalloc_peak_mib"] / max(results["weak"]["tracemalloc_peak_mib"],
                                                            1e-9)
    print(json.dumps({"iters": args.iters, "size": args.size, "runs": args.runs,
                      "weakref_outputs": results["weak"], "strong_outputs": results["strong"],
                      "strong_over_weak_tracemalloc": round(ratio, 2)}, indent=2))


if __name__ == "__main__":
    main()
