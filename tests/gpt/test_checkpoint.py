"""Tests for numpy2gpt.gpt.checkpoint: contents, atomic writes and clear errors for bad files."""

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from torch_compare import CORPUS_CHARS, generated_play, isolate_training

import numpy2gpt
from numpy2gpt import serialization
from numpy2gpt.gpt.checkpoint import (
    CKPT_NAME,
    CheckpointError,
    build_model,
    build_tokenizer,
    checkpoint_path,
    ensure_writable,
    export_pretrained,
    load_checkpoint,
    save_checkpoint,
)
from numpy2gpt.gpt.train import train

TINY = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, eval_iters=2,
            warmup_iters=2, lr_decay_iters=12, plot=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A checkpoint of 3 tiny steps (trained once for the whole module, on a made-up text)."""
    root = tmp_path_factory.mktemp("ckpt")
    with pytest.MonkeyPatch.context() as mp:
        isolate_training(mp, root / "cache")
        res = train({**TINY, "data": str(made_up_text(root)), "out_dir": str(root / "out"),
                     "max_iters": 3}, log=None)
    return root / "out", res


def made_up_text(folder):
    """A text file for the tests that need some text, not tinyshakespeare (they run without it)."""
    path = folder / "text.txt"
    path.write_text(generated_play(CORPUS_CHARS), encoding="utf-8")
    return path


def test_checkpoint_holds_everything_for_an_exact_resume(trained):
    out, res = trained
    ckpt = load_checkpoint(out)
    assert ckpt["path"] == str(out / CKPT_NAME)
    for key in ("model", "optimizer", "model_args", "config", "tokenizer", "iter_num",
                "best_val_loss", "last_eval_iter", "rng"):
        assert key in ckpt, key
    assert ckpt["iter_num"] == 3 and ckpt["last_eval_iter"] == 3
    assert ckpt["best_val_loss"] == res.best_val_loss
    # the weights are the trained model's, exactly
    for name, t in res.model.state_dict().items():
        assert np.array_equal(ckpt["model"][name].data, t.data), name
    # AdamW state: a step count and two moments per parameter
    state = ckpt["optimizer"]["state"]
    assert len(state) == len(list(res.model.parameters()))
    assert all(s["step"] == 3 for s in state.values())
    # the JSON parts are JSON (nothing pickled)
    for key in ("model_args", "config", "tokenizer", "rng"):
        json.dumps(ckpt[key])
    assert build_tokenizer(ckpt).decode(build_tokenizer(ckpt).encode("To be")) == "To be"
    model = build_model(ckpt)
    assert model.config.n_embd == 16 and model.config.bias is False
    for name, t in res.model.state_dict().items():
        assert np.array_equal(model.state_dict()[name].data, t.data), name


def test_save_is_atomic_a_failed_write_keeps_the_old_checkpoint(trained, tmp_path, monkeypatch):
    out, _ = trained
    target = tmp_path / "run"
    target.mkdir()
    good = (out / CKPT_NAME).read_bytes()
    (target / CKPT_NAME).write_bytes(good)

    def crash_midway(fh, arrays, metadata=None):  # writes half a file, then "the disk fills"
        fh.write(b"\x00" * 100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(serialization, "write_safetensors", crash_midway)
    ckpt = load_checkpoint(out)
    with pytest.raises(OSError) as info:
        save_checkpoint(target, {k: v for k, v in ckpt.items() if k != "path"})
    assert str(info.value) == (f"could not write {target / CKPT_NAME}: No space left on device; "
                               "nothing was saved (the previous file there is unchanged)")
    assert info.value.errno == errno.ENOSPC
    assert (target / CKPT_NAME).read_bytes() == good  # untouched
    assert sorted(p.name for p in target.iterdir()) == [CKPT_NAME]  # no temp file left behind
    monkeypatch.undo()
    assert load_checkpoint(target)["iter_num"] == 3


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint found at .*ckpt.safetensors: train "
                                              "one with `numpy2gpt train --out_dir"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="directory .*nowhere does not exist"):
        load_checkpoint(tmp_path / "nowhere")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "pickle"])
def test_corrupt_checkpoint(trained, tmp_path, damage):
    out, _ = trained
    good = (out / CKPT_NAME).read_bytes()
    bad = {"garbage": b"this is not a checkpoint at all" * 10,
           "truncated": good[: len(good) // 2], "empty": b"",
           "pickle": b"\x80\x04\x95" + b"\x00" * 50}[damage]
    (tmp_path / CKPT_NAME).write_bytes(bad)
    with pytest.raises(CheckpointError, match="is corrupt or unreadable"):
        load_checkpoint(tmp_path)


def test_not_a_training_checkpoint(tmp_path):
    # a plain safetensors file (e.g. weights from elsewhere) or another numpy2gpt.save object
    safetensors.numpy.save_file({"w": np.zeros(3, np.float32)}, str(tmp_path / CKPT_NAME))
    with pytest.raises(CheckpointError, match="not a numpy2gpt training checkpoint"):
        load_checkpoint(tmp_path)
    numpy2gpt.save({"format": "numpy2gpt-gpt-checkpoint", "version": 99}, tmp_path / CKPT_NAME)
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(tmp_path)
    numpy2gpt.save({"format": "numpy2gpt-gpt-checkpoint", "version": 1, "model": {}},
                   tmp_path / CKPT_NAME)
    with pytest.raises(CheckpointError, match="incomplete: missing model_args, tokenizer, "
                                              "iter_num"):
        load_checkpoint(tmp_path)


def test_checkpoint_that_does_not_fit_the_model(trained, tmp_path):
    out, _ = trained
    ckpt = load_checkpoint(out)
    ckpt["model_args"] = {**ckpt["model_args"], "n_embd": 32}
    with pytest.raises(CheckpointError,
                       match="(?s)does not fit a GPT: RuntimeError: .*size mismatch"):
        build_model(ckpt)
    ckpt["tokenizer"] = {"type": "nonsense"}
    with pytest.raises(CheckpointError, match="^the tokenizer record of checkpoint .*ckpt"
                                              ".safetensors: unknown tokenizer type 'nonsense'"):
        build_tokenizer(ckpt)


def test_paths_and_writability(tmp_path):
    assert checkpoint_path(tmp_path) == tmp_path / CKPT_NAME
    assert checkpoint_path(tmp_path / "x.safetensors") == tmp_path / "x.safetensors"
    assert ensure_writable(tmp_path / "new" / "dir").is_dir()
    assert list((tmp_path / "new" / "dir").iterdir()) == []  # the probe file is gone
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match="out_dir .*file/sub is not writable"):
        ensure_writable(blocker / "sub")


def test_export_pretrained_round_trip(trained, tmp_path):
    from numpy2gpt.gpt.pretrained import load_pretrained

    out_dir, res = trained
    dest = export_pretrained(out_dir, tmp_path / "hf")
    assert (dest / "config.json").is_file() and (dest / "model.safetensors").is_file()
    config = json.loads((dest / "config.json").read_text())
    assert config["model_type"] == "gpt2" and config["activation_function"] == "gelu"
    model, tok = load_pretrained(dest)
    ckpt = load_checkpoint(out_dir)
    for name, value in model.state_dict().items():
        if name in ckpt["model"]:
            np.testing.assert_array_equal(value.numpy(), ckpt["model"][name], err_msg=name)
        else:  # bias=False: GPT-2's format has biases, written as zeros
            assert name.endswith(".bias") and not value.numpy().any(), name
    assert tok.to_dict() == ckpt["tokenizer"]  # the char tokenizer, in numpy2gpt's JSON
    idx = numpy2gpt.tensor(np.arange(32).reshape(2, 16) % tok.vocab_size)
    theirs, ours = model.eval(), build_model(ckpt).eval()
    np.testing.assert_array_equal(theirs(idx, idx)[0].detach().numpy(),
                                  ours(idx, idx)[0].detach().numpy())


def test_export_pretrained_errors(trained, tmp_path):
    out_dir, _ = trained
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="cannot export to .*file: it is a file"):
        export_pretrained(out_dir, tmp_path / "file")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep me")
    with pytest.raises(CheckpointError, match="the folder is not empty"):
        export_pretrained(out_dir, tmp_path / "full")
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["notes.txt"]
    export_pretrained(out_dir, tmp_path / "full", overwrite=True)
    assert (tmp_path / "full" / "model.safetensors").is_file()
    assert (tmp_path / "full" / "notes.txt").read_text() == "keep me"
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        export_pretrained(tmp_path / "none", tmp_path / "x")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- damaged files, failed saves
def cli(argv, capsys):
    from numpy2gpt.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def set_first_value(path, tensor, value):
    """Damage a checkpoint's weight bytes, leaving its header valid."""
    with open(path, "rb") as f:
        header, start = serialization._read_header(f, os.path.getsize(path), str(path))
    data = bytearray(path.read_bytes())
    at = start + header[tensor]["data_offsets"][0]
    data[at:at + 4] = np.float32(value).tobytes()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("value", [np.nan, 1e30])
