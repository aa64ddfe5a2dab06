"""numpy2gpt.save / load: round trips of model and optimizer-style state dicts, tied tensors,
file objects, plain safetensors files, clear errors for truncated / foreign files, atomic writes."""

import io
import json
import os
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
import torch

import numpy2gpt as n2g
from numpy2gpt import nn, serialization
from numpy2gpt.serialization import load, save


def model():
    n2g.manual_seed(0)
    m = nn.Sequential(OrderedDict([("emb", nn.Embedding(7, 4)), ("ln", nn.LayerNorm(4)),
                                   ("head", nn.Linear(4, 7, bias=False))]))
    m.head.weight = m.emb.weight  # tied
    m.register_buffer("steps", n2g.tensor([3], dtype=n2g.int64))
    return m


def optimizer_like_state():
    """The shape of a PyTorch optimizer state_dict: int keys, tuples, mixed scalars."""
    return {
        "state": {0: {"step": n2g.tensor(5.0), "exp_avg": n2g.randn(2, 3),
                      "exp_avg_sq": n2g.rand(2, 3, dtype=n2g.float64)},
                  1: {"step": n2g.tensor(5.0), "momentum_buffer": None}},
        "param_groups": [{"params": [0, 1], "lr": 3e-4, "betas": (0.9, 0.95), "eps": 1e-8,
                          "weight_decay": 0.1, "amsgrad": False, "foreach": None,
                          "name": "decay"}],
    }


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, n2g.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a._data, b._data)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b


def test_model_state_dict_round_trip_restores_the_model(tmp_path):
    m = model()
    path = tmp_path / "model.pt"
    save(m.state_dict(), path)
    sd = load(path)
    assert isinstance(sd, OrderedDict) and list(sd) == list(m.state_dict())
    assert_same(sd, m.state_dict())
    assert sd["steps"].dtype == n2g.int64
    # the tied weight is stored once and comes back as one shared tensor
    assert sd["emb.weight"] is sd["head.weight"]
    with safetensors.safe_open(str(path), "np") as f:
        assert len(list(f.keys())) == 4  # emb/head weight once, ln weight, ln bias, steps
    fresh = model()
    with n2g.no_grad():
        for p in fresh.parameters():
            p.zero_()
    fresh.load_state_dict(sd)
    x = n2g.tensor([[1, 2, 6]])
    np.testing.assert_array_equal(fresh(x)._data, m(x)._data)
    assert fresh.head.weight is fresh.emb.weight


def test_optimizer_and_nested_structures_round_trip(tmp_path):
    obj = {"model": model().state_dict(), "optimizer": optimizer_like_state(),
           "iter_num": 1200, "best_val_loss": 1.4703, "config": {"n_layer": 6, "bias": False},
           "rng": n2g.get_rng_state(), "nan": float("nan"), "inf": float("-inf"),
           "array": np.arange(6, dtype=np.int32).reshape(2, 3), "np_scalar": np.float32(2.5),
           "empty": n2g.zeros(0, 3), "bools": n2g.tensor([True, False]),
           "half": n2g.ones(2, dtype=n2g.float16), "weird_keys": {None: 1, 2.5: "x", "__k": 3},
           "tuple_of_tensors": (n2g.ones(1), [n2g.zeros(2)]),
           "transposed": n2g.randn(3, 4).permute(1, 0), "scalar": n2g.tensor(2.0)}
    save(obj, str(tmp_path / "ckpt.pt"))
    back = load(str(tmp_path / "ckpt.pt"), map_location="cpu", weights_only=True)
    expected = dict(obj, np_scalar=2.5)  # NumPy scalars come back as Python numbers
    assert_same(back, expected)
    assert isinstance(back["optimizer"]["state"][0]["exp_avg"], n2g.Tensor)
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.95)


def test_file_objects_and_loaded_tensors_are_writable():
    buf = io.BytesIO()
    save({"w": n2g.ones(2, 2)}, buf)
    buf.seek(0)
    back = load(buf)
    back["w"].add_(1)  # loaded arrays are ordinary writable arrays
    assert np.all(back["w"]._data == 2)


