"""Samplers: the order in which a DataLoader reads a map-style dataset (PyTorch's
torch.utils.data.sampler), drawing from the generator exactly as PyTorch's samplers do.

`RandomSampler` without a generator of its own seeds a fresh `Generator` from one draw of the
global one each time it is iterated (that is PyTorch's `torch.empty((), dtype=torch.int64)
.random_()`: a 64-bit draw modulo 2**63), then shuffles with `randperm` (or draws `randint`s 32 at
a time, with replacement). So after `manual_seed(s)` the epochs come in PyTorch's order, and the
global generator moves on exactly as PyTorch's does.
"""

import itertools
from typing import Generic, TypeVar

from ... import dtypes
from ...ops.creation import randint, randperm
from ...ops.special import multinomial
from ...random import Generator, resolve
from ...tensor import as_tensor

_T_co = TypeVar("_T_co", covariant=True)


def draw_seed(generator=None):
    """A seed drawn from `generator` (default: the generator in use) as PyTorch draws one:
    `torch.empty((), dtype=torch.int64).random_(generator=generator).item()`, an int in
    [0, 2**63) from two 32-bit draws."""
    return int(resolve(generator).randint(0, 1 << 63, ()))


class Sampler(Generic[_T_co]):
    """Base class of samplers: `__iter__` yields indices (or lists of indices, for batch
    samplers); `__len__` is optional (the DataLoader's `len()` needs it)."""

    def __iter__(self):
        raise NotImplementedError

    # No default __len__: see Dataset.


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: whole permutations of the dataset (the last one cut short) for
    `num_samples` (default len(data_source)) indices, or independent uniform draws when
    `replacement=True`."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is None:
            generator = Generator().manual_seed(draw_seed())
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from randint(high=n, size=(32,), generator=generator).tolist()
            yield from randint(high=n, size=(self.num_samples % 32,),
                               generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=generator).tolist()
            yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a random order (one `randperm` per epoch)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """`num_samples` indices of range(len(weights)), index i with probability proportional to
    weights[i] (one `multinomial` per epoch, in float64)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = as_tensor(weights, dtype=dtypes.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        yield from multinomial(self.weights, self.num_samples, self.replacement,
                               generator=self.generator).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of `sampler` into lists of `batch_size`; the last, shorter one is
    dropped when `drop_last`."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        if self.drop_last:
            yield from map(list, zip(*[indices] * self.batch_size))  # whole batches only
        else:
            while batch := list(itertools.islice(indices, self.batch_size)):
                yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
