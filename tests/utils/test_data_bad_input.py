"""Bad input to torch.utils.data and to torch.save / torch.load: the same exception type and
message as PyTorch's (`same_error` runs each case on numpy2gpt and on torch). numpy2gpt's
checkpoints are safetensors files, not pickles, so a file that is not one of them is refused
with numpy2gpt's own RuntimeError (PyTorch's unpickler fails with whatever it meets)."""

import io
import os
import warnings

import numpy as np
import pytest
import torch as pt
from torch_compare import same_error

import numpy2gpt as ng
from numpy2gpt import serialization


def data(lib):
    return lib.utils.data


def dataset(lib, n=5):
    return data(lib).TensorDataset(lib.arange(2 * n).reshape(n, 2).float(), lib.arange(n))


def loader(lib, *args, **kwargs):
    return data(lib).DataLoader(*args, **kwargs)


def batches(lib, ds, **kwargs):
    return list(loader(lib, ds, **kwargs))


# ----- DataLoader, datasets, samplers, collate ---------------------------------------------------
BAD = {
    "batch_size=0": lambda lib: loader(lib, dataset(lib), batch_size=0),
    "batch_size=-1": lambda lib: loader(lib, dataset(lib), batch_size=-1),
    "batch_size='a'": lambda lib: loader(lib, dataset(lib), batch_size="a"),
    "batch_size=1.5": lambda lib: loader(lib, dataset(lib), batch_size=1.5),
    "batch_size=2.0": lambda lib: loader(lib, dataset(lib), batch_size=2.0),
    "batch_size=True": lambda lib: loader(lib, dataset(lib), batch_size=True),
    "batch_sampler with batch_size=None": lambda lib: loader(
        lib, dataset(lib), batch_size=None, batch_sampler=[[0, 1], [3]]),
    "batch_size with batch_sampler": lambda lib: loader(lib, dataset(lib), batch_size=2,
                                                        batch_sampler=[[0, 1]]),
    "shuffle with batch_sampler": lambda lib: loader(lib, dataset(lib), shuffle=True,
                                                     batch_sampler=[[0, 1]]),
    "sampler with batch_sampler": lambda lib: loader(lib, dataset(lib), sampler=[0, 1],
                                                     batch_sampler=[[0, 1]]),
    "drop_last with batch_sampler": lambda lib: loader(lib, dataset(lib), drop_last=True,
                                                       batch_sampler=[[0, 1]]),
    "shuffle with a sampler": lambda lib: loader(lib, dataset(lib), shuffle=True,
                                                 sampler=[0, 1]),
    "drop_last with batch_size=None": lambda lib: loader(lib, dataset(lib), batch_size=None,
                                                         drop_last=True),
    "num_workers=-1": lambda lib: loader(lib, dataset(lib), num_workers=-1),
    "num_workers='a'": lambda lib: loader(lib, dataset(lib), num_workers="a"),
    "timeout=-1": lambda lib: loader(lib, dataset(lib), timeout=-1),
    "prefetch_factor without workers": lambda lib: loader(lib, dataset(lib), prefetch_factor=2),
    "persistent_workers without workers": lambda lib: loader(lib, dataset(lib),
                                                             persistent_workers=True),
    "shuffle of an IterableDataset": lambda lib: loader(lib, data(lib).IterableDataset(),
                                                        shuffle=True),
    "sampler of an IterableDataset": lambda lib: loader(lib, data(lib).IterableDataset(),
                                                        sampler=[0]),
    "batch_sampler of an IterableDataset": lambda lib: loader(
        lib, data(lib).IterableDataset(), batch_sampler=[[0]]),
    "iterating a number": lambda lib: batches(lib, 3),
    "len of an iterator": lambda lib: len(loader(lib, iter([1, 2]))),
    "collate_fn not callable": lambda lib: batches(lib, dataset(lib), collate_fn=3),
    "sampler a number": lambda lib: batches(lib, dataset(lib), sampler=3),
    "sampler out of range": lambda lib: batches(lib, dataset(lib), sampler=[10]),
    "batch_sampler a number": lambda lib: batches(lib, dataset(lib), batch_sampler=3),
    "setting batch_size after init": lambda lib: setattr(loader(lib, dataset(lib)),
                                                         "batch_size", 3),
    "setting sampler after init": lambda lib: setattr(loader(lib, dataset(lib)), "sampler", 3),
    "collate of mismatched shapes": lambda lib: batches(lib, [lib.zeros(2), lib.zeros(3)],
                                                        batch_size=2),
    "collate of mismatched ranks": lambda lib: batches(lib, [lib.zeros(2, 3), lib.zeros(2)],
                                                       batch_size=2),
    "collate of mismatched arrays": lambda lib: batches(lib, [np.zeros(2), np.zeros(3)],
                                                        batch_size=2),
    "collate of dicts with other keys": lambda lib: batches(lib, [{"a": 1}, {"b": 2}],
                                                            batch_size=2),
    "collate of tuples of two lengths": lambda lib: batches(lib, [(1, 2), (1,)], batch_size=2),
    "collate of lists of two lengths": lambda lib: batches(lib, [[1, 2], [1]], batch_size=2),
    "collate of objects": lambda lib: batches(lib, [object(), object()], batch_size=2),
    "collate of None": lambda lib: batches(lib, [None, None], batch_size=2),
    "collate of sets": lambda lib: batches(lib, [{1}, {2}], batch_size=2),
    "collate of string arrays": lambda lib: batches(lib, [np.array(["a"]), np.array(["b"])],
                                                    batch_size=2),
    "collate of object arrays": lambda lib: batches(
        lib, [np.array([None]), np.array([None])], batch_size=2),
    "default_collate of objects": lambda lib: data(lib).default_collate([object()]),
    "default_collate of []": lambda lib: data(lib).default_collate([]),
    "default_collate of a number": lambda lib: data(lib).default_collate(3),
    "default_collate of None": lambda lib: data(lib).default_collate(None),
    "TensorDataset of different first dims": lambda lib: data(lib).TensorDataset(
        lib.zeros(3), lib.zeros(4)),
    "len of a TensorDataset of nothing": lambda lib: len(data(lib).TensorDataset()),
    "TensorDataset of a list": lambda lib: data(lib).TensorDataset([1, 2, 3]),
    "TensorDataset index out of range": lambda lib: dataset(lib)[10],
    "random_split lengths sum short": lambda lib: data(lib).random_split(range(10), [3, 3]),
    "random_split lengths sum over": lambda lib: data(lib).random_split(range(10), [6, 6]),
    "random_split fractions sum short": lambda lib: data(lib).random_split(range(10),
                                                                           [0.5, 0.3]),
    "random_split negative fraction": lambda lib: data(lib).random_split(range(10),
                                                                         [1.5, -0.5]),
    "random_split fractions and lengths": lambda lib: data(lib).random_split(range(10),
                                                                             [0.5, 5]),
    "random_split no lengths": lambda lib: data(lib).random_split(range(10), []),
    "random_split lengths a number": lambda lib: data(lib).random_split(range(10), 3),
    "random_split of an iterator": lambda lib: data(lib).random_split(iter(range(10)), [5, 5]),
    "Subset index out of range": lambda lib: data(lib).Subset(range(3), [5])[0],
    "Subset negative index out of range": lambda lib: data(lib).Subset(range(3), [-5])[0],
    "Subset position out of range": lambda lib: data(lib).Subset(range(3), [0])[1],
    "Subset without indices": lambda lib: data(lib).Subset(range(3), None)[0],
    "ConcatDataset empty": lambda lib: data(lib).ConcatDataset([]),
    "ConcatDataset index out of range": lambda lib: data(lib).ConcatDataset(
        [range(3), range(2)])[5],
    "ConcatDataset negative index out of range": lambda lib: data(lib).ConcatDataset(
        [range(3), range(2)])[-6],
    "ConcatDataset of an IterableDataset": lambda lib: data(lib).ConcatDataset(
        [range(3), data(lib).IterableDataset()]),
    "Dataset without __getitem__": lambda lib: data(lib).Dataset()[0],
    "RandomSampler num_samples=0": lambda lib: data(lib).RandomSampler(range(3), num_samples=0),
    "RandomSampler num_samples='a'": lambda lib: data(lib).RandomSampler(range(3),
                                                                        num_samples="a"),
    "RandomSampler replacement='a'": lambda lib: data(lib).RandomSampler(range(3),
                                                                        replacement="a"),
    "BatchSampler batch_size=0": lambda lib: data(lib).BatchSampler(range(3), 0, False),
    "BatchSampler batch_size=True": lambda lib: data(lib).BatchSampler(range(3), True, False),
    "BatchSampler drop_last='a'": lambda lib: data(lib).BatchSampler(range(3), 2, "a"),
    "WeightedRandomSampler num_samples=0": lambda lib: data(lib).WeightedRandomSampler(
        [1.0, 1.0], 0),
    "WeightedRandomSampler replacement='a'": lambda lib: data(lib).WeightedRandomSampler(
        [1.0, 1.0], 2, replacement="a"),
    "WeightedRandomSampler 2-d weights": lambda lib: data(lib).WeightedRandomSampler(
        [[1.0, 1.0]], 2),
}

