"""Tests for numpy2gpt.gpt.train and numpy2gpt.gpt.config: the training loop on tiny configs.

The centrepiece is exact resume: a run stopped (at max_iters, or by a real SIGINT) and resumed
gives the same per-iteration losses, bit for bit, as a run that never stopped. Everything trains
a 1-layer, 16-wide GPT on `corpus`: 20,000 characters of a generated play (conftest.py).
"""

import hashlib
import importlib
import json
import math
import re
import signal
import sys

import numpy as np
import pytest
from torch_compare import nanogpt_get_lr, offline_with_fallback

import numpy2gpt
from numpy2gpt.gpt import GPT, GPTConfig
from numpy2gpt.gpt import checkpoint as ckptmod
from numpy2gpt.gpt import data as datamod
from numpy2gpt.gpt.checkpoint import CheckpointError, load_checkpoint
from numpy2gpt.gpt.config import ConfigError, TrainConfig, load_config_file
from numpy2gpt.gpt.train import (
    TrainingDiverged,
    get_lr,
    make_config,
    prepare_dataset,
    train,
    train_step,
)

TINY = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, eval_iters=2,
            log_interval=1, warmup_iters=2, lr_decay_iters=12, plot=False)


# No network, no writes to ~/.cache, and no 1-second matmul-peak measurement for MFU.
pytestmark = pytest.mark.usefixtures("isolated_training")


def tiny(corpus, out_dir, **overrides):
    """train() on the tiny config, silently."""
    return train({**TINY, "data": str(corpus), "out_dir": str(out_dir), **overrides}, log=None)


# ---------------------------------------------------------------------- a normal run
def test_train_writes_checkpoint_metrics_and_learns(corpus, tmp_path):
    res = tiny(corpus, tmp_path / "out", max_iters=6, eval_interval=3)
    assert res.iter_num == 6 and not res.interrupted
    assert sorted(res.train_losses) == list(range(6))  # exactly max_iters steps
    assert [e["iter"] for e in res.evals] == [0, 3, 6]  # every eval_interval and at the end
    assert res.best_val_loss == min(e["val_loss"] for e in res.evals)
    assert all(isinstance(v, float) and math.isfinite(v) for v in res.train_losses.values())

    out = tmp_path / "out"
    assert (out / "data" / "train.bin").is_file() and (out / "data" / "meta.json").is_file()
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    logs = [r for r in lines if r["kind"] == "log"]
    evals = [r for r in lines if r["kind"] == "eval"]
    assert [r["iter"] for r in logs] == list(range(6))
    assert [r["iter"] for r in evals] == [0, 3, 6]
    for r in lines:
        assert {"iter", "train_loss", "val_loss", "lr", "ms_per_iter", "tokens_per_s"} <= r.keys()
    assert logs[2]["train_loss"] == res.train_losses[2]
    assert logs[2]["tokens_per_s"] > 0 and logs[2]["ms_per_iter"] > 0
    assert logs[2]["lr"] == _nanogpt_lr(2, TrainConfig(**TINY))
    assert evals[-1]["val_loss"] == res.evals[-1]["val_loss"]
    assert logs[5]["mfu"] is not None and logs[0]["mfu"] is None  # MFU after 5 warm-up steps

    ckpt = load_checkpoint(out)
    assert ckpt["iter_num"] == 6
    vocab_size = len(set(corpus.read_text(encoding="utf-8")))  # char tokenizer: 1 id a char
    assert ckpt["model_args"]["n_layer"] == 1 and ckpt["model_args"]["vocab_size"] == vocab_size
    assert ckpt["config"]["max_iters"] == 6
    assert set(ckpt["model"]) == set(res.model.state_dict())


def test_training_lowers_the_loss(corpus, tmp_path):
    res = tiny(corpus, tmp_path / "out", max_iters=300, eval_interval=300, batch_size=8,
               learning_rate=3e-3, lr_decay_iters=300, eval_iters=8)
    first, last = res.evals[0]["val_loss"], res.evals[-1]["val_loss"]
    text = corpus.read_text(encoding="utf-8")
    counts = np.unique(list(text), return_counts=True)[1] / len(text)
    assert first == pytest.approx(math.log(counts.size), abs=0.15)  # uniform over the chars
    # Guessing by character frequency alone scores the text's entropy (3.41 here); 2.70-2.76
    # over 3 seeds: the model learned which characters follow which.
    assert last < float(-(counts * np.log(counts)).sum()) - 0.3, (first, last)


def _nanogpt_lr(it, c):
    """nanoGPT's learning rate (conftest's independent copy of its get_lr) for TrainConfig c."""
    return nanogpt_get_lr(it, c.learning_rate, c.warmup_iters, c.lr_decay_iters, c.min_lr,
                          c.decay_lr)


