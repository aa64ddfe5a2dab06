"""Tests for numpy2gpt.gpt.mfu: the matmul peak behind MFU, and an MFU that cannot exceed 100%.

No test times anything: the measurement's clocks or the measurement itself are replaced by
fakes, so a busy machine is simulated, not needed.
"""

import itertools
import json
import re

import pytest

from numpy2gpt.gpt import mfu
from numpy2gpt.gpt.mfu import Timing
from numpy2gpt.gpt.train import train

N = 64  # matmul size for the tests that run the (fake-clocked) measurement


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test starts as a new process would: nothing measured yet."""
    monkeypatch.setattr(mfu, "_this_process", {})


def fake_clocks(monkeypatch, wall_s, cpu_s):
    """Clocks under which every timed matmul takes `wall_s` seconds, of which the measuring
    thread spends `cpu_s` on a CPU (less than wall_s: something else had the CPU)."""
    wall, cpu = itertools.count(0.0, wall_s), itertools.count(0.0, cpu_s)
    monkeypatch.setattr(mfu, "_wall_clock", lambda: next(wall))
    monkeypatch.setattr(mfu, "_cpu_clock", lambda: next(cpu))


def fake_measurements(monkeypatch, *timings):
    """time_matmul_peak returns `timings` in turn, then the last one forever; returns the list
    of calls."""
    calls, it = [], itertools.chain(timings, itertools.repeat(timings[-1]))
    monkeypatch.setattr(mfu, "time_matmul_peak", lambda n: calls.append(n) or next(it))
    return calls


def cached(cache_dir, n=1024):
    """This setup's cache entry, or None."""
    path = cache_dir / mfu.CACHE_FILE
    return json.loads(path.read_text()).get(mfu._setup_key(n, mfu.blas_info())) \
        if path.exists() else None


def test_time_matmul_peak_reports_flop_rate_and_cpu_share(monkeypatch):
    fake_clocks(monkeypatch, wall_s=0.01, cpu_s=0.004)
    timing = mfu.time_matmul_peak(N, repeats=2, pause=0)
    assert timing.flops == pytest.approx(2 * N**3 / 0.01)
    assert timing.cpu_share == pytest.approx(0.4)


def test_the_peak_is_measured_once_per_process_and_the_best_is_cached(tmp_path, monkeypatch):
    calls = fake_measurements(monkeypatch, Timing(2e11, 1.0), Timing(1.5e11, 1.0),
                              Timing(3e11, 1.0))
    first = mfu.matmul_peak(cache_dir=tmp_path)
    assert first.flops == 2e11 and first.samples == 1 and not first.note
    assert mfu.matmul_peak(cache_dir=tmp_path) is first and len(calls) == 1  # once per process
    mfu._this_process.clear()  # the next process measures less: the cache keeps the best
    second = mfu.matmul_peak(cache_dir=tmp_path)
    assert (second.flops, second.samples, second.measured_at) == (2e11, 2, first.measured_at)
    assert mfu.measure_matmul_peak(cache_dir=tmp_path, refresh=True) == 3e11  # a faster one wins
    assert cached(tmp_path)["flops"] == 3e11 and cached(tmp_path)["samples"] == 3
    (tmp_path / mfu.CACHE_FILE).write_text("{not json")  # a corrupt cache is measured again
    mfu._this_process.clear()
    assert mfu.matmul_peak(cache_dir=tmp_path).samples == 1
    assert cached(tmp_path)["flops"] == 3e11


def test_a_measurement_under_load_is_not_cached(tmp_path, monkeypatch):
    # A busy neighbour: the measuring thread is on a CPU 40% of each (slow) matmul.
    fake_clocks(monkeypatch, wall_s=0.01, cpu_s=0.004)
    busy = mfu.matmul_peak(N, cache_dir=tmp_path)
    assert busy.flops == pytest.approx(2 * N**3 / 0.01)
    assert "measured while the machine was busy" in busy.note and "40%" in busy.describe()
    assert cached(tmp_path, N) is None  # used by this process, never cached

    mfu._this_process.clear()  # a later process on an idle machine: 4x faster, cached
    fake_clocks(monkeypatch, wall_s=0.0025, cpu_s=0.0025)
    quiet = mfu.matmul_peak(N, cache_dir=tmp_path)
    assert quiet.flops == pytest.approx(2 * N**3 / 0.0025) and not quiet.note
    assert cached(tmp_path, N)["flops"] == quiet.flops

    mfu._this_process.clear()  # busy again: the depressed value neither wins nor is cached
    fake_clocks(monkeypatch, wall_s=0.01, cpu_s=0.004)
    assert mfu.matmul_peak(N, cache_dir=tmp_path) == quiet
    assert cached(tmp_path, N) == {"flops": quiet.flops, "measured_at": quiet.measured_at,
                                   "samples": 1}