def test_plain_safetensors_file_loads_as_flat_dict(tmp_path):
    path = tmp_path / "weights.safetensors"
    safetensors.numpy.save_file({"wte": np.ones((3, 2), np.float32)}, str(path))
    back = load(path)
    assert list(back) == ["wte"] and isinstance(back["wte"], n2g.Tensor)
    assert back["wte"].dtype == n2g.float32


def test_unsupported_objects_are_refused_with_their_location(tmp_path):
    with pytest.raises(TypeError, match=r"got set at obj\['a'\]\[1\]"):
        save({"a": [1, {2}]}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="dict keys must be"):
        save({(1, 2): 3}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="got function"):
        save(lambda: 0, tmp_path / "x.pt")
    model = n2g.nn.Linear(2, 2)  # torch.save(model): a whole module would need pickle
    for obj in (model, n2g.optim.SGD(model.parameters(), lr=0.1)):
        with pytest.raises(TypeError, match=r"save its \.state_dict\(\) and load that"):
            save({"model": obj}, tmp_path / "x.pt")
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("keep", [0, 5, 8, 40, -1])
def test_truncated_file_gives_a_clear_error_naming_the_file(tmp_path, keep):
    path = tmp_path / "ckpt.pt"
    save({"model": model().state_dict(), "step": 3}, path)
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:-10])
    with pytest.raises(RuntimeError, match=r"ckpt\.pt.*not a valid checkpoint.*truncated"):
        load(path)


def test_foreign_files_give_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a checkpoint at all")
    with pytest.raises(RuntimeError, match=r"notes\.txt.*not a valid checkpoint"):
        load(text)
    pt = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, pt)
    with pytest.raises(RuntimeError, match=r"torch\.pt.*PyTorch \(zip/pickle\).*never unpickles"):
        load(pt)
    bad_json = tmp_path / "bad.bin"
    bad_json.write_bytes((8).to_bytes(8, "little") + b"{not js}")
    with pytest.raises(RuntimeError, match=r"bad\.bin.*not valid JSON"):
        load(bad_json)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "missing.pt")


def test_damaged_structure_record_is_reported(tmp_path):
    path = tmp_path / "x.pt"
    safetensors.numpy.save_file({"t0": np.ones(1)}, str(path),
                                metadata={"format": "numpy2gpt", "format_version": "1",
                                          "structure": '{"a": {"__tensor__": "t9"}}'})
    with pytest.raises(RuntimeError, match="damaged structure record"):
        load(path)
    safetensors.numpy.save_file({"x": np.ones(4)}, str(path), metadata={
        "format": "numpy2gpt", "format_version": "2",
        "structure": '{"v": {"__tensor__": "x", "view": [2, [3], [1]]}}'})
    with pytest.raises(RuntimeError, match=r"damaged structure record: ValueError: a view "
                                           r"\(offset 2, shape \[3\], strides \[1\]\) reaches "
                                           "outside its 4 elements"):
        load(path)
    safetensors.numpy.save_file({}, str(path), metadata={"format": "numpy2gpt",
                                                         "format_version": "99"})
    with pytest.raises(RuntimeError, match="format version '99'"):
        load(path)


def test_crash_mid_write_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save({"step": 1, "w": n2g.ones(3)}, path)
    before = path.read_bytes()

    def crashing_write(fh, arrays, metadata=None):
        fh.write(b"partial garbage")
        raise KeyboardInterrupt("simulated crash while writing")

    monkeypatch.setattr(serialization, "write_safetensors", crashing_write)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2, "w": n2g.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file was removed
    assert load(path)["step"] == 1


def test_crash_at_rename_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save({"step": 1}, path)

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save({"step": 2}, path)
    monkeypatch.undo()
    assert load(path) == {"step": 1}
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_save_overwrites_and_missing_directory_errors(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"step": 1}, path)
    save({"step": 2}, path)
    assert load(path) == {"step": 2}
    missing = tmp_path / "no_such_dir"
    with pytest.raises(RuntimeError, match=f"^Parent directory {missing} does not exist.$"):
        save({"step": 1}, missing / "ckpt.pt")  # PyTorch's error


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_files_get_the_usual_mode_for_new_files(tmp_path, umask):
    """Like torch.save and open(): 0o666 less the umask (safetensors alone writes 0o600)."""
    old = os.umask(umask)
    try:
        path = tmp_path / "ckpt.pt"
        save({"w": n2g.ones(2)}, path)
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    finally:
        os.umask(old)