# (the same type; the messages come from numpy2gpt's own ops, worded differently)
SAME_TYPE_ONLY = {"collate of mismatched arrays", "random_split of an iterator"}


@pytest.mark.parametrize("what", BAD)
def test_data_bad_input(what):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(BAD[what], same_message=what not in SAME_TYPE_ONLY)


def plain(obj):
    if isinstance(obj, ng.Tensor | pt.Tensor):
        a = obj.detach().numpy()
        return str(a.dtype), a.tolist()
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    return obj


ACCEPTED = {  # odd input PyTorch takes: the same batches follow
    "batch_size=None": lambda lib: batches(lib, dataset(lib), batch_size=None),
    "random_split negative length": lambda lib: [list(s) for s in data(lib).random_split(
        range(10), [12, -2], generator=lib.Generator().manual_seed(0))],
    "shuffle=False with a sampler": lambda lib: batches(lib, dataset(lib), shuffle=False,
                                                        sampler=[4, 0]),
    "shuffle=None": lambda lib: batches(lib, dataset(lib), shuffle=None),
    "collate of ints and floats": lambda lib: batches(lib, [1, 2.5], batch_size=2),
    "random_split fractions": lambda lib: [len(s) for s in data(lib).random_split(
        range(10), [0.33, 0.33, 0.34])],
    "Subset of a tensor of indices": lambda lib: data(lib).Subset(range(3),
                                                                  lib.tensor([0, 2]))[1],
    "Subset of indices out of range, len": lambda lib: len(data(lib).Subset(range(3), [5, 6])),
}


