"""DistributedSampler and StackDataset against torch.utils.data: the same indices for every rank,
epoch and option; the same samples and batches; PyTorch's errors."""

import itertools

import pytest
import torch
from test_dataloader import plain
from torch_compare import same_error

import numpy2gpt as ng


@pytest.mark.parametrize("n", [0, 1, 5, 10, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
def test_distributed_sampler_gives_each_rank_torchs_indices(n, replicas):
    """Every rank's share, shuffled or not, padded or cut (drop_last), in two epochs: the
    permutation comes from a generator seeded with seed + epoch, as in PyTorch."""
    for rank, shuffle, drop_last, epoch in itertools.product(range(replicas), (True, False),
                                                             (True, False), (0, 3)):
        ours, theirs = (lib.utils.data.DistributedSampler(
            list(range(n)), replicas, rank, shuffle=shuffle, seed=7, drop_last=drop_last)
            for lib in (ng, torch))
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_ranks_cover_the_dataset_and_epochs_differ():
    shares = [list(ng.utils.data.DistributedSampler(range(10), 3, r, seed=1)) for r in range(3)]
    assert set(sum(shares, [])) == set(range(10))  # all of it, 10 padded to 12 by two repeats
    assert [len(share) for share in shares] == [4, 4, 4]
    s = ng.utils.data.DistributedSampler(range(10), 2, 0)
    first = list(s)
    assert list(s) == first  # no set_epoch: the same order again
    s.set_epoch(1)
    assert list(s) != first


def test_distributed_sampler_in_a_dataloader_and_its_errors():
    data = [(ng, ng.utils.data.TensorDataset(ng.arange(9.0))),
            (torch, torch.utils.data.TensorDataset(torch.arange(9.0)))]
    batches = [plain(list(lib.utils.data.DataLoader(
        ds, batch_size=2, sampler=lib.utils.data.DistributedSampler(ds, 2, 1, seed=3))))
        for lib, ds in data]
    assert batches[0] == batches[1]
    same_error(lambda lib: lib.utils.data.DistributedSampler([1, 2], 2, 2))
    same_error(lambda lib: lib.utils.data.DistributedSampler([1, 2], 2, -1))
    same_error(lambda lib: lib.utils.data.DistributedSampler([1, 2]))  # no process group


def _stacks(lib):
    a, b = lib.arange(6.0), lib.arange(6) * 10
    return (lib.utils.data.StackDataset(lib.utils.data.TensorDataset(a), b),
            lib.utils.data.StackDataset(x=lib.utils.data.TensorDataset(a), y=b))


def test_stack_dataset_items_and_batches_like_torch():
    for k in range(2):
        ours, theirs = _stacks(ng)[k], _stacks(torch)[k]
        assert len(ours) == len(theirs) == 6
        assert plain(ours[4]) == plain(theirs[4])
        assert plain(ours.__getitems__([5, 0, 2])) == plain(theirs.__getitems__([5, 0, 2]))
        assert plain(list(ng.utils.data.DataLoader(ours, batch_size=4))) == \
            plain(list(torch.utils.data.DataLoader(theirs, batch_size=4)))


class _Short(torch.utils.data.Dataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        return i

    def __getitems__(self, indices):
        return indices[:-1]  # one too few


class _ShortNg(ng.utils.data.Dataset):
    __len__, __getitem__, __getitems__ = _Short.__len__, _Short.__getitem__, _Short.__getitems__


def test_stack_dataset_errors_like_torch():
    same_error(lambda lib: lib.utils.data.StackDataset())
    same_error(lambda lib: lib.utils.data.StackDataset([1, 2], x=[1, 2]))
    same_error(lambda lib: lib.utils.data.StackDataset([1, 2], [1, 2, 3]))
    same_error(lambda lib: lib.utils.data.StackDataset(x=[1, 2], y=[1]))
    same_error(lambda lib: lib.utils.data.StackDataset(
        [0, 1, 2], _ShortNg() if lib is ng else _Short()).__getitems__([0, 1]))
    same_error(lambda lib: lib.utils.data.StackDataset(
        x=_ShortNg() if lib is ng else _Short()).__getitems__([0, 1]))
