"""DistributedSampler: each process of a data-parallel run reads its own share of a dataset
(PyTorch's torch.utils.data.distributed), in PyTorch's order for the same seed and epoch."""

import math

from ...ops.creation import randperm
from ...random import Generator
from .sampler import Sampler


class DistributedSampler(Sampler):
    """The indices of `dataset` that rank `rank` of `num_replicas` processes reads: every
    num_replicas-th index of one common order, starting at `rank`.

    The common order is a permutation drawn from a generator seeded with `seed + epoch` (call
    `set_epoch(epoch)` before each epoch, or every epoch repeats it), or 0..len-1 without shuffle.
    So that every rank gets as many indices, the order is padded by repeating its start, or with
    `drop_last=True` cut to a multiple of num_replicas. `num_replicas` and `rank` default to the
    process group's (`numpy2gpt.distributed`, over MPI)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:  # repeat the start of the order (as often as needed) up to total_size
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / max(len(indices), 1)))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Shuffle differently in the next epoch (the same on every rank)."""
        self.epoch = epoch