@pytest.mark.parametrize("what", ACCEPTED)
def test_data_odd_input_pytorch_accepts(what):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert plain(ACCEPTED[what](ng)) == plain(ACCEPTED[what](pt))


# ----- torch.save / torch.load ---------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    """A checkpoint with a tensor in it, saved by each library: {library: path}."""
    paths = {}
    for lib in (ng, pt):
        paths[lib] = tmp_path / f"good_{lib.__name__}.pt"
        lib.save({"w": lib.ones(3), "n": 1}, paths[lib])
    return paths


@pytest.mark.parametrize("f", ["missing folder", None, 3, b"bytes.pt"])
def test_save_to_a_bad_place(tmp_path, f):
    target = tmp_path / "nope" / "x.pt" if f == "missing folder" else f
    same_error(lambda lib: lib.save({"a": lib.ones(2)}, target))
    assert not os.path.exists(tmp_path / "nope")


def test_save_to_a_missing_folder_given_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    same_error(lambda lib: lib.save({"a": 1}, "nope/x.pt"))
    same_error(lambda lib: lib.save({"a": 1}, "./nope/y/x.pt"))


@pytest.mark.parametrize("f", [None, 3, [1], b"bytes.pt"])
def test_load_from_what_is_not_a_file(f):
    same_error(lambda lib: lib.load(f))


def test_load_from_a_file_object_that_cannot_read(tmp_path):
    same_error(lambda lib: lib.load(open(tmp_path / "w.pt", "wb")))


@pytest.mark.parametrize("content", [b"", b"abc", b"hello world, this is not a checkpoint\n",
                                     "truncated", "cut short"])
def test_load_of_what_is_not_a_checkpoint(tmp_path, saved, content):
    """numpy2gpt's RuntimeError names the file and what is wrong; PyTorch's unpickler fails
    with what it meets (EOFError, KeyError, ...) or, for a damaged zip, a RuntimeError."""
    good = saved[ng].read_bytes()
    if content == "truncated":
        content = good[:len(good) // 2]
    elif content == "cut short":
        content = good[:-5]
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match=r"bad\.pt.* is not a valid checkpoint: "):
        ng.load(path)


MAP_LOCATIONS = ["cuda", "cuda:0", "cuda:x", "foo", "cpu:0", "CPU", "", 3, 1.5, ("cpu",),
                 {"cpu": "cuda"}, {"cpu": "foo"}, {"cpu": 3}, "device cuda"]


