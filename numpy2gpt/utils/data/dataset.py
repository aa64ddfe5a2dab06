"""Datasets: what a DataLoader reads from (PyTorch's torch.utils.data.dataset).

A map-style `Dataset` answers `dataset[i]` (and usually `len(dataset)`); an `IterableDataset` is a
stream, read with `iter(dataset)`. The rest build datasets from others: `TensorDataset` (rows of
tensors), `StackDataset`, `Subset`, `ConcatDataset`, `ChainDataset`, and `random_split`, which
draws its permutation from the generator exactly as PyTorch's does, so a seed gives PyTorch's
split.
"""

import bisect
import collections.abc
import itertools
import math
import warnings
from typing import Generic, TypeVar

from ...ops.creation import randperm
from ...random import default_generator

_T_co = TypeVar("_T_co", covariant=True)


class Dataset(Generic[_T_co]):
    """A map from keys (usually 0..len-1) to samples: subclasses define `__getitem__`, and
    usually `__len__` (samplers need it); `__getitems__(indices)` may fetch a batch at once."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])

    # No default __len__: `len()` of a dataset without one is Python's TypeError, and `list()`
    # of it can still fall back to iteration.


class IterableDataset(Dataset[_T_co], collections.abc.Iterable):
    """A stream of samples: subclasses define `__iter__`. With emulated workers
    (`num_workers > 0`), each worker reads its own copy; `get_worker_info()` tells which."""

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension: item i is
    `(t[i] for t in tensors)`."""

    def __init__(self, *tensors):
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Datasets of equal length side by side: item i is `(d[i] for d in args)`, or the dict
    `{name: d[i]}` when the datasets are given by keyword."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not (args or kwargs):
            raise ValueError("At least one dataset should be passed")
        datasets = args or list(kwargs.values())
        self._length = len(datasets[0])
        if any(self._length != len(dataset) for dataset in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args or kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices):
        """A batch at once: each dataset's items through its own `__getitems__` when it has one,
        then regrouped sample by sample."""
        named = isinstance(self.datasets, dict)
        columns = {}
        for k, dataset in (self.datasets.items() if named else enumerate(self.datasets)):
            if callable(getattr(dataset, "__getitems__", None)):
                items = dataset.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError("Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(items)}")
            else:
                items = [dataset[i] for i in indices]
            columns[k] = items
        if named:
            return [{k: items[j] for k, items in columns.items()} for j in range(len(indices))]
        return list(zip(*columns.values())) if columns else []

    def __len__(self):
        return self._length


class ConcatDataset(Dataset[_T_co]):
    """Datasets one after another: index i falls in the dataset whose cumulative size first
    exceeds it."""

    @staticmethod
    def cumsum(sequence):
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets):
        super().__init__()
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx - (self.cumulative_sizes[dataset_idx - 1] if dataset_idx else 0)
        return self.datasets[dataset_idx][sample_idx]


class ChainDataset(IterableDataset):
    """IterableDatasets one after another, chained as they are read."""

    def __init__(self, datasets):
        super().__init__()
        self.datasets = datasets

    def _each(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield d

    def __iter__(self):
        for d in self._each():
            yield from d

    def __len__(self):
        return sum(len(d) for d in self._each())


class Subset(Dataset[_T_co]):
    """The samples of `dataset` at `indices`, in that order: item i is `dataset[indices[i]]`."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        # the DataLoader fetches through __getitems__, which would bypass a new __getitem__
        if (type(self).__getitem__ is not Subset.__getitem__
                and type(self).__getitems__ is Subset.__getitems__):
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. "
                "When subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom logic. "
                "A simple implementation:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """A batch at once, through the dataset's own `__getitems__` when it has one."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=default_generator):
    """Split `dataset` at random into Subsets of `lengths` (sizes, or fractions that sum to 1:
    floor(fraction * len) each, the remainder handed out one by one from the first). The
    indices are one `randperm(len(dataset), generator=generator)`, cut in order."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(len(dataset) * frac))
        for i in range(len(dataset) - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.", stacklevel=2)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
