"""A wrong argument to a Tensor method gets PyTorch's message, which counts positions from the
argument after self (`x.index_add(0, [0], x)`: 'index' is position 2), while the function form
counts from input (`torch.index_add(x, 0, [0], x)`: position 3)."""

import pytest
from torch_compare import same_error

CALLS = [
    lambda lib, x: x.masked_select([1]),
    lambda lib, x: x.take([0]),
    lambda lib, x: x.index_add(0, [0], x),
    lambda lib, x: x.index_copy(0, lib.tensor([0]), 3),
    lambda lib, x: x.maximum(1.0),
    lambda lib, x: x.atan2(1.0),
    lambda lib, x: x.hypot(1.0),
    lambda lib, x: x.kthvalue(1.5),
    lambda lib, x: x.select("a", 0),
    lambda lib, x: lib.index_add(x, 0, [0], x),  # the function forms keep counting from input
    lambda lib, x: lib.take(x, [0]),
    lambda lib, x: lib.maximum(x, 1.0),
    lambda lib, x: lib.select(x, "a", 0),
]


@pytest.mark.parametrize("call", CALLS, ids=range(len(CALLS)))
def test_wrong_argument_messages_count_positions_as_pytorch(call):
    same_error(lambda lib: call(lib, lib.zeros(3)))