def test_damaged_weights_stop_sample_resume_and_export(trained, tmp_path, capsys, value,
                                                       isolated_training):
    out, _ = trained
    run = tmp_path / "run"
    run.mkdir()
    (run / CKPT_NAME).write_bytes((out / CKPT_NAME).read_bytes())
    name = "model.transformer.h.0.attn.c_attn.weight"
    set_first_value(run / CKPT_NAME, name, value)
    damaged = (run / CKPT_NAME).read_bytes()
    for argv in (["sample", "--out_dir", run, "--num_samples", 1, "--max_new_tokens", 5],
                 ["train", "--out_dir", run, "--init_from", "resume", "--max_iters", 5],
                 ["export", "--out_dir", run, "--to", tmp_path / "hf"]):
        code, _, err = cli(argv, capsys)
        assert code == 2 and err == (
            f"error: checkpoint {run / CKPT_NAME} is corrupt or unreadable: numpy2gpt.load: "
            f"'{run / CKPT_NAME}' is damaged: the data of tensor '{name}' does not match the "
            "checksum saved with it (restore the file from a copy, or train again)\n"), argv
    assert (run / CKPT_NAME).read_bytes() == damaged
    assert not (tmp_path / "hf").exists()


def test_non_finite_weights_are_refused_even_with_a_valid_checksum(trained, tmp_path):
    """A checkpoint saved from weights that were already NaN (or an older file, without
    checksums): the checkpoint is refused on load, not resumed into a NaN run."""
    out, _ = trained
    ckpt = load_checkpoint(out)
    del ckpt["path"]
    ckpt["model"]["transformer.wpe.weight"].data[3, 1] = np.inf
    save_checkpoint(tmp_path, ckpt)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path)
    assert str(info.value) == (
        f"checkpoint {tmp_path / CKPT_NAME} holds non-finite values (NaN or inf) in "
        "model.transformer.wpe.weight: a model cannot be sampled from or trained on from there "
        "(the run diverged or the file was damaged); use an earlier copy or train again")


