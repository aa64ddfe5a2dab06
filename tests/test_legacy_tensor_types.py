"""torch.FloatTensor, torch.LongTensor, ...: PyTorch's old per-dtype constructors, as tutorials
still use them (`torch.LongTensor([[i] for i in ids])`, `isinstance(t, torch.FloatTensor)`)."""

import pytest
import torch

import numpy2gpt as ng

NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", NAMES)
def test_constructors_make_torchs_tensors(name):
    for make in (lambda lib: getattr(lib, name)([[1, 0], [1, 1]]),
                 lambda lib: getattr(lib, name)([lib.tensor(1), lib.tensor(0)]),
                 lambda lib: getattr(lib, name)(2, 3).shape,
                 lambda lib: getattr(lib, name)().shape):
        ours, theirs = make(ng), make(torch)
        if isinstance(theirs, torch.Tensor):
            assert ours.tolist() == theirs.tolist()
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
            assert isinstance(ours, getattr(ng, name)) and not ours.requires_grad
        else:
            assert tuple(ours) == tuple(theirs)


def test_isinstance_type_and_errors_as_in_torch():
    for lib in (ng, torch):
        assert isinstance(lib.ones(2), lib.FloatTensor)
        assert not isinstance(lib.ones(2, dtype=lib.float64), lib.FloatTensor)
        assert not isinstance([1.0], lib.FloatTensor)
        assert lib.LongTensor([1.7]).tolist() == [1]
        assert lib.ones(2).type(lib.LongTensor).dtype == lib.int64
        with pytest.raises(TypeError, match="expected"):
            lib.LongTensor(lib.tensor([1.5]))
        with pytest.raises(TypeError, match=r"^new\(\): data must be a sequence \(got float\)$"):
            lib.IntTensor(2.5)
    assert ng.LongTensor.dtype == ng.int64 and ng.FloatTensor.__name__ == "FloatTensor"
