"""Regressions found by a differential fuzzer, against PyTorch: a view op that changes nothing
still returns a new view (never its input), writes through an expanded (stride-0) tensor reach
its memory (or are refused where PyTorch refuses them), and an int next to a tensor index is
applied first, as a basic index (PyTorch's placement of the indexed dims, not NumPy's)."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import both, check_against_torch, rand, same_error

import numpy2gpt as ng

# ----- no-op view ops: a new view, never the input itself -----------------------------------------
NO_OP_VIEWS = {
    "reshape": lambda t: t.reshape(2, 3), "reshape_as": lambda t: t.reshape_as(t),
    "view": lambda t: t.view(2, 3), "squeeze": lambda t: t.squeeze(),
    "squeeze_dim": lambda t: t.squeeze(0), "squeeze_dims": lambda t: t.squeeze((0, 1)),
    "permute": lambda t: t.permute(0, 1), "transpose": lambda t: t.transpose(1, 1),
    "swapaxes": lambda t: t.swapaxes(0, 0), "swapdims": lambda t: t.swapdims(-1, 1),
    "expand": lambda t: t.expand(2, 3), "expand_-1": lambda t: t.expand(-1, -1),
    "expand_as": lambda t: t.expand_as(t), "broadcast_to": lambda t: t.broadcast_to((2, 3)),
    "movedim": lambda t: t.movedim(0, 0), "moveaxis": lambda t: t.moveaxis(1, 1),
    "unflatten": lambda t: t.unflatten(1, (3,)),
}
VECTOR_VIEWS = {"T": lambda t: t.T, "t": lambda t: t.t(), "ravel": lambda t: t.ravel()}
SCALAR_VIEWS = {"squeeze": lambda t: t.squeeze(), "transpose": lambda t: t.transpose(0, -1),
                "t": lambda t: t.t(), "T": lambda t: t.T}


def _new_view(op, shape):
    """(is input, is leaf, has grad_fn, input's shape after v.unsqueeze_(0), input after a
    write into v) for v = op(x), x a non-leaf that requires grad."""
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns about .T of a non-matrix
            x = lib.ones(shape, dtype=lib.float64, requires_grad=True) * 1
            v = op(x)
            facts = (v is x, v.is_leaf, v.grad_fn is not None)
            with lib.no_grad():
                v.unsqueeze_(0)
                v.mul_(3)
        return facts + (tuple(x.shape), x.tolist())
    return run


@pytest.mark.parametrize("op", NO_OP_VIEWS.values(), ids=NO_OP_VIEWS.keys())
def test_no_op_view_is_a_new_view(op):
    ours, theirs = both(_new_view(op, (2, 3)))
    assert ours == theirs
    assert ours[:3] == (False, False, True)


@pytest.mark.parametrize("op", VECTOR_VIEWS.values(), ids=VECTOR_VIEWS.keys())
def test_no_op_view_of_a_vector_is_a_new_view(op):
    ours, theirs = both(_new_view(op, (3,)))
    assert ours == theirs


@pytest.mark.parametrize("op", SCALAR_VIEWS.values(), ids=SCALAR_VIEWS.keys())
def test_no_op_view_of_a_scalar_is_a_new_view(op):
    ours, theirs = both(_new_view(op, ()))
    assert ours == theirs


def test_reshape_to_the_same_shape_gets_its_gradient_and_metadata_edits_stay_local():
    def fn(x):
        y = x * 2
        v = y.permute(0, 1)
        v.transpose_(0, 1)  # v's own shape changes, y's does not
        return y * v.t()

    check_against_torch(fn, fn, [rand(2, 3)])


@pytest.mark.parametrize("call", [lambda t: t.flatten(), lambda t: t.flatten(0, -1)])
def test_flatten_of_a_vector_returns_the_input_itself(call):
    ours, theirs = both(lambda lib: (lambda x: call(x) is x)(lib.ones(4)))
    assert ours is theirs is True


def test_flatten_of_one_dim_returns_the_input_itself_but_of_a_scalar_a_view():
    for lib in (ng, torch):
        x = lib.ones(2, 1, 3)
        assert x.flatten(1, 1) is x and lib.flatten(x, -1, -1) is x
        s = lib.tensor(1.0)
        assert s.flatten() is not s and s.flatten().shape == (1,)


def test_broadcast_tensors_keeps_a_tensor_that_has_the_shape_already():
    ours, theirs = both(lambda lib: (lambda x, y: [r is t for r, t in zip(
        lib.broadcast_tensors(x, y), (x, y))])(lib.ones(2, 3), lib.ones(3)))
    assert ours == theirs == [True, False]


# ----- writes through an expanded tensor ----------------------------------------------------------
def _mask(lib):
    return lib.tensor([[True, False], [False, False]])


EXPANDED_WRITES = {
    "masked_fill_": lambda lib, v: v.masked_fill_(_mask(lib), 0.0),
    "masked_fill_tensor": lambda lib, v: v.masked_fill_(_mask(lib), lib.tensor(-1.0)),
    "index_put_": lambda lib, v: v.index_put_((lib.tensor([0]), lib.tensor([0])),
                                              v.new_tensor(5.0)),
    "index_put_two": lambda lib, v: v.index_put_((lib.tensor([0, 1]), lib.tensor([1, 1])),
                                                 v.new_tensor([5.0, 6.0])),
    "index_put_accumulate": lambda lib, v: v.index_put_((lib.tensor([0, 1]), lib.tensor([0, 0])),
                                                        v.new_tensor(5.0), accumulate=True),
    "index_put_mask": lambda lib, v: v.index_put_((_mask(lib),), lib.tensor(5.0)),
    "fill_diagonal_": lambda lib, v: v.fill_diagonal_(0.0),
    "index_fill_rows": lambda lib, v: v.index_fill_(0, lib.tensor([0]), 5.0),
    "setitem_index": lambda lib, v: v.__setitem__((lib.tensor([0]), lib.tensor([0])), 5.0),
    "setitem_mask": lambda lib, v: v.__setitem__(_mask(lib), lib.tensor([7.0])),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", EXPANDED_WRITES.values(), ids=EXPANDED_WRITES.keys())
def test_write_through_an_expanded_view_reaches_its_base(op, dtype):
    def run(lib):
        x = lib.tensor([[1.0, 2.0]], dtype=getattr(lib, dtype))
        v = x.expand(2, -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's deprecation warning
            op(lib, v)
        return x.numpy(), v.numpy()

    (x, v), (tx, tv) = both(run)
    assert x.dtype == tx.dtype
    np.testing.assert_array_equal(x, tx)
    np.testing.assert_array_equal(v, tv)


REFUSED_ON_EXPANDED = {
    "masked_scatter_": lambda lib, v: v.masked_scatter_(_mask(lib), lib.tensor([7.0, 8, 9, 10])),
    "masked_scatter_nothing": lambda lib, v: v.masked_scatter_(_mask(lib) & False,
                                                               lib.tensor([7.0, 8, 9, 10])),
    "index_copy_": lambda lib, v: v.index_copy_(1, lib.tensor([0]), lib.tensor([[5.0], [6.0]])),
    "index_add_": lambda lib, v: v.index_add_(1, lib.tensor([0]), lib.tensor([[5.0], [6.0]])),
    "scatter_": lambda lib, v: v.scatter_(1, lib.tensor([[0]]), lib.tensor([[5.0]])),
    "scatter_value": lambda lib, v: v.scatter_(1, lib.tensor([[0]]), 5.0),
    "scatter_reduce_": lambda lib, v: v.scatter_reduce_(1, lib.tensor([[0]]),
                                                        lib.tensor([[5.0]]), "sum"),
    "put_": lambda lib, v: v.put_(lib.tensor([0]), lib.tensor([5.0])),
}


@pytest.mark.parametrize("op", REFUSED_ON_EXPANDED.values(), ids=REFUSED_ON_EXPANDED.keys())
def test_writes_pytorch_refuses_on_an_expanded_view(op):
    same_error(lambda lib: op(lib, lib.tensor([[1.0, 2.0]]).expand(2, -1)))


@pytest.mark.parametrize("name", ["masked_fill_", "index_put_", "setitem_index"])
def test_recorded_write_through_an_expanded_view_is_refused(name):
    """PyTorch refuses it at backward, numpy2gpt already at the write: the same error."""
    def call(lib):
        x = lib.tensor([[1.0, 2.0]], requires_grad=True) * 1
        v = x.expand(2, -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            EXPANDED_WRITES[name](lib, v)
        v.sum().backward()

    same_error(call)


# ----- an int next to a tensor index: applied first -----------------------------------------------
INDICES = {
    "int_slice_list": lambda lib: (slice(None), 1, slice(None), [0, 1, 2]),
    "int_first": lambda lib: (1, slice(None), [0, 1]),
    "ellipsis": lambda lib: (Ellipsis, 1, slice(None), lib.tensor([3, 0])),
    "none": lambda lib: (slice(None), 1, None, slice(None), lib.tensor([0, 1, 2])),
    "tensor_then_int": lambda lib: (-1, slice(None), lib.tensor([[0, 1], [2, 3]]), 2),
    "mask": lambda lib: (slice(None), 1, slice(None), lib.tensor([True, False, True, False, True])),
    "zero_dim_int_tensor": lambda lib: (slice(None), lib.tensor(1), slice(None), [0, 1, 2]),
    "adjacent": lambda lib: (slice(None), [0, 1], 1, [0, 1]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", INDICES.values(), ids=INDICES.keys())
def test_int_and_tensor_index_getitem(index, dtype):
    check_against_torch(lambda x: x[index(ng)], lambda x: x[index(torch)],
                        [rand(2, 3, 4, 5).astype(dtype)])


@pytest.mark.parametrize("index", INDICES.values(), ids=INDICES.keys())
def test_int_and_tensor_index_setitem(index):
    def fn(lib):
        def write(x, v):
            y = x * 1
            y[index(lib)] = v * 2
            return y
        return write

    target = torch.zeros(2, 3, 4, 5)[index(torch)].shape
    check_against_torch(fn(ng), fn(torch), [rand(2, 3, 4, 5), rand(*target, seed=1)])


def test_int_and_tensor_index_errors():
    x = rand(2, 3, 4, 5)
    same_error(lambda lib: lib.tensor(x)[:, 5, :, [0]])
    same_error(lambda lib: lib.tensor(x)[1, lib.tensor([[True, False, True], [False, True, True]])])
    same_error(lambda lib: lib.tensor(x)[:, 1, :, [7]], same_message=False)


def test_flip_of_a_number_and_where_of_a_non_bool_condition_as_torch():
    """flip(0) of a 0-d tensor is a copy of it (it raised NumPy's AxisError); where(c) alone
    takes any dtype, as nonzero(as_tuple=True)."""
    for lib in (ng, torch):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.flip(-1)
        y.backward()
        assert y.tolist() == 2.0 and y.shape == () and x.grad.tolist() == 1.0
        found = lib.where(lib.tensor([[0, 1], [2, 0]]))
        assert [t.tolist() for t in found] == [[0, 1], [1, 0]]
