"""DataLoader: batches from a dataset, in PyTorch's order and with PyTorch's random numbers.

One epoch (`iter(loader)`) goes as in PyTorch (torch/utils/data/dataloader.py):
  1. the iterator draws a `base_seed` from `loader.generator` (default: the global generator),
     even without workers: so a shuffled epoch moves the global generator by two seeds, this one
     and RandomSampler's;
  2. the index sampler (a BatchSampler around the sampler, by default) gives lists of indices;
  3. the samples at those indices are fetched (`dataset.__getitems__` if it has one) and put
     together by `collate_fn` (`default_collate`).
An IterableDataset has no indices: its samples are read in turn, `batch_size` at a time.

numpy2gpt starts no worker processes. With `num_workers > 0` the workers are emulated in this
process, one after the other, as PyTorch's behave: worker i has its own shallow copy of the
dataset, its own random state (the global numpy2gpt generator, Python's `random` and NumPy's
global generator, seeded as PyTorch seeds them from `base_seed + i`), runs `worker_init_fn(i)`,
and sees `get_worker_info()`; batch k is fetched by worker k % num_workers (an IterableDataset is
read by every worker's copy, round robin, as in PyTorch). So the batches, and the random numbers a
dataset draws, are PyTorch's.
"""

import collections
import contextlib
import copy
import itertools
import math
import multiprocessing
import random
import warnings
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from ... import random as ng_random
from ...random import Generator
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, draw_seed

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