def test_valid_file_whose_header_length_starts_with_0x80_loads(tmp_path):
    """A header of 128 (mod 256) bytes begins with byte 0x80, like a pickle: still valid."""
    import safetensors.numpy

    path = tmp_path / "w.safetensors"
    for n in range(40, 120):  # find a key length that makes the header length 128 mod 256
        safetensors.numpy.save_file({"a" * n: np.zeros(3, np.float32)}, str(path))
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    loaded = load(path)
    assert list(loaded) == ["a" * n] and loaded["a" * n].shape == (3,)


# ---------------------------------------------------------------- names other readers see
def test_other_safetensors_readers_see_the_state_dict_names(tmp_path):
    import safetensors.torch

    m = model()
    path = tmp_path / "m.safetensors"
    save(m.state_dict(), path)
    plain = safetensors.numpy.load_file(str(path))
    # the tied head.weight is the same tensor as emb.weight: stored once, under its first name
    assert sorted(plain) == ["emb.weight", "ln.bias", "ln.weight", "steps"]
    for name, array in plain.items():
        np.testing.assert_array_equal(array, m.state_dict()[name]._data)
    assert torch.equal(safetensors.torch.load_file(str(path))["ln.weight"],
                       torch.from_numpy(m.ln.weight._data))

    # nested objects: the path of keys; clashing paths get a suffix, and all round-trip
    obj = {"model": m.state_dict(), "optimizer": optimizer_like_state(),
           "a.b": n2g.ones(1), "a": {"b": n2g.zeros(1)}, "__metadata__": n2g.ones(2)}
    save(obj, path)
    keys = set(safetensors.numpy.load_file(str(path)))
    assert {"model.emb.weight", "optimizer.state.0.exp_avg", "a.b", "a.b#2"} <= keys
    assert "__metadata__" not in keys
    assert_same(load(path), obj)


def write_version_1_file(path):
    """A file as numpy2gpt's first format wrote it: arrays under t0, t1, ..., no checksums."""
    structure = {"__odict__": [["w", {"__tensor__": "t0"}], ["tied", {"__tensor__": "t0"}],
                               ["step", {"__tensor__": "t1"}]]}
    arrays = {"t0": np.arange(6, dtype=np.float32).reshape(2, 3), "t1": np.array(5)}
    safetensors.numpy.save_file(arrays, str(path), metadata={
        "format": "numpy2gpt", "format_version": "1", "structure": json.dumps(structure)})
    return arrays


def test_files_of_the_first_format_still_load(tmp_path):
    arrays = write_version_1_file(tmp_path / "old.pt")
    back = load(tmp_path / "old.pt")
    assert isinstance(back, OrderedDict) and list(back) == ["w", "tied", "step"]
    np.testing.assert_array_equal(back["w"]._data, arrays["t0"])
    assert back["w"] is back["tied"] and back["step"].item() == 5


# ---------------------------------------------------------------- checksums
def flip(path, key, value):
    """Overwrite the first element of the float32 tensor `key` in a safetensors file."""
    data = bytearray(path.read_bytes())
    n = int.from_bytes(data[:8], "little")
    start = 8 + n + json.loads(data[8:8 + n])[key]["data_offsets"][0]
    data[start:start + 4] = np.float32(value).tobytes()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("value", [np.nan, 1e30])
def test_damaged_weights_are_refused_naming_the_file_and_the_tensor(tmp_path, value):
    m = model()
    path = tmp_path / "m.safetensors"
    save(m.state_dict(), path)
    flip(path, "ln.weight", value)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(load(path))
    assert str(info.value) == (
        f"numpy2gpt.load: {str(path)!r} is damaged: the data of tensor 'ln.weight' does not "
        "match the checksum saved with it (restore the file from a copy, or train again)")
    np.testing.assert_array_equal(m.ln.weight._data, model().ln.weight._data)  # untouched

    # a file without checksums (the first format, or any plain safetensors file) still loads
    write_version_1_file(path)
    flip(path, "t0", value)
    np.testing.assert_array_equal(load(path)["w"]._data[0, 0], np.float32(value))


