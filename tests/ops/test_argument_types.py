"""An argument of the wrong type (a str or float for an int, dim or size, a list for a Tensor, a
non-integer index tensor) gets PyTorch's TypeError and message, never a Python or NumPy error
from deep inside the op. Method forms count positions from the argument after self."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng

# How much of PyTorch's error numpy2gpt reproduces: the whole message; its first line (PyTorch
# lists its overloads after "received an invalid combination of arguments"); or the type only
# (where PyTorch's message lists overloads, numpy2gpt's names the argument).
EXACT, FIRST_LINE, TYPE_ONLY = "exact", "first line", "type"

# Each case: (call(lib, x) with x a 2x3 float tensor of lib, how much matches)
SHAPE_AND_DIMS = [
    (lambda lib, x: x.reshape("a"), EXACT),
    (lambda lib, x: x.reshape(1.5), EXACT),
    (lambda lib, x: x.reshape(None), EXACT),
    (lambda lib, x: lib.reshape(x, "a"), EXACT),
    (lambda lib, x: lib.reshape(x, (1.5,)), EXACT),
    (lambda lib, x: x.reshape((2, "a")), EXACT),
    (lambda lib, x: x.reshape(2, 3, 1.5), EXACT),
    (lambda lib, x: x.reshape(1.5, 2), EXACT),
    (lambda lib, x: x.reshape(lib.tensor([2, 3])), EXACT),
    (lambda lib, x: x.transpose(lib.tensor(0.5), 1), EXACT),
    (lambda lib, x: x.reshape((True, 6)), EXACT),
    (lambda lib, x: x.view("a"), FIRST_LINE),
    (lambda lib, x: x.view(None), FIRST_LINE),
    (lambda lib, x: x.view(1.5, 2), EXACT),
    (lambda lib, x: x.view(2, 1.5), EXACT),
    (lambda lib, x: x.view([2, "a"]), EXACT),
    (lambda lib, x: x.permute("a"), EXACT),
    (lambda lib, x: lib.permute(x, "a"), EXACT),
    (lambda lib, x: x.permute(0, 1.5), EXACT),
    (lambda lib, x: x.permute((0, 1.5)), EXACT),
    (lambda lib, x: x.transpose("a", 1), EXACT),
    (lambda lib, x: x.transpose(1.5, 1), EXACT),
    (lambda lib, x: x.transpose(True, 0), EXACT),
    (lambda lib, x: x.transpose(None, 1), EXACT),
    (lambda lib, x: lib.transpose(x, 0, "a"), EXACT),
    (lambda lib, x: x.swapdims(0, 1.5), EXACT),
    (lambda lib, x: x.flatten("a"), EXACT),
    (lambda lib, x: x.flatten(0, 1.5), EXACT),
    (lambda lib, x: x.unsqueeze(1.5), EXACT),
    (lambda lib, x: lib.unsqueeze(x, "a"), EXACT),
    (lambda lib, x: x.squeeze((0, 1.5)), EXACT),
    (lambda lib, x: x.expand("a"), EXACT),
    (lambda lib, x: x.expand(2, 1.5), EXACT),
    (lambda lib, x: x.expand(1.5, 2), EXACT),
    (lambda lib, x: lib.broadcast_to(x, "a"), EXACT),
    (lambda lib, x: x.repeat("a"), EXACT),
    (lambda lib, x: x.repeat(1, 1.5), EXACT),
    (lambda lib, x: lib.tile(x, 1.5), EXACT),
    (lambda lib, x: x.tile((1, 1.5)), EXACT),
    (lambda lib, x: x.split("a"), EXACT),
    (lambda lib, x: lib.split(x, "a"), EXACT),
    (lambda lib, x: x.split([1, 1.5], 1), EXACT),
    (lambda lib, x: x.split((1.5, 1)), EXACT),
    (lambda lib, x: x.chunk("a"), EXACT),
    (lambda lib, x: x.chunk(1.5), EXACT),
    (lambda lib, x: x.chunk(2, 1.5), EXACT),
    (lambda lib, x: x.unbind("a"), EXACT),
    (lambda lib, x: x.unbind(1.5), EXACT),
    (lambda lib, x: lib.cat([x, x], 1.5), EXACT),
    (lambda lib, x: lib.stack([x, x], "a"), EXACT),
    (lambda lib, x: x.narrow("a", 0, 1), FIRST_LINE),
    (lambda lib, x: x.narrow(1.5, 0, 1), FIRST_LINE),
    (lambda lib, x: x.narrow(0, 0, 1.5), FIRST_LINE),
    (lambda lib, x: x.flip("a"), EXACT),
    (lambda lib, x: x.flip(0, 1.5), EXACT),
    (lambda lib, x: lib.flip(x, 1.5), EXACT),
    (lambda lib, x: x.roll("a"), EXACT),
    (lambda lib, x: x.roll(1, 1.5), EXACT),
    (lambda lib, x: lib.roll(x, ("a",)), EXACT),
    (lambda lib, x: x.rot90(1, (0, 1.5)), EXACT),
    (lambda lib, x: x.diagonal(0, 1.5), EXACT),
    (lambda lib, x: x.sum_to_size("a"), EXACT),
    (lambda lib, x: x.tensor_split([1, 1.5]), EXACT),
    (lambda lib, x: x.size(1.5), EXACT),
    (lambda lib, x: x.stride("a"), EXACT),
    (lambda lib, x: x.tril(1.5), EXACT),
    (lambda lib, x: lib.triu(x, "a"), EXACT),
]
REDUCTION_DIMS = [
    (lambda lib, x: x.sum((0, 1.5)), EXACT),
    (lambda lib, x: x.sum([0, "a"]), EXACT),
    (lambda lib, x: x.amax(1.5), EXACT),
    (lambda lib, x: x.amin("a"), EXACT),
    (lambda lib, x: x.nansum("a"), EXACT),
    (lambda lib, x: x.logsumexp(1.5), EXACT),
    (lambda lib, x: lib.logsumexp(x, "a"), EXACT),
    (lambda lib, x: x.argmax("a"), EXACT),
    (lambda lib, x: x.argmin(1.5), EXACT),
    (lambda lib, x: x.mode(1.5), EXACT),
    (lambda lib, x: x.unique(dim=1.5), EXACT),
]
INDEX_TAKING = [
    (lambda lib, x: lib.gather(x, 1, [[0]]), EXACT),
    (lambda lib, x: x.gather(1, [[0]]), EXACT),
    (lambda lib, x: x.gather(1.5, lib.zeros(2, 3, dtype=lib.int64)), EXACT),
    (lambda lib, x: x.gather(1, lib.zeros(2, 3)), EXACT),
    (lambda lib, x: x.index_select(0, [0]), EXACT),
    (lambda lib, x: lib.index_select(x, 0, [0]), EXACT),
    (lambda lib, x: x.index_select(1.5, lib.tensor([0])), EXACT),
    (lambda lib, x: x.index_select(0, lib.tensor([0.0])), EXACT),
    (lambda lib, x: x.scatter(0, [[0]], x), TYPE_ONLY),
    (lambda lib, x: x.scatter_add(0, [[0]], x), EXACT),
    (lambda lib, x: lib.scatter_add(x, 0, lib.zeros(2, 3, dtype=lib.int64), [1.0]), EXACT),
    (lambda lib, x: x.scatter_add(1.5, lib.zeros(2, 3, dtype=lib.int64), x), EXACT),
    (lambda lib, x: x.index_add(0, [0], x), EXACT),
    (lambda lib, x: x.index_add(1.5, lib.tensor([0]), x[:1]), EXACT),
    (lambda lib, x: x.index_copy(0, [0], x[:1]), EXACT),
    (lambda lib, x: x.index_fill(0, [0], 1.0), TYPE_ONLY),
    (lambda lib, x: lib.take_along_dim(x, [[0]]), EXACT),
    (lambda lib, x: x.take_along_dim(lib.zeros(2, 3, dtype=lib.int64), 1.5), EXACT),
    (lambda lib, x: x.take([0]), EXACT),
    (lambda lib, x: x.take(lib.tensor([0.0])), EXACT),
    (lambda lib, x: x.put([0], lib.tensor([1.0])), EXACT),
    (lambda lib, x: lib.index_put(x, [0], lib.tensor(1.0)), EXACT),
]
TENSOR_ARGUMENTS = [
    (lambda lib, x: x.expand_as([1]), EXACT),
    (lambda lib, x: x.view_as("a"), EXACT),
    (lambda lib, x: x.reshape_as([1]), EXACT),
    (lambda lib, x: x.type_as([1]), EXACT),
    (lambda lib, x: x.is_same_size([1]), EXACT),
    (lambda lib, x: lib.equal(x, [1]), EXACT),
    (lambda lib, x: x.matmul([1.0]), EXACT),
    (lambda lib, x: lib.mm(x, "a"), EXACT),
]
CALLS = SHAPE_AND_DIMS + REDUCTION_DIMS + INDEX_TAKING + TENSOR_ARGUMENTS


@pytest.mark.parametrize("call,match", CALLS, ids=range(len(CALLS)))
def test_wrong_argument_type_raises_pytorchs_type_error(call, match):
    raised = []
    for lib in (ng, torch):
        with pytest.raises(Exception) as e:
            call(lib, lib.randn(2, 3))
        raised.append(e.value)
    ours, theirs = raised
    assert type(ours) is type(theirs), (ours, theirs)
    if match == EXACT:
        assert str(ours) == str(theirs)
    elif match == FIRST_LINE:
        assert str(ours).splitlines()[0] == str(theirs).splitlines()[0]


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(6).reshape(2, lib.tensor(3)),  # a 0-d integer tensor is an int
    lambda lib: lib.arange(6).reshape(2, 3).transpose(lib.tensor(0), 1),
    lambda lib: lib.arange(6).reshape(6, True),  # after the first size, a bool counts as 1
    lambda lib: lib.arange(6).reshape(2, 3).sum(lib.tensor(1)),
    lambda lib: lib.arange(6).reshape(2, 3).narrow(1, lib.tensor(1), 2),
    lambda lib: lib.arange(6).reshape(np.int64(3), 2).unsqueeze(np.int32(1)),
])
def test_integer_like_arguments_still_work(call):
    ours, theirs = call(ng), call(torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