def test_ctrl_c_that_cannot_save_says_the_state_was_not_saved(tmp_path, monkeypatch,
                                                             isolated_training):
    import signal

    def read_only(file, mode="r", *args, **kwargs):  # as root, chmod would not stop writes
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), file)

    def press_ctrl_c(info):
        if info["iter_num"] == 2:
            monkeypatch.setattr(serialization, "open", read_only, raising=False)
            signal.raise_signal(signal.SIGINT)

    messages = []
    with pytest.raises(CheckpointError) as info:
        train({**TINY, "data": str(made_up_text(tmp_path)), "out_dir": str(tmp_path / "out"),
               "max_iters": 5}, log=messages.append, callback=press_ctrl_c)
    assert str(info.value) == (
        f"interrupted at iteration 2: the training state was NOT saved: could not write "
        f"{tmp_path / 'out' / CKPT_NAME}: Permission denied; nothing was saved (no file was "
        "created)")
    assert not any("continue with --init_from resume" in m for m in messages)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_a_bad_tokenizer_record_names_the_checkpoint_on_resume(trained, tmp_path,
                                                               isolated_training):
    out, _ = trained
    ckpt = load_checkpoint(out)
    del ckpt["path"]
    ckpt["tokenizer"] = {"type": "bpe", "version": 1}
    save_checkpoint(tmp_path, ckpt)
    with pytest.raises(CheckpointError) as info:
        train({**TINY, "out_dir": str(tmp_path), "init_from": "resume", "max_iters": 5},
              log=None)
    assert str(info.value) == (f"the tokenizer record of checkpoint {tmp_path / CKPT_NAME} is "
                               "not a valid 'bpe' tokenizer: it has no 'merges' field")