# ---------------------------------------------------------------- failed writes
def test_a_write_over_the_file_size_limit_says_what_was_not_saved(tmp_path):
    """`ulimit -f`: the write fails with EFBIG; one line, the old file kept, no temp file."""
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("resource", reason="RLIMIT_FSIZE is POSIX only")
    path = tmp_path / "ckpt.pt"
    save({"w": n2g.zeros(10)}, path)
    before = path.read_bytes()
    code = ("import resource, numpy2gpt as n2g\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
            "try:\n"
            f"    n2g.save({{'w': n2g.ones(1_000_000)}}, {str(path)!r})\n"
            "except OSError as e:\n"
            "    print(e)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(n2g.__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.stdout == (f"could not write {path}: File too large; nothing was saved (the "
                          "previous file there is unchanged)\n"), out.stderr
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_a_read_only_folder_says_what_was_not_saved(tmp_path, monkeypatch):
    """(Simulated: as root, a folder's mode does not stop writes.)"""
    def read_only(file, mode="r", *args, **kwargs):
        raise PermissionError(13, "Permission denied", file)

    monkeypatch.setattr(serialization, "open", read_only, raising=False)
    with pytest.raises(OSError) as info:
        save({"w": n2g.ones(2)}, tmp_path / "ckpt.pt")
    assert str(info.value) == (f"could not write {tmp_path / 'ckpt.pt'}: Permission denied; "
                               "nothing was saved (no file was created)")
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- like torch.save
def test_requires_grad_and_parameters_are_kept_like_torch_save(tmp_path):
    obj = {"p": nn.Parameter(n2g.ones(2)), "leaf": n2g.ones(2, requires_grad=True),
           "plain": n2g.ones(2), "frozen": nn.Parameter(n2g.ones(2), requires_grad=False)}
    save(obj, tmp_path / "x.pt")
    back = load(tmp_path / "x.pt")
    ref = {"p": torch.nn.Parameter(torch.ones(2)), "leaf": torch.ones(2, requires_grad=True),
           "plain": torch.ones(2), "frozen": torch.nn.Parameter(torch.ones(2),
                                                                requires_grad=False)}
    torch.save(ref, tmp_path / "x.pth")
    ref = torch.load(tmp_path / "x.pth")
    for k in obj:
        assert back[k].requires_grad == ref[k].requires_grad, k
        assert isinstance(back[k], nn.Parameter) == isinstance(ref[k], torch.nn.Parameter), k
        assert back[k].is_leaf


def test_bfloat16_safetensors_load_as_float32(tmp_path):
    import safetensors.torch

    t = torch.randn(3, 5).to(torch.bfloat16)
    safetensors.torch.save_file({"w": t, "i": torch.arange(3)}, str(tmp_path / "bf16.safetensors"))
    back = load(tmp_path / "bf16.safetensors")
    assert back["w"].dtype == n2g.float32 and back["i"].dtype == n2g.int64
    np.testing.assert_array_equal(back["w"]._data, t.float().numpy())  # exact: a 16-bit shift


def test_views_keep_sharing_memory_like_torch_save(tmp_path):
    """torch.save stores a storage once and its views as views: writes through a loaded view
    reach the tensor it views. Memory no saved tensor covers whole is stored per tensor."""
    def views(lib):
        x, e = lib.arange(12.0).reshape(3, 4), lib.zeros(3, 1)
        return {"x": x, "row": x[1], "col": x[:, 2], "t": x.t(), "flat": x.view(-1),
                "tail": x[2][1:], "e": e, "expanded": e.expand(3, 4), "alone": x[0][1:3] * 1}

    save(views(n2g), tmp_path / "v.pt")
    torch.save(views(torch), tmp_path / "v.pth")
    ours, theirs = load(tmp_path / "v.pt"), torch.load(tmp_path / "v.pth")
    assert sorted(safetensors.numpy.load_file(str(tmp_path / "v.pt"))) == ["alone", "e", "x"]
    for back in (ours, theirs):
        back["row"][0] = 100.0
        back["t"][3, 2] = -1.0
        back["e"][2, 0] = 7.0
    for k in theirs:
        np.testing.assert_array_equal(ours[k]._data, theirs[k].numpy(), err_msg=k)
    assert ours["flat"]._data[4] == 100.0 and ours["expanded"]._data[2].tolist() == [7.0] * 4
