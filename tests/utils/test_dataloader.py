"""numpy2gpt.utils.data against torch.utils.data: the same dataset, seed and arguments on both
sides give the same batches (values and dtypes), in the same order, epoch after epoch, and leave
the global generator (and Python's and NumPy's) in the same state; bad arguments raise PyTorch's
errors. PyTorch runs its workers as real processes; numpy2gpt emulates them in-process."""

import collections
import random

import numpy as np
import pytest
import torch

import numpy2gpt as ng
from numpy2gpt.utils.data import dataloader as ng_dataloader

LIBS = (ng, torch)
Point = collections.namedtuple("Point", "x y")


def plain(obj):
    """A batch as nested Python values, tensors as (dtype, shape, values), so == compares
    everything that matters on both libraries."""
    if isinstance(obj, ng.Tensor | torch.Tensor):
        a = obj.detach().numpy()
        return "tensor", str(a.dtype), a.shape, a.tolist()
    if isinstance(obj, dict):
        return type(obj).__name__, {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj).__name__, [plain(v) for v in obj]
    return type(obj).__name__, obj if isinstance(obj, int | float | str | bytes | None) else None


def outcome(fn):
    """fn() as ("ok", plain value) or ("error", type name, message with the library's name
    made torch's), so one comparison checks results and errors alike."""
    try:
        return "ok", plain(fn())
    except Exception as e:
        return "error", type(e).__name__, str(e).replace("numpy2gpt", "torch")


def same_on_both(fn):
    """fn(lib) on numpy2gpt and on torch; asserts the outcomes are equal and returns ours."""
    ours, theirs = (outcome(lambda lib=lib: fn(lib)) for lib in LIBS)
    assert ours == theirs
    return ours


def seeded(lib, seed):
    lib.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def rng_states(lib):
    """What comes next from each global generator: numpy2gpt's/torch's, `random`, NumPy."""
    return lib.randn(3).tolist(), lib.randint(0, 1000, (4,)).tolist(), random.random(), \
        np.random.rand()


def epochs(loader, n=3):
    return [[plain(batch) for batch in loader] for _ in range(n)]


def numbers(lib, n=23):
    return lib.utils.data.TensorDataset(lib.arange(n), lib.arange(n) * 0.5)


@pytest.mark.parametrize("seed", [0, 1337, 2**40 + 3])
@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4, shuffle=True),
    dict(batch_size=5, shuffle=True, drop_last=True),
    dict(batch_size=1, shuffle=True),
    dict(batch_size=6),  # sequential: still one base-seed draw per epoch
    dict(batch_size=None, shuffle=True),  # no batching: samples one by one, default_convert
])
def test_shuffled_epochs_and_the_generator_after_equal_pytorchs(seed, kwargs):
    # each epoch draws a base seed, then RandomSampler seeds its own Generator from a second draw
    def run(lib):
        seeded(lib, seed)
        loader = lib.utils.data.DataLoader(numbers(lib), **kwargs)
        return epochs(loader), len(loader), rng_states(lib)
    assert same_on_both(run)[0] == "ok"


def test_an_explicit_generator_drives_the_shuffle_and_the_base_seed():
    # the loader's generator gives the base seed and the permutation; the global one is untouched
    def run(lib):
        seeded(lib, 5)
        g = lib.Generator().manual_seed(7)
        loader = lib.utils.data.DataLoader(numbers(lib, 10), batch_size=3, shuffle=True,
                                           generator=g)
        return epochs(loader, 2), lib.randperm(6, generator=g).tolist(), rng_states(lib)
    same_on_both(run)


def test_custom_sampler_batch_sampler_and_collate_fn():
    def run(lib):
        D = lib.utils.data
        seeded(lib, 3)
        ds = numbers(lib, 11)
        sampler = D.RandomSampler(ds, replacement=True, num_samples=40)
        by_sampler = epochs(D.DataLoader(ds, batch_size=7, sampler=sampler), 2)
        batches = D.BatchSampler(D.SequentialSampler(ds), 4, drop_last=False)
        by_batch_sampler = epochs(D.DataLoader(ds, batch_sampler=batches), 1)
        summed = epochs(D.DataLoader(ds, batch_size=4, collate_fn=lambda b: len(b)), 1)
        return by_sampler, by_batch_sampler, summed, rng_states(lib)
    same_on_both(run)


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # torch's: 3 workers, 2 cpus
@pytest.mark.parametrize("kwargs", [dict(num_workers=2),
                                    dict(num_workers=3, persistent_workers=True),
                                    dict(num_workers=2, prefetch_factor=1)])