def test_learning_rate_schedule_is_nanogpts():
    c = TrainConfig()
    assert get_lr(0, c) == pytest.approx(1e-3 * 1 / 101)  # linear warmup (it + 1) / (warmup + 1)
    assert get_lr(100, c) == pytest.approx(1e-3)  # cosine starts at the top
    assert get_lr(5000, c) == 1e-4
    for it in range(2100):  # warmup, the whole cosine, the floor
        assert get_lr(it, c) == _nanogpt_lr(it, c), it
    c.decay_lr = False
    for it in range(0, 2100, 7):
        assert get_lr(it, c) == 1e-3, it


@pytest.mark.parametrize("decay_lr", [True, False])
def test_every_step_uses_nanogpts_lr_through_a_resume(corpus, tmp_path, decay_lr):
    # warmup at 0-1, cosine at 2-12, the floor at 13-14; stopped at 6, in the middle of the
    # cosine, and resumed. At every step the optimizer's lr and the logged lr are nanoGPT's.
    used = {}

    def record(info):  # called after each step; iter_num has moved on to the next one
        used[info["iter_num"] - 1] = [g["lr"] for g in info["optimizer"].param_groups]

    run = {**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "eval_interval": 100,
           "decay_lr": decay_lr}
    train({**run, "max_iters": 6}, log=None, callback=record)
    res = train({**run, "max_iters": 15, "init_from": "resume"}, log=None, callback=record)
    assert sorted(used) == list(range(15))
    lines = [json.loads(s) for s in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    logged = {r["iter"]: r["lr"] for r in lines if r["kind"] == "log"}
    assert sorted(logged) == list(range(15))
    for it in range(15):
        lr = _nanogpt_lr(it, res.config)
        assert used[it] == [lr, lr] and logged[it] == lr, it
    assert logged[14] == (1e-4 if decay_lr else 1e-3)


def test_gradient_accumulation_equals_one_big_batch(corpus, tmp_path):
    # 2 micro-batches of 2 are the generator's next 4 draws, as one batch of 4 is: same step
    # (train() would draw its eval batches in between, as nanoGPT does, so call train_step)
    def one_step(**overrides):
        config = make_config({**TINY, "data": str(corpus), **overrides})
        _, tok, train_data, _ = prepare_dataset(config, tmp_path / "data", log=lambda m: None)
        numpy2gpt.manual_seed(0)
        with ckptmod.quiet(None):
            model = GPT(GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=16, bias=False,
                                  vocab_size=tok.vocab_size))
            optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
        return train_step(model, optimizer, train_data, config), model

    big_loss, big = one_step(batch_size=4)
    acc_loss, acc = one_step(batch_size=2, gradient_accumulation_steps=2)
    assert acc_loss == pytest.approx(big_loss, rel=1e-6)
    # Adam's step lr * m / sqrt(v) magnifies float32 rounding where a gradient element almost
    # cancels: atol 1e-6 is 0.1% of the learning rate
    for (name, p), (_, q) in zip(big.named_parameters(), acc.named_parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_run_whose_best_eval_is_the_first_still_leaves_a_checkpoint(corpus, tmp_path):
    # iteration 0 is never saved (like nanoGPT); if no later eval beats it, the end of training
    # must still write one (the run would otherwise leave nothing to sample or resume)
    messages = []
    res = train({**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "max_iters": 2,
                 "learning_rate": 5.0, "warmup_iters": 0, "grad_clip": 0.0},
                log=messages.append)
    assert res.evals[-1]["val_loss"] > res.evals[0]["val_loss"]  # lr 5 made it worse
    ckpt = load_checkpoint(tmp_path / "out")
    assert ckpt["iter_num"] == 2
    assert not any("keeps the best model" in m for m in messages)


def test_float64_training(corpus, tmp_path):
    res = tiny(corpus, tmp_path / "out", max_iters=2, dtype="float64")
    assert all(p.dtype == np.float64 for p in res.model.parameters())
    ckpt = load_checkpoint(tmp_path / "out")
    model = ckptmod.build_model(ckpt)  # a float64 checkpoint rebuilds a float64 model
    assert model.transformer.wte.weight.dtype == np.float64


def test_dropout_and_seed_make_runs_reproducible(corpus, tmp_path):
    a = tiny(corpus, tmp_path / "a", max_iters=3, dropout=0.2)
    b = tiny(corpus, tmp_path / "b", max_iters=3, dropout=0.2)
    c = tiny(corpus, tmp_path / "c", max_iters=3, dropout=0.2, seed=7)
    assert a.train_losses == b.train_losses
    assert a.train_losses != c.train_losses


# ---------------------------------------------------------------------- exact resume
RESUME = dict(max_iters=10, eval_interval=4, dropout=0.1, gradient_accumulation_steps=2,
              always_save_checkpoint=True)


def test_resume_after_max_iters_is_exact(corpus, tmp_path):
    full = tiny(corpus, tmp_path / "full", **RESUME)
    first = tiny(corpus, tmp_path / "split", **{**RESUME, "max_iters": 4})
    rest = tiny(corpus, tmp_path / "split", **RESUME, init_from="resume")
    assert sorted(first.train_losses) == [0, 1, 2, 3]
    assert sorted(rest.train_losses) == list(range(4, 10))
    # bit for bit: dropout masks, batches and AdamW moments all continue where they stopped
    assert {**first.train_losses, **rest.train_losses} == full.train_losses
    assert first.evals + rest.evals == full.evals  # the eval at 4 is not repeated
    for (name, p), (_, q) in zip(full.model.named_parameters(), rest.model.named_parameters()):
        assert np.array_equal(p.data, q.data), name
    # metrics.jsonl continues too: one line per iteration and eval, no duplicates
    lines = [json.loads(s) for s in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    full_lines = [json.loads(s) for s in
                  (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    key = [(r["kind"], r["iter"], r["train_loss"], r["val_loss"]) for r in lines]
    assert key == [(r["kind"], r["iter"], r["train_loss"], r["val_loss"]) for r in full_lines]


def test_ctrl_c_saves_a_checkpoint_and_resume_is_exact(corpus, tmp_path):
    full = tiny(corpus, tmp_path / "full", **RESUME)

    def press_ctrl_c(info):  # a real SIGINT, delivered after the 7th step
        if info["iter_num"] == 7:
            signal.raise_signal(signal.SIGINT)

    messages = []
    stopped = train({**TINY, **RESUME, "data": str(corpus), "out_dir": str(tmp_path / "split")},
                    log=messages.append, callback=press_ctrl_c)
    assert stopped.interrupted and stopped.iter_num == 7
    assert any("interrupt" in m for m in messages)
    assert sum("continue with `numpy2gpt train --init_from resume" in m for m in messages) == 1
    assert load_checkpoint(tmp_path / "split")["iter_num"] == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored

    rest = tiny(corpus, tmp_path / "split", **RESUME, init_from="resume")
    assert sorted(rest.train_losses) == [7, 8, 9]
    assert {**stopped.train_losses, **rest.train_losses} == full.train_losses
    assert stopped.evals + rest.evals == full.evals


def test_second_ctrl_c_aborts_without_saving(corpus, tmp_path):
    def press_twice(info):
        if info["iter_num"] == 2:
            signal.raise_signal(signal.SIGINT)  # asks to stop after this step ...
            signal.raise_signal(signal.SIGINT)  # ... and the second one quits at once

    messages = []
    with pytest.raises(KeyboardInterrupt):
        train({**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "max_iters": 5},
              log=messages.append, callback=press_twice)
    assert not (tmp_path / "out" / "ckpt.safetensors").exists()
    assert any("without saving" in m for m in messages)


def test_resume_keeps_the_checkpoint_settings_unless_given(corpus, tmp_path):
    tiny(corpus, tmp_path / "out", max_iters=2, batch_size=3, learning_rate=2e-3)
    res = train(out_dir=str(tmp_path / "out"), init_from="resume", max_iters=3, log=None)
    assert res.config.batch_size == 3 and res.config.learning_rate == 2e-3
    assert res.config.n_embd == 16 and res.config.max_iters == 3 and res.iter_num == 3


def test_resume_with_another_batch_size_draws_the_kept_batch_anew(corpus, tmp_path, monkeypatch):
    # the checkpoint keeps the start positions of iteration 2's batch (drawn before the final
    # eval); resumed with batch_size 2 that batch is drawn again at the new size
    tiny(corpus, tmp_path / "out", max_iters=2)
    assert len(load_checkpoint(tmp_path / "out")["rng"]["next_batch"]) == TINY["batch_size"]
    sizes = []
    batch_at = datamod.batch_at
    monkeypatch.setattr(datamod, "batch_at",
                        lambda data, starts, t: sizes.append(len(starts)) or batch_at(data,
                                                                                       starts, t))
    tiny(corpus, tmp_path / "out", init_from="resume", max_iters=3, batch_size=2)
    assert sizes and set(sizes) == {2}


def test_resume_errors(corpus, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        tiny(corpus, tmp_path / "empty", init_from="resume")
    tiny(corpus, tmp_path / "out", max_iters=1)
    with pytest.raises(CheckpointError, match="n_layer=2 does not match the checkpoint's "
                                              "n_layer=1"):
        tiny(corpus, tmp_path / "out", init_from="resume", n_layer=2)
    with pytest.raises(CheckpointError, match="block_size overflow: .* 16 positions"):
        tiny(corpus, tmp_path / "out", init_from="resume", block_size=32)
    cropped = tiny(corpus, tmp_path / "out", init_from="resume", block_size=8, max_iters=2)
    assert cropped.model.config.block_size == 8  # smaller: cropped, like nanoGPT


def _edit_checkpoint(out_dir, **changes):
    """Rewrite out_dir's checkpoint with some of its training state changed (by hand)."""
    path = ckptmod.checkpoint_path(out_dir)
    raw = numpy2gpt.load(path)
    raw.update(changes)
    numpy2gpt.save(raw, path)


@pytest.mark.parametrize("changes, problem", [
    ({"iter_num": -5}, "iter_num -5 (expected an integer >= 0)"),
    ({"iter_num": 2.5}, "iter_num 2.5 (expected an integer >= 0)"),
    ({"best_val_loss": math.nan}, "best_val_loss nan (expected a loss >= 0, or inf)"),
    ({"best_val_loss": -1.0}, "best_val_loss -1.0 (expected a loss >= 0, or inf)"),
    ({"last_eval_iter": 9}, "last_eval_iter 9 (expected none or an iteration in [0, 2])"),
    ({"rng": {"next_batch": [-3, 1]}}, "rng.next_batch [-3, 1] (expected a list of start "
                                       "positions)"),
    ({"config": {"learning_rate": math.nan}}, "learning_rate must be a finite number, got nan"),
])
def test_impossible_training_state_is_refused_on_resume(changes, problem, corpus,
                                                        tmp_path):
    out = tmp_path / "out"
    tiny(corpus, out, max_iters=2)
    _edit_checkpoint(out, **changes)
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(CheckpointError, match=r"holds (impossible training state|an impossible "
                                              r"config): " + re.escape(problem)):
        tiny(corpus, out, init_from="resume", max_iters=4)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def test_damaged_metrics_lines_are_skipped_with_a_warning(corpus, tmp_path):
    out = tmp_path / "out"
    tiny(corpus, out, max_iters=2)
    metrics = out / "metrics.jsonl"
    good = metrics.read_bytes()
    garbage = [b"\xff\xfe not text", b'{"iter": 1e400, "kind": "log", "train_loss": 1}', b"[1, 2]",
               b'{"kind": "log", "iter": 0}', b"{cut sho"]
    metrics.write_bytes(garbage[0] + b"\n" + good + b"\n".join(garbage[1:]) + b"\n")
    messages = []
    res = train({**TINY, "data": str(corpus), "out_dir": str(out), "init_from": "resume",
                 "max_iters": 3}, log=messages.append)
    assert res.iter_num == 3
    n_good = good.count(b"\n")
    bad_lines = [1] + list(range(n_good + 2, n_good + 2 + len(garbage) - 1))
    assert [m for m in messages if m.startswith("warning:")] == [
        f"warning: {metrics} line {n} is not a metrics record; skipping it" for n in bad_lines]
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [(r["kind"], r["iter"]) for r in records] == [
        ("eval", 0), ("log", 0), ("log", 1), ("eval", 2), ("log", 2), ("eval", 3)]


def test_non_finite_weights_are_never_saved(corpus, tmp_path):
    out = tmp_path / "out"
    tiny(corpus, out, max_iters=2)
    before = (out / "ckpt.safetensors").read_bytes()

    def spoil_a_moment(info):  # a moment of AdamW turns NaN (the loss stays finite)
        if info["iter_num"] == 4:
            state = next(iter(info["optimizer"].state.values()))
            state["exp_avg"][...] = np.nan

    with pytest.raises(TrainingDiverged, match=r"optimizer tensor state.0.exp_avg holds NaN or "
                                               r"infinite values at iteration 4: refusing to "
                                               r"save it \(the last checkpoint, .* is kept\)"):
        train({**TINY, "data": str(corpus), "out_dir": str(out), "init_from": "resume",
               "max_iters": 4, "always_save_checkpoint": True}, log=None,
              callback=spoil_a_moment)
    assert (out / "ckpt.safetensors").read_bytes() == before
    assert not (out / "train.lock").exists()  # released after the error too


def test_scratch_does_not_overwrite_a_checkpoint(corpus, tmp_path):
    tiny(corpus, tmp_path / "out", max_iters=1)
    before = (tmp_path / "out" / "ckpt.safetensors").read_bytes()
    with pytest.raises(CheckpointError, match="already holds a checkpoint.*--init_from resume"):
        tiny(corpus, tmp_path / "out", max_iters=1)
    assert (tmp_path / "out" / "ckpt.safetensors").read_bytes() == before
    res = tiny(corpus, tmp_path / "out", max_iters=2, overwrite=True)
    assert load_checkpoint(tmp_path / "out")["iter_num"] == res.iter_num == 2


def test_always_save_checkpoint_false_keeps_the_best(corpus, tmp_path, monkeypatch):
    # fake evaluations: val loss improves at 2, then gets worse at 4 (the end)
    vals = iter([3.0, 2.0, 2.5])
    # the module itself (numpy2gpt.gpt may export a function named `train` over its name)
    train_module = importlib.import_module("numpy2gpt.gpt.train")
    monkeypatch.setattr(train_module, "estimate_loss",
                        lambda *a, **k: {"train": 1.0, "val": next(vals)})
    messages = []
    res = train({**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "max_iters": 4,
                 "eval_interval": 2}, log=messages.append)
    assert res.best_val_loss == 2.0
    assert load_checkpoint(tmp_path / "out")["iter_num"] == 2  # the best one, not the last
    assert any("keeps the best model" in m for m in messages)


def test_eval_only_writes_nothing(corpus, tmp_path):
    res = tiny(corpus, tmp_path / "fresh", eval_only=True)
    assert res.iter_num == 0 and len(res.evals) == 1 and res.train_losses == {}
    assert not (tmp_path / "fresh" / "ckpt.safetensors").exists()

    tiny(corpus, tmp_path / "out", max_iters=2)
    files = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    res = tiny(corpus, tmp_path / "out", init_from="resume", eval_only=True)
    assert [e["iter"] for e in res.evals] == [2] and res.train_losses == {}
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()} == files


# ---------------------------------------------------------------------- outputs: plot, bar
def test_loss_plot_png(corpus, tmp_path):
    pytest.importorskip("matplotlib")
    tiny(corpus, tmp_path / "out", max_iters=2, eval_interval=1, plot=True)
    assert (tmp_path / "out" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_loss_plot_is_skipped_without_matplotlib(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    messages = []
    train({**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "max_iters": 2,
           "eval_interval": 1, "plot": True}, log=messages.append)
    assert not (tmp_path / "out" / "loss.png").exists()
    assert sum("matplotlib is not installed" in m for m in messages) == 1  # said once


def test_progress_bar_shows_loss_lr_speed_and_mfu(corpus, tmp_path, capsys):
    train({**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "max_iters": 7},
          log=None, progress=True)
    err = capsys.readouterr().err
    for field in ("loss=", "lr=", "ms=", "tok_s=", "mfu="):
        assert field in err
    assert "7/7" in err


# ---------------------------------------------------------------------- bad input
def test_bad_input_errors(corpus, tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("To be, or not to be: that is the question.\n" * 2, encoding="utf-8")
    with pytest.raises(ValueError, match="val split has only 9 tokens, but block_size=16"):
        tiny(small, tmp_path / "a", max_iters=1)

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Fran\xe7ois ".encode("latin-1") * 100)
    with pytest.raises(ValueError, match="not UTF-8 text: byte 0xe7 at byte offset 4"):
        tiny(latin1, tmp_path / "b", max_iters=1)

    with pytest.raises(FileNotFoundError, match="data file not found"):
        tiny(tmp_path / "missing.txt", tmp_path / "c", max_iters=1)

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match="out_dir .* is not writable"):
        tiny(corpus, blocker / "out", max_iters=1)

    with pytest.raises(ConfigError, match=r"unknown key max_iter \(did you mean max_iters"):
        train(max_iter=3, log=None)
    with pytest.raises(ConfigError, match="n_embd .15. must be divisible by n_head .2."):
        tiny(corpus, tmp_path / "d", n_embd=15)
    with pytest.raises(ConfigError, match="bad value 'many' for max_iters: expected an integer"):
        tiny(corpus, tmp_path / "d", max_iters="many")
    with pytest.raises(ConfigError, match=r"unknown key threads \(threads was removed: use "
                                          r"mpiexec -n N numpy2gpt train\)"):
        tiny(corpus, tmp_path / "d", threads=2)
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


# ---------------------------------------------------------------------- config parsing
def test_config_defaults_are_nanogpts_cpu_baby_run():
    c = TrainConfig()
    expected = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, max_iters=2000,
                    learning_rate=1e-3, lr_decay_iters=2000, min_lr=1e-4, beta2=0.99,
                    warmup_iters=100, dropout=0.0, eval_iters=20, eval_interval=250,
                    log_interval=10, weight_decay=0.1, grad_clip=1.0,
                    gradient_accumulation_steps=1, seed=1337, dataset="shakespeare_char",
                    always_save_checkpoint=False, bias=False, beta1=0.9, init_from="scratch")
    assert {k: getattr(c, k) for k in expected} == expected


def test_config_files_toml_and_json(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('max_iters = 50\nlearning_rate = 3e-4\ndecay_lr = false\ndata = "x.txt"\n')
    assert load_config_file(toml) == {"max_iters": 50, "learning_rate": 3e-4, "decay_lr": False,
                                      "data": "x.txt"}
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"n_layer": 2, "dropout": 0.1}))
    c = TrainConfig.from_dict(load_config_file(js))
    assert (c.n_layer, c.dropout) == (2, 0.1) and c.explicit == {"n_layer", "dropout"}

    bad = tmp_path / "bad.toml"
    bad.write_text("n_layr = 2\nlerning_rate = 1\n")
    with pytest.raises(ConfigError, match=r"unknown keys n_layr \(did you mean n_layer.*"
                                          r"lerning_rate \(did you mean learning_rate"):
        load_config_file(bad)
    nested = tmp_path / "nested.toml"
    nested.write_text("[model]\nn_layer = 2\n")
    with pytest.raises(ConfigError, match="nested table"):
        load_config_file(nested)
    broken = tmp_path / "broken.json"
    broken.write_text("{max_iters: 3")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config_file(broken)
    (tmp_path / "c.yaml").write_text("max_iters: 3\n")
    with pytest.raises(ConfigError, match="use a .toml or .json file"):
        load_config_file(tmp_path / "c.yaml")
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config_file(tmp_path / "nope.toml")


def test_config_value_checks():
    assert TrainConfig.from_dict({"max_iters": "2e3", "bias": "yes", "vocab_size": None,
                                  "tokenizer": "char"}).max_iters == 2000
    with pytest.raises(ConfigError, match="bad value 2.5 for batch_size: expected an integer"):
        TrainConfig.from_dict({"batch_size": 2.5})
    with pytest.raises(ConfigError, match="bad value 'maybe' for bias: expected true or false"):
        TrainConfig.from_dict({"bias": "maybe"})
    with pytest.raises(ConfigError, match="dropout must be in"):
        TrainConfig.from_dict({"dropout": 1.0})
    with pytest.raises(ConfigError, match="tokenizer 'bpe' needs vocab_size"):
        TrainConfig.from_dict({"tokenizer": "bpe"})
    with pytest.raises(ConfigError, match="device 'cuda' is not available"):
        TrainConfig.from_dict({"device": "cuda"})
    with pytest.raises(ConfigError, match=r"unknown key lr \(did you mean learning_rate"):
        TrainConfig.from_dict({"lr": 1})
    assert TrainConfig.from_dict({"init_from": "gpt2"}).init_from == "gpt2"  # a pretrained one
    with pytest.raises(ConfigError, match="init_from must be 'scratch', 'resume' or a "
                                          "pretrained GPT-2"):
        TrainConfig.from_dict({"init_from": " "})


def test_bpe_tokenizer_training(corpus, tmp_path):
    res = tiny(corpus, tmp_path / "out", max_iters=1, tokenizer="bpe", vocab_size=300)
    assert res.tokenizer.vocab_size == 300
    assert res.model.config.vocab_size == 300
    assert load_checkpoint(tmp_path / "out")["tokenizer"]["type"] == "bpe"


def test_rng_state_of_a_checkpoint_is_json(corpus, tmp_path):
    tiny(corpus, tmp_path / "out", max_iters=1)
    rng = load_checkpoint(tmp_path / "out")["rng"]
    json.dumps(rng)  # plain JSON: no pickled generator objects
    assert rng["numpy2gpt"]["generator"] == "numpy2gpt.mt19937"
    g = numpy2gpt.Generator().set_state(rng["numpy2gpt"])  # a valid generator state
    assert g.get_state() == rng["numpy2gpt"]
    # the run ended after its final eval, with iteration 1's first batch already drawn (nanoGPT
    # draws it before the eval): the checkpoint keeps its start positions for a resume
    assert len(rng["next_batch"]) == TINY["batch_size"]
    assert all(isinstance(i, int) for i in rng["next_batch"])


def test_profile_prints_the_op_table(corpus, tmp_path):
    messages = []
    train({**TINY, "data": str(corpus), "out_dir": str(tmp_path / "out"), "max_iters": 8,
           "profile": True}, log=messages.append)
    tables = [m for m in messages if len(m.splitlines()) > 3]
    assert tables, messages  # the profiler's table was printed
    assert "optimizer.step" in tables[0]
    # the attention op's row (a fused causal attention, or scaled_dot_product_attention)
    assert "CausalSelfAttention" in tables[0] or "ScaledDotProductAttention" in tables[0]


# ---------------------------------------------------------------------- where the text comes from
def test_a_fallback_text_is_announced_before_training_and_never_kept(corpus, tmp_path,
                                                                     monkeypatch):
    plays = corpus.read_text(encoding="utf-8")
    offline_with_fallback(monkeypatch, plays)
    run = {**TINY, "out_dir": str(tmp_path / "out"), "max_iters": 2}  # no data: shakespeare_char
    messages = []
    train(run, log=messages.append)
    notice = datamod.fallback_notice(len(plays), hashlib.sha256(plays.encode()).hexdigest())
    assert messages.count(notice) == 1
    assert messages.index(notice) < next(i for i, m in enumerate(messages)
                                         if m.startswith("tokens per iteration"))
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []  # nothing cached

    messages = []  # resuming on the dataset made from it says it again
    train({**run, "max_iters": 3, "init_from": "resume"}, log=messages.append)
    assert notice in messages

    # once NUMPY2GPT_DATA names tinyshakespeare, that file wins over the prepared dataset
    real = tmp_path / "tinyshakespeare.txt"
    real.write_text(plays[10_000:] + plays[:10_000], encoding="utf-8")  # same chars, other text
    monkeypatch.setenv("NUMPY2GPT_DATA", str(real))
    messages = []
    train({**run, "max_iters": 4, "init_from": "resume"}, log=messages.append)
    assert not any(m.startswith("WARNING") for m in messages)
    meta = datamod.load_meta(tmp_path / "out" / "data")
    assert meta["text_sha256"] == hashlib.sha256(real.read_bytes()).hexdigest()
    assert str(real) in meta["source"]


def test_train_on_a_folder_made_by_prepare(corpus, tmp_path):
    folder = tmp_path / "data" / "mine"
    meta = datamod.prepare(corpus, folder, log=None)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    messages = []
    res = train({**TINY, "dataset": str(folder), "out_dir": str(tmp_path / "out"),
                 "max_iters": 3}, log=messages.append)
    assert res.tokenizer.to_dict() == meta["tokenizer"]
    assert f"data: using the dataset prepared in {folder} ({corpus})" in messages
    assert not (tmp_path / "out" / "data").exists()  # the folder is used as it is
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # the same tokens as training on the text itself: the same run
    assert res.train_losses == tiny(corpus, tmp_path / "from_text", max_iters=3).train_losses
    resumed = train({**TINY, "out_dir": str(tmp_path / "out"), "max_iters": 4,
                     "init_from": "resume"}, log=None)
    assert resumed.iter_num == 4 and load_checkpoint(tmp_path / "out")["config"]["dataset"] \
        == str(folder)


def test_dataset_folder_errors(corpus, tmp_path):
    with pytest.raises(ConfigError, match="'nowhere' is neither a built-in dataset "
                                          r"\(shakespeare_char\) nor a folder made by"):
        train({**TINY, "dataset": "nowhere", "out_dir": str(tmp_path / "a")}, log=None)
    folder = tmp_path / "mine"
    datamod.prepare(corpus, folder, log=None)
    with pytest.raises(ConfigError, match="tokenizer, vocab_size cannot be set with dataset"):
        train({**TINY, "dataset": str(folder), "tokenizer": "bpe", "vocab_size": 300,
               "out_dir": str(tmp_path / "b")}, log=None)
    (folder / "meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="meta.json is not a dataset's meta.json"):
        train({**TINY, "dataset": str(folder), "out_dir": str(tmp_path / "c")}, log=None)
    assert not any((tmp_path / d / "ckpt.safetensors").exists() for d in "abc")


# ---------------------------------------------------------------------- init_from a GPT-2 folder
@pytest.fixture(scope="module")
def gpt2_folder(corpus, tmp_path_factory):
    """A Hugging Face GPT-2 folder written by numpy2gpt itself (tanh GELU, biases, 48 positions)
    with a GPT-2 tokenizer (a BPE trained on the corpus, saved as vocab.json + merges.txt)."""
    from numpy2gpt.gpt.model import GPT, GPTConfig
    from numpy2gpt.gpt.pretrained import save_pretrained
    from numpy2gpt.gpt.tokenizers import BPETokenizer

    tok = BPETokenizer.train(corpus.read_text(encoding="utf-8")[:5000], 300)
    numpy2gpt.manual_seed(3)
    model = GPT(GPTConfig(block_size=48, vocab_size=304, n_layer=1, n_head=2, n_embd=16,
                          bias=True, gelu="tanh"))
    folder = tmp_path_factory.mktemp("gpt2") / "tiny-gpt2"
    save_pretrained(model, folder, tokenizer=tok)
    return folder


def _fine_tune(corpus, gpt2_folder, out_dir, **overrides):
    settings = dict(batch_size=2, eval_iters=2, log_interval=1, warmup_iters=1,
                    lr_decay_iters=6, plot=False, learning_rate=1e-2, data=str(corpus),
                    out_dir=str(out_dir), init_from=str(gpt2_folder))
    return train({**settings, **overrides}, log=None)


def test_init_from_pretrained_starts_from_its_weights(corpus, gpt2_folder, tmp_path):
    from numpy2gpt.gpt.pretrained import from_pretrained
    from numpy2gpt.gpt.tokenizers import GPT2Tokenizer
    from numpy2gpt.gpt.train import draw_batch, estimate_loss

    pre = from_pretrained(gpt2_folder)
    res = _fine_tune(corpus, gpt2_folder, tmp_path / "out", max_iters=0)  # evaluate and save
    c = res.config
    assert (c.n_layer, c.n_head, c.n_embd, c.bias, c.block_size) == (1, 2, 16, True, 48)
    assert res.tokenizer.type_name == "gpt2" and res.tokenizer.vocab_size == 300
    state = load_checkpoint(tmp_path / "out")["model"]
    for name, value in pre.state_dict().items():
        np.testing.assert_array_equal(state[name], value.numpy(), err_msg=name)
    # the dataset is tokenized with the folder's tokenizer, and the step-0 losses are the
    # pretrained model's own on those tokens
    text = corpus.read_text(encoding="utf-8")
    data_dir = tmp_path / "out" / "data"
    splits = {s: datamod.load_split(data_dir, s) for s in ("train", "val")}
    folder_tok = GPT2Tokenizer.from_pretrained(gpt2_folder)
    assert splits["val"].tolist() == folder_tok.encode(text[int(len(text) * 0.9):])
    g = numpy2gpt.Generator().manual_seed(res.config.seed)  # the pretrained load draws nothing;
    draw_batch(splits["train"], res.config, g)  # iteration 0's batch comes before its eval
    expected = estimate_loss(pre, splits, res.config, g)
    assert res.evals[0] == {"iter": 0, "train_loss": expected["train"],
                            "val_loss": expected["val"]}

    # a smaller block_size crops the position table; dropout may be set; float64 works
    res = _fine_tune(corpus, gpt2_folder, tmp_path / "crop", max_iters=2, block_size=20,
                     dropout=0.1, dtype="float64")
    assert res.model.config.block_size == 20 and res.model.config.dropout == 0.1
    assert res.model.transformer.wpe.weight.shape == (20, 16)
    assert res.model.transformer.wte.weight.dtype == np.float64
    ckpt = load_checkpoint(tmp_path / "crop")
    assert ckpt["model_args"]["block_size"] == 20 and ckpt["model_args"]["gelu"] == "tanh"
    assert not np.array_equal(ckpt["model"]["transformer.wte.weight"],
                              pre.transformer.wte.weight.detach().numpy())  # it trained


def test_init_from_pretrained_resume_is_exact(corpus, gpt2_folder, tmp_path):
    whole = _fine_tune(corpus, gpt2_folder, tmp_path / "whole", max_iters=4, block_size=16,
                       eval_interval=2)
    _fine_tune(corpus, gpt2_folder, tmp_path / "split", max_iters=2, block_size=16,
               eval_interval=2, always_save_checkpoint=True)
    rest = train(init_from="resume", out_dir=str(tmp_path / "split"), max_iters=4, log=None)
    assert rest.config.block_size == 16 and rest.model.config.gelu == "tanh"
    assert [rest.train_losses[i] for i in (2, 3)] == [whole.train_losses[i] for i in (2, 3)]


def test_init_from_pretrained_errors(corpus, gpt2_folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="init_from: no such folder"):
        _fine_tune(corpus, tmp_path / "nope", tmp_path / "o", max_iters=1)
    with pytest.raises(ConfigError, match="did you mean 'resume'"):
        _fine_tune(corpus, "resum", tmp_path / "o", max_iters=1)
    with pytest.raises(ConfigError, match="n_embd=32 does not match the pretrained model's "
                                          "n_embd=16"):
        _fine_tune(corpus, gpt2_folder, tmp_path / "o", n_embd=32)
    with pytest.raises(ConfigError, match="block_size overflow: the pretrained model has 48"):
        _fine_tune(corpus, gpt2_folder, tmp_path / "o", block_size=64)
    with pytest.raises(ConfigError, match="tokenizer cannot be set with init_from"):
        _fine_tune(corpus, gpt2_folder, tmp_path / "o", tokenizer="char")
    assert not (tmp_path / "o" / "ckpt.safetensors").exists()