@pytest.mark.parametrize("content, problem", [
    ({"type": "bpe", "version": 1}, "is not a valid 'bpe' tokenizer: it has no 'merges' field"),
    ({"type": "char", "chars": ["ab"]}, "is not a valid 'char' tokenizer: vocabulary entries "
                                        "must be single characters, got 'ab'"),
    ({"type": "gpt2", "vocab": {}, "merges": [1]},
     "is not a valid 'gpt2' tokenizer: merge 0 must be a string 'left right', got 1"),
    ([1, 2], 'is not a numpy2gpt tokenizer: it has no "type" field (a file written by '
             "tok.save() has one of ['bpe', 'char', 'gpt2'])"),
    ({"version": "1.0", "model": {"type": "BPE"}},
     'is not a numpy2gpt tokenizer: it has no "type" field (a file written by tok.save() has '
     "one of ['bpe', 'char', 'gpt2']) (it looks like a Hugging Face tokenizer.json: give the "
     "folder holding GPT-2's vocab.json + merges.txt instead)"),
])
def test_prepare_names_a_tokenizer_file_and_what_is_wrong(tmp_path, capsys, content, problem,
                                                          isolated_training):
    path = tmp_path / "tok.json"
    path.write_text(json.dumps(content))
    code, _, err = cli(["prepare", made_up_text(tmp_path), "--out_dir", tmp_path / "data",
                        "--tokenizer", path], capsys)
    assert code == 2 and err == f"error: {path} {problem}\n"
    assert not (tmp_path / "data").exists()


def test_export_overwrite_replaces_an_earlier_export(trained, tmp_path, capsys):
    from numpy2gpt.gpt.model import GPT, GPTConfig
    from numpy2gpt.gpt.pretrained import save_pretrained
    from numpy2gpt.gpt.tokenizers import BPETokenizer

    out, _ = trained
    dest = tmp_path / "hf"
    numpy2gpt.manual_seed(0)  # an earlier export, of a BPE model: vocab.json + merges.txt
    config = GPTConfig(block_size=16, vocab_size=268, n_layer=1, n_head=2, n_embd=16)
    save_pretrained(GPT(config), dest, tokenizer=BPETokenizer.train("To be, or not to be " * 20,
                                                                    268))
    code, _, err = cli(["export", "--out_dir", out, "--to", dest, "--overwrite"], capsys)
    assert code == 0, err
    assert not (dest / "vocab.json").exists() and not (dest / "merges.txt").exists()
    flags = ["--num_samples", 1, "--max_new_tokens", 30, "--seed", 3]
    code, exported, err = cli(["sample", "--init_from", dest, *flags], capsys)
    assert code == 0, err
    assert exported == cli(["sample", "--out_dir", out, *flags], capsys)[1]


def test_prepare_over_the_file_size_limit_keeps_the_previous_dataset(tmp_path,
                                                                      isolated_training):
    """`ulimit -f` (RLIMIT_FSIZE) makes the write fail with EFBIG: one line, files kept."""
    import subprocess
    import sys

    resource = pytest.importorskip("resource", reason="RLIMIT_FSIZE is POSIX only")
    from numpy2gpt.gpt import data as datamod

    data, text = tmp_path / "data", made_up_text(tmp_path)
    datamod.prepare(text, data, log=None)
    before = {p.name: p.read_bytes() for p in data.iterdir()}

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))

    env = {**os.environ, "PYTHONPATH": str(Path(numpy2gpt.__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "numpy2gpt", "prepare", str(text), "--out_dir",
                           str(data), "--val_fraction", "0.2"], capture_output=True, text=True,
                          env=env, preexec_fn=limit, timeout=120)
    # (NumPy's tofile reports the short write in its own words: "16000 requested and 5000
    # written", without an errno)
    assert proc.returncode == 2 and proc.stderr.startswith(
        f"error: could not write {data / 'train.bin'}: ") and proc.stderr.endswith(
        "; nothing was saved (the previous file there is unchanged)\n") and \
        proc.stderr.count("\n") == 1
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
