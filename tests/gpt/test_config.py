"""Tests for numpy2gpt.gpt.config: value checks, nanoGPT's key set and config files, and the
learning-rate schedule at its edges. Nothing here trains a model."""

import dataclasses
import math
from pathlib import Path

import pytest

from numpy2gpt.gpt.config import (
    HELP,
    NO_EFFECT,
    SEED_MAX,
    SEED_MIN,
    ConfigError,
    TrainConfig,
    load_config_file,
    no_effect_notes,
)
from numpy2gpt.gpt.train import get_lr

FLOAT_KEYS = [f.name for f in dataclasses.fields(TrainConfig) if f.type is float]
NANOGPT_CONFIG = Path("shared/clients/nanoGPT/config/train_shakespeare_char.py")


@pytest.mark.parametrize("key", FLOAT_KEYS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan", "inf"])
def test_every_float_setting_must_be_finite(key, value):
    with pytest.raises(ConfigError, match=f"^{key} must be a finite number, got "):
        TrainConfig.from_dict({key: value})


def test_seed_must_be_in_pytorchs_manual_seed_range():
    assert TrainConfig.from_dict({"seed": str(SEED_MAX)}).seed == 2**64 - 1  # exact, not a float
    assert TrainConfig.from_dict({"seed": SEED_MIN}).seed == -2**63
    for seed in (SEED_MAX + 1, SEED_MIN - 1, 2**70):
        with pytest.raises(ConfigError, match=r"seed must be in \[-9223372036854775808, "
                                              r"18446744073709551615\]"):
            TrainConfig.from_dict({"seed": seed})


def test_empty_out_dir_is_refused():
    for out_dir in ("", "  "):
        with pytest.raises(ConfigError, match="out_dir must not be empty"):
            TrainConfig.from_dict({"out_dir": out_dir})


def test_nanogpts_whole_key_set_is_accepted_with_a_note_for_keys_without_effect():
    nanogpt_keys = {  # nanoGPT's train.py config block, with its defaults
        "out_dir": "out", "eval_interval": 2000, "log_interval": 1, "eval_iters": 200,
        "eval_only": False, "always_save_checkpoint": True, "init_from": "scratch",
        "wandb_log": True, "wandb_project": "owt", "wandb_run_name": "gpt2",
        "dataset": "shakespeare_char", "gradient_accumulation_steps": 40, "batch_size": 12,
        "block_size": 1024, "n_layer": 12, "n_head": 12, "n_embd": 768, "dropout": 0.0,
        "bias": False, "learning_rate": 6e-4, "max_iters": 600000, "weight_decay": 1e-1,
        "beta1": 0.9, "beta2": 0.95, "grad_clip": 1.0, "decay_lr": True, "warmup_iters": 2000,
        "lr_decay_iters": 600000, "min_lr": 6e-5, "backend": "gloo", "device": "cpu",
        "dtype": "float32", "compile": True}
    config = TrainConfig.from_dict(nanogpt_keys)
    notes = no_effect_notes(config)
    assert notes == [  # one line per key set to something that would matter in nanoGPT
        "note: wandb_log=True has no effect in numpy2gpt (no Weights & Biases logging: "
        "metrics go to OUT_DIR/metrics.jsonl)",
        "note: backend='gloo' has no effect in numpy2gpt (processes train together over MPI: "
        "mpiexec -n N numpy2gpt train)",
        "note: compile=True has no effect in numpy2gpt (there is nothing to compile)"]
    assert set(NO_EFFECT) <= set(TrainConfig.keys())
    assert set(HELP) == set(TrainConfig.keys())  # every flag has a line of --help


def test_a_nanogpt_python_config_is_read_without_running_it(tmp_path):
    cfg = tmp_path / "train_tiny_char.py"
    cfg.write_text("# a nanoGPT-style config\nimport time\n\nout_dir = 'out-tiny'\n"
                   "eval_iters = 20 # comment\nwandb_log = False\nwandb_project = 'tiny'\n"
                   "wandb_run_name = 'ft-' + str(time.time())\nlearning_rate = 1e-3\n"
                   "always_save_checkpoint = False\n")
    assert load_config_file(cfg) == {"out_dir": "out-tiny", "eval_iters": 20, "wandb_log": False,
                                     "wandb_project": "tiny", "learning_rate": 1e-3,
                                     "always_save_checkpoint": False}
    arithmetic = tmp_path / "train_gpt2.py"
    arithmetic.write_text("gradient_accumulation_steps = 5 * 8\nmin_lr = 6e-4 / 10\n"
                          "max_iters = -(-600000 // 2)\n")
    assert load_config_file(arithmetic) == {"gradient_accumulation_steps": 40,
                                            "min_lr": 6e-4 / 10, "max_iters": 300000}
    bad = tmp_path / "bad.py"
    bad.write_text("n_layer = 2\nn_embd = len('abc') * 2\n")
    with pytest.raises(ConfigError, match=r"bad.py, line 2: the value of n_embd is an "
                                          r"expression, not a plain value"):
        load_config_file(bad)
    bad.write_text("out_dir = 'out' * 3\n")  # arithmetic on numbers only
    with pytest.raises(ConfigError, match="line 1: the value of out_dir is an expression"):
        load_config_file(bad)
    bad.write_text("import os\nos.system('echo hi')\n")
    with pytest.raises(ConfigError, match="line 2: only `key = value` lines can be read"):
        load_config_file(bad)
    bad.write_text("max_itres = 3\n")
    with pytest.raises(ConfigError, match=r"unknown key max_itres \(did you mean max_iters"):
        load_config_file(bad)


def test_nanogpts_own_shakespeare_char_config_loads():
    # beside the repository (../shared), or beside the folder of a git worktree
    found = [p / NANOGPT_CONFIG for p in Path(__file__).resolve().parents[3:5]
             if (p / NANOGPT_CONFIG).is_file()]
    if not found:
        pytest.skip("nanoGPT's config/train_shakespeare_char.py not found: clone "
                    "karpathy/nanoGPT into ../shared/clients/nanoGPT to run this")
    config = TrainConfig.from_dict(load_config_file(found[0]))
    assert (config.n_layer, config.n_embd, config.max_iters) == (6, 384, 5000)
    assert no_effect_notes(config)[0].startswith("note: wandb_project='shakespeare-char' has no "
                                                 "effect")


@pytest.mark.parametrize("warmup_and_decay", [5, 0])
def test_warmup_equal_to_decay_steps_to_min_lr(warmup_and_decay):
    c = TrainConfig.from_dict({"warmup_iters": warmup_and_decay,
                               "lr_decay_iters": warmup_and_decay})
    n = warmup_and_decay
    assert [get_lr(it, c) for it in range(n)] == [1e-3 * (it + 1) / (n + 1) for it in range(n)]
    assert get_lr(n, c) == get_lr(n + 1, c) == 1e-4  # a step to min_lr, no ZeroDivisionError


def test_the_schedule_is_nanogpts_get_lr_everywhere_else():
    c = TrainConfig.from_dict({"warmup_iters": 10, "lr_decay_iters": 50})

    def nanogpt_get_lr(it):  # nanoGPT's train.py, verbatim
        if it < c.warmup_iters:
            return c.learning_rate * (it + 1) / (c.warmup_iters + 1)
        if it > c.lr_decay_iters:
            return c.min_lr
        decay_ratio = (it - c.warmup_iters) / (c.lr_decay_iters - c.warmup_iters)
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
        return c.min_lr + coeff * (c.learning_rate - c.min_lr)

    assert [get_lr(it, c) for it in range(80)] == [nanogpt_get_lr(it) for it in range(80)]