def test_emulated_workers_give_pytorchs_batches_and_random_numbers(kwargs, monkeypatch):
    # each worker: its own seed base_seed + id for torch and `random`, PyTorch's hash of it for
    # NumPy, and get_worker_info(); batch k comes from worker k % num_workers. The main process's
    # generators move only by the seed draws.
    monkeypatch.setattr(ng_dataloader, "_said_no_workers", False)

    def run(lib):
        D = lib.utils.data

        class Noisy(D.Dataset):
            def __len__(self):
                return 10

            def __getitem__(self, i):
                info = D.get_worker_info()
                return (i, lib.rand(2), random.random(), float(np.random.rand()), info.id,
                        info.seed, info.num_workers)

        seeded(lib, 11)
        loader = D.DataLoader(Noisy(), batch_size=3, shuffle=True, **kwargs)
        return epochs(loader, 2), D.get_worker_info(), rng_states(lib)

    with pytest.warns(UserWarning, match="emulated one after the other"):
        same_on_both(run)


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.filterwarnings("ignore:numpy2gpt's DataLoader starts no worker")
@pytest.mark.parametrize("num_workers", [0, 2])
def test_the_sampler_draws_its_seed_when_pytorchs_does(num_workers):
    # without workers, at the first batch; with workers, when the epoch starts (PyTorch hands
    # prefetch_factor * num_workers index lists out at once): a draw in between tells them apart
    def run(lib):
        seeded(lib, 6)
        loader = lib.utils.data.DataLoader(numbers(lib, 9), batch_size=2, shuffle=True,
                                           num_workers=num_workers)
        epoch = iter(loader)
        between = lib.randn(2).tolist()
        return between, [plain(batch) for batch in epoch], rng_states(lib)
    same_on_both(run)


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_iterable_dataset_with_workers_is_read_by_each_worker():
    # without sharding every worker reads the whole stream (PyTorch's duplicates), round robin;
    # worker_init_fn can shard each worker's copy of the dataset through get_worker_info()
    def run(lib):
        D = lib.utils.data

        class Stream(D.IterableDataset):
            def __init__(self, n):
                self.start, self.end = 0, n

            def __iter__(self):
                return iter(range(self.start, self.end))

        def shard(worker_id):
            info = D.get_worker_info()
            per = -(-(info.dataset.end - info.dataset.start) // info.num_workers)
            info.dataset.start = worker_id * per
            info.dataset.end = min(info.dataset.start + per, info.dataset.end)

        seeded(lib, 2)
        stream = Stream(11)
        return (epochs(D.DataLoader(stream, batch_size=2, num_workers=2), 1),
                epochs(D.DataLoader(stream, batch_size=2, num_workers=3, drop_last=True), 1),
                epochs(D.DataLoader(stream, batch_size=2, num_workers=3, worker_init_fn=shard,
                                    persistent_workers=True), 2),
                (stream.start, stream.end), rng_states(lib))
    with pytest.warns(UserWarning):
        same_on_both(run)


def test_the_no_workers_warning_comes_once():
    ng_dataloader._said_no_workers = False
    with pytest.warns(UserWarning, match="starts no worker processes") as record:
        ng.utils.data.DataLoader(numbers(ng), num_workers=2)
        ng.utils.data.DataLoader(numbers(ng), num_workers=4)
    assert len(record) == 1


def test_iterable_dataset_batches_len_and_its_warning():
    def run(lib):
        D = lib.utils.data

        class Stream(D.IterableDataset):
            def __iter__(self):
                yield from ({"a": i, "b": [i, 2.0 * i]} for i in range(7))

            def __len__(self):
                return 1  # wrong on purpose: the loader warns once it yields more batches

        loader = D.DataLoader(Stream(), batch_size=3)
        with pytest.warns(UserWarning, match="was reported to be 1"):
            return len(loader), epochs(loader, 1), epochs(D.DataLoader(Stream(), batch_size=3,
                                                                       drop_last=True), 1), \
                epochs(D.DataLoader(Stream(), batch_size=None), 1), \
                Stream() + Stream() is not None, list(D.ChainDataset([Stream(), Stream()]))[5:9]
    same_on_both(run)


@pytest.mark.parametrize("name,make", [
    ("ints", lambda lib: [1, 2, 3]),
    ("bools", lambda lib: [True, False]),
    ("floats", lambda lib: [1.5, 2.0]),  # float64, as PyTorch
    ("mixed numbers", lambda lib: [1, 2.5]),
    ("strings", lambda lib: ["a", "b"]),
    ("bytes", lambda lib: [b"a", b"b"]),
    ("float32 arrays", lambda lib: [np.ones(3, np.float32), np.zeros(3, np.float32)]),
    ("int arrays", lambda lib: [np.arange(2), np.arange(2)]),
    ("numpy scalars", lambda lib: [np.float32(1), np.float32(2)]),
    ("int16 scalars", lambda lib: [np.int16(1), np.int16(2)]),
    ("tensors", lambda lib: [lib.ones(2, 3), lib.zeros(2, 3)]),
    ("float64 tensors", lambda lib: [lib.ones(2, dtype=lib.float64), lib.zeros(2,
                                                                               dtype=lib.float64)]),
    ("tuples", lambda lib: [(lib.ones(2), 1, "a"), (lib.zeros(2), 2, "b")]),
    ("lists", lambda lib: [[1, 2.0], [3, 4.0]]),
    ("dicts", lambda lib: [{"a": 1, "b": lib.ones(1)}, {"a": 2, "b": lib.zeros(1)}]),
    ("ordered dicts", lambda lib: [collections.OrderedDict(a=1), collections.OrderedDict(a=2)]),
    ("namedtuples", lambda lib: [Point(1, 2.0), Point(3, 4.0)]),
    ("nested", lambda lib: [{"p": Point(np.ones(2), [1, 2])}, {"p": Point(np.zeros(2), [3, 4])}]),
    ("objects", lambda lib: [object(), object()]),
    ("None", lambda lib: [None, None]),
    ("string arrays", lambda lib: [np.array(["a"]), np.array(["b"])]),
    ("ragged lists", lambda lib: [[1, 2], [3]]),
    ("different shapes", lambda lib: [lib.ones(2), lib.ones(3)]),
])
def test_default_collate_and_default_convert_follow_pytorchs_rules(name, make):
    same_on_both(lambda lib: lib.utils.data.default_collate(make(lib)))
    same_on_both(lambda lib: lib.utils.data.default_convert(make(lib)))


def test_collated_tensors_keep_their_graph():
    x = ng.ones(2, requires_grad=True)
    batch = ng.utils.data.default_collate([x * 2, x * 3])
    batch.sum().backward()
    assert batch.requires_grad and x.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [0.25, 0.75],
                                     [1, 2, 3]])