def test_the_cache_key_is_the_blas_kernel_and_threads_in_use(tmp_path, monkeypatch):
    def blas(architecture, threads):
        return [{"internal_api": "openblas", "architecture": architecture,
                 "num_threads": threads, "version": "0.3.31"}]

    fake_measurements(monkeypatch, Timing(2e11, 1.0), Timing(1e11, 1.0), Timing(0.8e11, 1.0))
    monkeypatch.setattr(mfu, "blas_info", lambda: blas("Haswell", 2))
    peak = mfu.matmul_peak(cache_dir=tmp_path)
    assert "openblas 0.3.31 Haswell, 2 threads" in peak.describe()
    assert peak.as_dict() == {"gflops": 200.0, "measured_at": peak.measured_at,
                              "blas": "openblas 0.3.31 Haswell", "threads": 2, "samples": 1,
                              "note": ""}
    monkeypatch.setattr(mfu, "blas_info", lambda: blas("Haswell", 1))  # threadpool_limits(1)
    assert mfu.measure_matmul_peak(cache_dir=tmp_path) == 1e11
    monkeypatch.setattr(mfu, "blas_info", lambda: blas("Prescott", 2))  # OPENBLAS_CORETYPE
    assert mfu.measure_matmul_peak(cache_dir=tmp_path) == 0.8e11
    assert len(json.loads((tmp_path / mfu.CACHE_FILE).read_text())) == 3


class Model:
    """estimate_mfu of a model whose steps achieve `flops` FLOP/s."""

    def __init__(self, flops):
        self.flops = flops

    def estimate_mfu(self, fwdbwd_per_iter, dt, peak_flops):
        return self.flops / peak_flops


def test_mfu_meter_remeasures_a_peak_that_a_step_beats(tmp_path, monkeypatch):
    lines = []
    calls = fake_measurements(monkeypatch, Timing(1e9, 0.3), Timing(2e11, 1.0))
    meter = mfu.MFUMeter(log=lines.append, cache_dir=tmp_path)
    assert meter(Model(1e10), 1, 0.1) == pytest.approx(0.05)  # re-measured: 10 of 200 GFLOP/s
    assert meter.changed and len(calls) == 2 and meter.peak.flops == 2e11
    assert lines[0].startswith("mfu is relative to the 1 GFLOP/s float32 matmul peak")
    assert "a step ran at 10 GFLOP/s, more than the 1 GFLOP/s peak" in lines[1]
    assert "re-measured; mfu is now relative to the 200 GFLOP/s" in lines[1]
    assert meter(Model(1e10), 1, 0.1) == pytest.approx(0.05) and not meter.changed
    assert len(calls) == 2 and len(lines) == 2


def test_mfu_meter_never_exceeds_one(tmp_path, monkeypatch):
    lines = []
    fake_measurements(monkeypatch, Timing(1e9, 1.0))  # every measurement too low
    meter = mfu.MFUMeter(log=lines.append, cache_dir=tmp_path)
    assert meter(Model(5e9), 1, 0.1) == 1.0
    assert meter.peak.flops == 5e9 and "raised to a training step's rate, which beat the " \
        "re-measured 1 GFLOP/s" in lines[-1]
    assert meter(Model(4e9), 1, 0.1) == pytest.approx(0.8)


@pytest.mark.parametrize("remeasured", [1e15, 1e3], ids=["quiet", "still-too-low"])
def test_training_with_a_too_low_cached_peak_logs_mfu_at_most_100_percent(
        corpus, tmp_path, isolated_training, monkeypatch, remeasured):
    cache_dir = tmp_path / "cache"  # isolated_training's NUMPY2GPT_CACHE
    cache_dir.mkdir()
    # A 1 kFLOP/s peak, as if measured under a heavy load: any training step beats it.
    key = mfu._setup_key(1024, mfu.blas_info())
    too_low = {"flops": 1e3, "measured_at": "2026-01-01 00:00 UTC", "samples": 1}
    (cache_dir / mfu.CACHE_FILE).write_text(json.dumps({key: too_low}))
    # This run's first measurement is under load too (not better, not cached); then either a
    # quiet 1 PFLOP/s (no step comes near) or another too-low value.
    fake_measurements(monkeypatch, Timing(1e3, 0.5), Timing(remeasured, 1.0))
    lines = []
    train({"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 16, "batch_size": 4,
           "eval_iters": 1, "log_interval": 1, "max_iters": 9, "eval_interval": 100,
           "plot": False, "data": str(corpus), "out_dir": str(tmp_path / "out")},
          log=lines.append)

    assert any(line.startswith("mfu is relative to the 1e-06 GFLOP/s") for line in lines)
    assert any("re-measured; mfu is now relative to" in line for line in lines)
    mfus = [float(m) for m in re.findall(r"mfu (\S+)%$", "\n".join(lines), re.M)]
    assert len(mfus) == 4 and all(0 <= m <= 100 for m in mfus)  # after the 5 warm-up steps
    metrics = (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in metrics]
    assert all(r["mfu"] is None or 0 < r["mfu"] <= 1 for r in records if r["kind"] == "log")
    if remeasured == 1e15:
        assert cached(cache_dir)["flops"] == 1e15  # the quiet re-measurement replaced it