_T_co = TypeVar("_T_co", covariant=True)


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        fetcher = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
        return fetcher(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """None, None, ...: the sampler of an IterableDataset, which has no indices."""

    def __iter__(self):
        while True:
            yield None


# ----- fetchers: indices -> one collated batch ----------------------------------------------------
class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation = dataset, auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last

    def fetch(self, possibly_batched_index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if getattr(self.dataset, "__getitems__", None):
            data = self.dataset.__getitems__(possibly_batched_index)
        else:
            data = [self.dataset[idx] for idx in possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher(_MapDatasetFetcher):
    """Reads the next `len(batch)` samples of the stream; StopIteration once it has ended (a
    short last batch is kept unless drop_last)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = list(itertools.islice(self.dataset_iter, len(possibly_batched_index)))
        if len(data) < len(possibly_batched_index):
            self.ended = True
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)


# ----- emulated workers ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: its id, the number of workers, its seed
    and its copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: Dataset
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The WorkerInfo of the worker running now, or None in the main process."""
    return _worker_info


def _generate_state(base_seed, worker_id):
    """The four 32-bit words PyTorch's workers seed NumPy's global generator with (a hash of
    base_seed and worker_id, like NumPy's SeedSequence, so `random` and NumPy differ)."""
    mask = 0xFFFFFFFF
    hash_const = 0x43B0D7E5

    def hash32(value):
        nonlocal hash_const
        value = (value ^ hash_const) & mask
        hash_const = (hash_const * 0x931E8875) & mask
        value = (value * hash_const) & mask
        return value ^ (value >> 16)

    def mix(x, y):
        result = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return result ^ (result >> 16)

    pool = [hash32(v) for v in (worker_id, base_seed & mask, base_seed >> 32, 0)]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash32(pool[i_src]))
    hash_const, state = 0x8B51F9DD, []
    for value in pool:
        value ^= hash_const
        hash_const = (hash_const * 0x58F38DED) & mask
        value = (value * hash_const) & mask
        state.append(value ^ (value >> 16))
    return state


class _Worker:
    """One worker process of PyTorch's, run in this process: a copy of the dataset, its own
    random states (swapped in while it runs), its fetcher, and whether its stream has ended."""

    def __init__(self, loader, worker_id, base_seed):
        seed = base_seed + worker_id
        self.id, self.alive = worker_id, True
        self.dataset = copy.copy(loader.dataset)  # worker_init_fn may reconfigure its copy
        self.info = WorkerInfo(id=worker_id, num_workers=loader.num_workers, seed=seed,
                               dataset=self.dataset)
        self.rng = Generator().manual_seed(seed)  # PyTorch's worker: torch.manual_seed(seed),
        self.py_state = random.Random(seed).getstate()  # random.seed(seed), np.random.seed(...)
        self.np_state = np.random.RandomState(_generate_state(base_seed, worker_id)).get_state()
        self._loader = loader
        with self.running():
            if loader.worker_init_fn is not None:
                loader.worker_init_fn(worker_id)
            self._new_fetcher()

    def _new_fetcher(self):
        loader = self._loader
        self.alive = True
        self.fetcher = _DatasetKind.create_fetcher(
            loader._dataset_kind, self.dataset, loader._auto_collation, loader.collate_fn,
            loader.drop_last)

    def resume(self):
        """A new epoch (persistent workers): a new fetcher, so a new pass over the stream."""
        with self.running():
            self._new_fetcher()

    @contextlib.contextmanager
    def running(self):
        """While inside: get_worker_info() is this worker's, and the global generators (numpy2gpt,
        `random`, NumPy) hold its states; the main process's come back after."""
        global _worker_info
        main = ng_random.default_generator.get_state(), random.getstate(), np.random.get_state()
        ng_random.default_generator.set_state(self.rng.get_state())
        random.setstate(self.py_state)
        np.random.set_state(self.np_state)
        _worker_info = self.info
        try:
            yield self
        finally:
            _worker_info = None
            self.rng.set_state(ng_random.default_generator.get_state())
            self.py_state, self.np_state = random.getstate(), np.random.get_state()
            ng_random.default_generator.set_state(main[0])
            random.setstate(main[1])
            np.random.set_state(main[2])

    def fetch(self, index):
        with self.running():
            return self.fetcher.fetch(index)


_said_no_workers = False


def _say_no_workers(num_workers):
    global _said_no_workers
    if not _said_no_workers:
        _said_no_workers = True
        warnings.warn(f"numpy2gpt's DataLoader starts no worker processes: its num_workers="
                      f"{num_workers} workers are emulated one after the other in the main "
                      "process (same batches and random numbers as PyTorch's, no parallelism)",
                      UserWarning, stacklevel=3)


# ----- the DataLoader -----------------------------------------------------------------------------
class DataLoader(Generic[_T_co]):
    """Iterate over `dataset` in batches: PyTorch's DataLoader, with its arguments and checks.

    batch_size=None turns batching off (samples come one by one, through `default_convert`);
    `shuffle` uses a RandomSampler (with `generator`); `sampler` / `batch_sampler` replace the
    default ones. `num_workers > 0` emulates the workers in this process (see the module's
    docstring); `pin_memory` pins nothing (there is no accelerator), and says so as PyTorch's
    CPU build does; `timeout`, `prefetch_factor` and `multiprocessing_context` are checked as
    PyTorch checks them, and `in_order=False` still gives the batches in order.
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None  # len(self), when asked of an IterableDataset
        self._iterator = None
        if num_workers > 0:
            _say_no_workers(num_workers)

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _EmulatedWorkersDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context):
        """Checked as PyTorch checks it, though no process is started with it."""
        if multiprocessing_context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(multiprocessing_context, str):
                valid_start_methods = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in valid_start_methods:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {valid_start_methods!r}, but got "
                                     f"multiprocessing_context={multiprocessing_context!r}")
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object "
                                "or a string specifying the start method, but got "
                                f"multiprocessing_context={multiprocessing_context}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                           "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self):
        """A new epoch's iterator; persistent workers keep one iterator (and their states)."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What gives the indices of each fetch: the batch sampler when batching, else the
        sampler."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        """The number of batches: the index sampler's length; for an IterableDataset, its
        len() over batch_size (PyTorch's estimate: right unless the workers duplicate data)."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used "
                          f"as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                          stacklevel=5)
        if loader.pin_memory:  # PyTorch's CPU build: no accelerator, so nothing is pinned
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=5)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = draw_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data."
                        "IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", self.__class__.__name__)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


class _EmulatedWorkersDataLoaderIter(_BaseDataLoaderIter):
    """PyTorch's multiprocessing iterator, with the workers run in turn in this process.

    PyTorch hands `prefetch_factor * num_workers` index lists out at the start (so the sampler
    draws its seed when the epoch starts), one more per batch returned, each to the next worker
    still running, and returns the batches in the order handed out. A worker whose stream has
    ended gets no more, and the lists it still holds give nothing.
    """

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch = loader.prefetch_factor * self._num_workers
        self._workers = [_Worker(loader, i, self._base_seed) for i in range(self._num_workers)]
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        if not first_iter:
            for worker in self._workers:
                worker.resume()
        self._tasks = collections.deque()  # (worker, index list), in the order handed out
        self._next_worker = itertools.cycle(self._workers)
        for _ in range(self._prefetch):
            self._put_index()

    def _put_index(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker = next(self._next_worker)
            if worker.alive:
                self._tasks.append((worker, index))
                return

    def _next_data(self):
        while self._tasks:
            worker, index = self._tasks.popleft()
            if not worker.alive:
                continue
            try:
                data = worker.fetch(index)
            except StopIteration:  # only an IterableDataset's stream ends this way
                worker.alive = False
                self._put_index()
                continue
            self._put_index()
            return data
        raise StopIteration