def test_random_split_equals_pytorchs(lengths):
    def run(lib):
        D = lib.utils.data
        seeded(lib, 4)
        by_global = [list(s) for s in D.random_split(range(10), lengths)]
        g = lib.Generator().manual_seed(9)
        by_generator = [list(s) for s in D.random_split(range(10), lengths, generator=g)]
        return by_global, by_generator, [len(s) for s in D.random_split(range(10), lengths)], \
            rng_states(lib)
    same_on_both(run)


def test_random_split_warns_about_an_empty_split():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
            lib.utils.data.random_split(range(3), [1.0, 0.0])


def test_samplers_equal_pytorchs():
    def run(lib):
        D = lib.utils.data
        seeded(lib, 8)
        g = lib.Generator().manual_seed(1)
        return (list(D.RandomSampler(range(7))), list(D.RandomSampler(range(7), num_samples=17)),
                list(D.RandomSampler(range(5), replacement=True, num_samples=70)),
                list(D.RandomSampler(range(9), generator=g)),
                list(D.SubsetRandomSampler([10, 20, 30, 40])),
                list(D.WeightedRandomSampler([0.1, 0.9, 0.4, 3.0], 6)),
                list(D.WeightedRandomSampler([0.1, 0.9, 0.4, 3.0], 4, replacement=False)),
                list(D.BatchSampler(range(10), 3, drop_last=False)),
                list(D.BatchSampler(range(10), 3, drop_last=True)),
                len(D.BatchSampler(range(10), 3, False)), len(D.BatchSampler(range(10), 3, True)),
                list(D.SequentialSampler("abc")), len(D.RandomSampler(range(4), num_samples=9)),
                rng_states(lib))
    same_on_both(run)


def test_datasets_index_as_pytorchs():
    def run(lib):
        D = lib.utils.data
        a, b = numbers(lib, 3), numbers(lib, 4)
        cat = a + b
        sub = D.Subset(cat, [6, 0, 3])
        return (len(cat), cat[-1], cat[3], cat.cumulative_sizes, len(sub), sub[0], sub[[0, 2]],
                sub.__getitems__([1, 2]), a[1:3], len(D.ConcatDataset([range(2), "xyz"])))
    same_on_both(run)


