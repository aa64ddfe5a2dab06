"""How `mpiexec -n N numpy2gpt train` shares out a batch (numpy2gpt/gpt/ranks.py), no MPI needed."""

import pytest

from numpy2gpt.gpt.config import ConfigError, TrainConfig
from numpy2gpt.gpt.ranks import Ranks, check_split, launched


@pytest.mark.parametrize("batch, steps, size", [
    (12, 1, 2), (12, 1, 3), (4, 3, 2), (3, 4, 6), (6, 2, 4), (5, 2, 5), (2, 3, 3), (7, 1, 1),
])
def test_the_ranks_shares_are_the_global_batch_in_order(batch, steps, size):
    """Each rank gets batch * steps / size sequences, contiguous in the order one process
    draws them (micro-batch by micro-batch), and together they are every sequence once."""
    taken = []
    for rank in range(size):
        pieces = Ranks(rank, size).pieces(batch, steps)
        rows = [m * batch + row for m, lo, hi in pieces for row in range(lo, hi)]
        assert all(0 <= lo < hi <= batch for _, lo, hi in pieces)
        assert len(rows) == batch * steps // size
        taken += rows
    assert taken == list(range(batch * steps))


@pytest.mark.parametrize("n, size", [(12, 2), (3, 2), (2, 3), (20, 3)])
def test_evaluation_rows_split_as_evenly_as_they_can(n, size):
    shares = [Ranks(r, size).rows(n) for r in range(size)]
    assert [lo for lo, _ in shares] == [0] + [hi for _, hi in shares[:-1]]
    assert shares[-1][1] == n
    assert max(hi - lo for lo, hi in shares) - min(hi - lo for lo, hi in shares) <= 1


def test_a_split_that_cannot_be_even_is_refused():
    check_split(TrainConfig(batch_size=12, gradient_accumulation_steps=1), 4)
    check_split(TrainConfig(batch_size=5), 1)  # one process: anything goes
    with pytest.raises(ConfigError, match=r"5 x 2 = 10 sequences, cannot be split evenly over "
                                          r"mpiexec -n 3 processes"):
        check_split(TrainConfig(batch_size=5, gradient_accumulation_steps=2), 3)


@pytest.mark.parametrize("env, expected", [
    ({}, (0, 1)),
    ({"PMI_RANK": "1", "PMI_SIZE": "4"}, (1, 4)),  # MPICH's Hydra
    ({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "3"}, (2, 3)),  # Open MPI
])
def test_launched_reads_the_launchers_environment(monkeypatch, env, expected):
    for var in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                "MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert launched() == expected


def test_one_process_sums_nothing():
    assert list(Ranks().sum([1.5, 2.0])) == [1.5, 2.0]
    assert Ranks().any(True) and not Ranks().any(False)