@pytest.mark.parametrize("map_location", MAP_LOCATIONS, ids=repr)
def test_map_location_refused(saved, map_location):
    def call(lib):
        where = lib.device("cuda") if map_location == "device cuda" else map_location
        return lib.load(saved[lib], map_location=where)

    same_error(call)


ACCEPTED_LOCATIONS = [None, "cpu", "meta", {"cuda:0": "cpu"}, {"cpu": "cpu"}, "device cpu",
                      lambda storage, location: None, lambda storage, location: storage]


def _location_id(where):  # (a lambda's repr holds its address: parallel workers must agree)
    return "callable" + str(ACCEPTED_LOCATIONS.index(where)) if callable(where) else repr(where)


@pytest.mark.parametrize("map_location", ACCEPTED_LOCATIONS, ids=_location_id)
def test_map_location_accepted(saved, map_location):
    for lib in (ng, pt):
        where = lib.device("cpu") if map_location == "device cpu" else map_location
        loaded = lib.load(saved[lib], map_location=where)
        assert loaded["n"] == 1 and tuple(loaded["w"].shape) == (3,)


@pytest.mark.parametrize("map_location", ["foo", 3, "cuda"], ids=repr)
def test_map_location_unchecked_without_tensors(tmp_path, map_location):
    for lib in (ng, pt):  # (PyTorch checks it on each tensor it restores)
        path = tmp_path / f"n_{lib.__name__}.pt"
        lib.save({"n": 1}, path)
        assert lib.load(path, map_location=map_location) == {"n": 1}


@pytest.mark.parametrize("kwargs", [
    dict(pickle_module="pickle", weights_only=True), dict(foo=1), dict(fix_imports=True),
    dict(weights_only=False, foo=1), dict(mmap=True, fileobj=True)], ids=str)
def test_load_arguments_refused(saved, kwargs):
    def call(lib):
        args = dict(kwargs)
        if args.get("pickle_module") == "pickle":
            args["pickle_module"] = __import__("pickle")
        f = saved[lib]
        if args.pop("fileobj", False):
            f = io.BytesIO(f.read_bytes())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.load(f, **args)

    same_error(call)


@pytest.mark.parametrize("kwargs", [dict(encoding="latin1"), dict(mmap=True), dict(mmap="a"),
                                    dict(weights_only="a"), dict(weights_only=False),
                                    dict(pickle_module="pickle"),
                                    dict(weights_only=False, fix_imports=True, errors="strict")],
                         ids=str)
def test_load_arguments_accepted(saved, kwargs):
    for lib in (ng, pt):
        args = dict(kwargs)
        if args.get("pickle_module") == "pickle":
            args["pickle_module"] = __import__("pickle")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert lib.load(saved[lib], **args)["n"] == 1


def test_load_warns_that_unpickler_arguments_need_weights_only_false(saved):
    for lib in (ng, pt):
        with pytest.warns(UserWarning, match="pickle_load_args only works if `weights_only="):
            lib.load(saved[lib], encoding="latin1")


def test_loading_into_the_wrong_model(saved):
    same_error(lambda lib: lib.nn.Linear(2, 3).load_state_dict(lib.nn.Linear(3, 2).state_dict()),
               same_message=False)  # (the message names numpy2gpt.Size / torch.Size)
    same_error(lambda lib: lib.nn.Linear(3, 1).load_state_dict(lib.load(saved[lib])))


def test_a_failed_save_leaves_the_previous_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ng.save({"step": 1, "w": ng.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):  # an object numpy2gpt does not store: refused before writing
        ng.save({"step": 2, "bad": object()}, path)

    def failing_write(fh, arrays, metadata=None):
        fh.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "write_safetensors", failing_write)
    with pytest.raises(OSError, match="No space left on device.*previous file there is "
                                      "unchanged"):
        ng.save({"step": 3, "w": ng.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_save_writes_through_a_symbolic_link(tmp_path):
    """As torch.save: the file the link points to is replaced; the link stays a link."""
    for lib in (ng, pt):
        target, link = tmp_path / f"ckpt_{lib.__name__}.pt", tmp_path / f"last_{lib.__name__}.pt"
        lib.save({"step": 1}, target)
        link.symlink_to(target.name)
        lib.save({"step": 2}, link)
        assert link.is_symlink() and lib.load(target) == {"step": 2}