@pytest.mark.parametrize("bad", [
    lambda lib: lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4)),
    lambda lib: lib.utils.data.ConcatDataset([]),
    lambda lib: lib.utils.data.ConcatDataset([range(3)])[-4],
    lambda lib: lib.utils.data.Dataset()[0],
    lambda lib: list(lib.utils.data.Sampler()),
    lambda lib: type("S", (lib.utils.data.Subset,), {"__getitem__": lambda s, i: i})(range(3),
                                                                                      [0]),
    lambda lib: lib.utils.data.random_split(range(10), [3, 6]),
    lambda lib: lib.utils.data.random_split(range(10), [1.5, -0.5]),
    lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.utils.data.RandomSampler([]),
    lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), True, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2, drop_last=None),
    lambda lib: lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 0),
])
def test_dataset_and_sampler_errors_are_pytorchs(bad):
    assert same_on_both(bad)[0] == "error"


class _Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter(range(3))


class _NgStream(ng.utils.data.IterableDataset):
    def __iter__(self):
        return iter(range(3))


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1),
    dict(timeout=-1),
    dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1),
    dict(persistent_workers=True),
    dict(shuffle=True, sampler=[0, 1]),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(multiprocessing_context="spawn"),
    dict(num_workers=1, multiprocessing_context="nope"),
    dict(num_workers=1, multiprocessing_context=3),
    dict(stream=True, shuffle=True),
    dict(stream=True, sampler=[0]),
    dict(stream=True, batch_sampler=[[0]]),
    dict(batch_size=0),
])
def test_dataloader_argument_errors_are_pytorchs(kwargs):
    def make(lib):
        kw = dict(kwargs)
        dataset = (_NgStream() if lib is ng else _Stream()) if kw.pop("stream", False) else \
            numbers(lib, 4)
        return lib.utils.data.DataLoader(dataset, **kw)
    assert same_on_both(make)[0] == "error"


def test_dataloader_attributes_are_frozen_and_timeout_needs_workers():
    def run(lib):
        loader = lib.utils.data.DataLoader(numbers(lib, 4), batch_size=2)
        return outcome(lambda: setattr(loader, "batch_size", 3)), \
            outcome(lambda: iter(lib.utils.data.DataLoader(numbers(lib, 4), timeout=5))), \
            (loader.batch_size, loader.drop_last, loader.prefetch_factor, loader.num_workers,
             type(loader.sampler).__name__, type(loader.batch_sampler).__name__,
             loader.collate_fn.__name__, len(loader))
    same_on_both(run)


def test_pin_memory_pins_nothing_and_warns_as_pytorchs_cpu_build():
    for lib in LIBS:
        loader = lib.utils.data.DataLoader(numbers(lib, 4), batch_size=3, pin_memory=True,
                                           pin_memory_device="cpu")
        with pytest.warns(UserWarning) as record:
            batches = epochs(loader, 1)
        assert [str(w.message) for w in record] == [
            "pin_memory_device is deprecated, the current accelerator will be used as the "
            "device,ignore pin_memory_device='cpu'.",
            "'pin_memory' argument is set as true but no accelerator is found, then device "
            "pinned memory won't be used."]
        assert batches == epochs(lib.utils.data.DataLoader(numbers(lib, 4), batch_size=3), 1)


def test_signature_is_pytorchs():
    import inspect

    for name in ("DataLoader", "RandomSampler", "BatchSampler", "random_split", "Subset",
                 "WeightedRandomSampler", "default_collate"):
        ours = inspect.signature(getattr(ng.utils.data, name))
        theirs = inspect.signature(getattr(torch.utils.data, name))
        assert [(p.name, p.kind) for p in ours.parameters.values()] == \
            [(p.name, p.kind) for p in theirs.parameters.values()], name
        assert [p.default for p in ours.parameters.values() if p.name != "generator"] == \
            [p.default for p in theirs.parameters.values() if p.name != "generator"], name
    assert inspect.signature(ng.utils.data.random_split).parameters["generator"].default is \
        ng.default_generator


def test_torch_utils_data_maps_to_this_package():
    from numpy2gpt.torch_hook import _stand_in

    assert _stand_in("torch.utils.data") is ng.utils.data
    assert _stand_in("torch.utils.data.dataloader").default_collate is \
        ng.utils.data.default_collate

    class Squares(ng.utils.data.Dataset[int]):  # subscripted, as typed PyTorch code writes it
        def __getitem__(self, i):
            return i * i

    assert ng.utils.data.DataLoader(Squares(), sampler=[3], batch_size=None).__iter__().__next__() \
        == 9
