"""Indexing ops against PyTorch: x[...], x[...] = v, gather, scatter_add, take_along_dim,
index_select, masked_fill, where, tril/triu. Values and gradients (under a random upstream
gradient, so every output element's gradient is checked) must equal PyTorch's; float64 gradients
are also checked numerically (gradcheck), and a few ops are differentiated twice."""

import re

import numpy as np
import pytest
import torch
from torch_compare import check_double_backward, compare, rand, run_gradcheck

import numpy2gpt as nt
from numpy2gpt.autograd import gradcheck

DTYPES = [np.float64, np.float32]


# ----- x[index] ---------------------------------------------------------------------------------
def _index_for(lib, index):
    """Turn np arrays inside an index spec into tensors of `lib` (lists stay lists)."""
    def conv(i):
        return lib.tensor(i) if isinstance(i, np.ndarray) else i

    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


I = np.array
GETITEM_CASES = [
    1, -1, slice(1, 3), slice(None, None, 2), slice(-3, None), slice(-4, -1, 2), slice(7, None),
    (None, 1), (Ellipsis, 2), (1, Ellipsis, None), (slice(None), -2, slice(1, None, 3)),
    (slice(None), [0, 2, 2]),  # repeated: the gradient accumulates
    I([-1, 3, 0, -1]), (Ellipsis, I([5, -1, 0])),  # -1 and 3 (5) are the same row
    ([0, 0, 3], [1, 1, 1]),  # repeated (row, col) pairs
    I([[0, 1], [1, 0]]),  # 2-D integer tensor
    (I([3, -4, 3]), slice(None), I([5, 0, 5])),  # non-adjacent advanced indices
    (slice(None), I([[1], [4]]), I([0, 2, 5])),  # broadcast index arrays
    I(2), (I(1), I(-1)), [], I([], dtype=np.int64), (slice(None), []),
    I([True, False, True, True]), rand(4, 5) > 0, (slice(None), rand(5) > 0),
    (Ellipsis, rand(5, 6) > 0), [True, False, False, True], True, False, (None, None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index", GETITEM_CASES, ids=range(len(GETITEM_CASES)))
def test_getitem_matches_torch(index, dtype):
    x = rand(4, 5, 6)
    compare(lambda a: a[_index_for(nt, index)], lambda a: a[_index_for(torch, index)], [x], dtype)


@pytest.mark.parametrize("index", [(slice(None), [0, 2, 2]), ([0, 0, 2], [1, 3, 1]),
                                   (slice(None, None, 2), -1), rand(3, 4) > 0, (None, Ellipsis, 1)])
def test_getitem_gradcheck(index):
    assert run_gradcheck(lambda a: a[index], [rand(3, 4)])


def test_getitem_repeated_indices_accumulate():
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


@pytest.mark.parametrize("shape, index", [((0, 3), (slice(None), 1)), ((0, 3), [0, 0][:0]),
                                          ((2, 0), 0), ((2, 0), (slice(None), [])),
                                          ((2, 3), (slice(None), I([], dtype=np.int64)))])
def test_getitem_empty_dims(shape, index):
    compare(lambda a: a[_index_for(nt, index)], lambda a: a[_index_for(torch, index)],
            [rand(*shape)])


def test_getitem_int_and_bool_tensors_carry_no_grad():
    i = nt.tensor([[3, 1], [4, 1]])
    assert i[0].dtype == nt.int64 and not i[0].requires_grad
    assert i[i > 1].tolist() == [3, 4]


def test_getitem_double_backward():
    index = (slice(None), [0, 2, 2])
    check_double_backward(lambda a: a[index] ** 3, lambda a: a[index] ** 3, rand(3, 4))
    x = nt.tensor(rand(3, 4), requires_grad=True)  # gradcheck of the first derivative too
    v = nt.tensor(rand(3, 3, seed=1), requires_grad=True)

    def first_grad(x, v):
        with nt.enable_grad():
            return nt.autograd.grad(x[index] ** 3, x, v, create_graph=True)[0]

    assert gradcheck(first_grad, [x, v])


@pytest.mark.parametrize("index, exc, message", [
    (5, IndexError, "index 5 is out of bounds for dimension 0 with size 4"),
    (-5, IndexError, "index -5 is out of bounds for dimension 0 with size 4"),
    ((slice(None), [0, 9]), IndexError, "index 9 is out of bounds for dimension 1 with size 5"),
    ((0, 0, 0, 0), IndexError, "too many indices for tensor of dimension 3"),
    (I([True, False]), IndexError, r"shape of the mask \[2\] at index 0 does not match"),
    ((slice(None), rand(4, 5) > 0), IndexError, r"mask \[4, 5\] at index 1 does not match"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (I([0.0, 1.0]), IndexError, "tensors used as indices must be long, int, byte or bool"),
    (1.5, IndexError, "got float"),
    (([0, 1], [0, 1, 2]), IndexError, r"could not be broadcast together with shapes \[2\], \[3\]"),
])
def test_getitem_errors(index, exc, message):
    x = nt.tensor(rand(4, 5, 6))
    with pytest.raises(exc, match=message):
        x[_index_for(nt, index)]
    with pytest.raises(exc):  # PyTorch refuses the same index
        torch.tensor(rand(4, 5, 6))[_index_for(torch, index)]


# ----- x[index] = value ---------------------------------------------------------------------------
SETITEM_CASES = [
    (0, 5.0), ((slice(None), 1), rand(4)), ((Ellipsis, slice(1, 3)), rand(1, 2)),
    (rand(4, 5) > 0, -1.0),
    (([0, 2], [1, 1]), I([7.0, 8.0])), ((1, slice(None)), rand(1, 5)), ((slice(None), [0, 4]), 2),
]


@pytest.mark.parametrize("index, value", SETITEM_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_setitem_matches_torch(index, value, dtype):
    a = rand(4, 5)
    x, t = nt.tensor(a.astype(dtype)), torch.tensor(a.astype(dtype))
    v0 = x._version
    value = value.astype(dtype) if isinstance(value, np.ndarray) else value
    x[index] = nt.tensor(value) if isinstance(value, np.ndarray) else value
    t[index] = torch.tensor(value) if isinstance(value, np.ndarray) else value
    assert x.dtype == dtype and x._version == v0 + 1
    np.testing.assert_array_equal(x.data, t.numpy())


def test_setitem_int_tensor_casts_value():
    x, t = nt.zeros(3, dtype=nt.int64), torch.zeros(3, dtype=torch.int64)
    x[1], t[1] = 2.7, 2.7
    assert x.dtype == nt.int64 and x.tolist() == t.tolist()


SETITEM_DTYPE_CASES = [  # (index, value shape): a value of another dtype than x's
    ([0, 1], (2, 3)), ([0, 1], ()), (I([0, 2]), (3,)), ((slice(None), [0, 1]), (2,)),
    ((0, [0, 1]), (2,)), (I([True, False, True, False]), (2, 3)),
    ((I([True, False, True, False]), [0, 1]), ()),  # advanced writes: index_put, no cast
    (I([True, False, True, False]), ()), (I([True, False, True, False]), (1, 1)),
    ((slice(None), I([True, False, True])), ()), ((I([True, False, True, False]), 0), ()),
    (slice(0, 2), (3,)), (1, ()),  # a mask with one value (masked_fill) or basic: cast
]


@pytest.mark.parametrize("index,shape", SETITEM_DTYPE_CASES)
@pytest.mark.parametrize("value_dtype", ["float64", "int64"])
def test_setitem_value_of_another_dtype_as_torch(index, shape, value_dtype):
    x, t = nt.zeros(4, 3), torch.zeros(4, 3)
    v = np.full(shape, 2, dtype=value_dtype)
    try:
        t[_index_for(torch, index)] = torch.tensor(v)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match="^" + re.escape(str(e)) + "$"):
            x[_index_for(nt, index)] = nt.tensor(v)
        assert not x.data.any()  # nothing written
        return
    x[_index_for(nt, index)] = nt.tensor(v)
    assert x.dtype == nt.float32
    np.testing.assert_array_equal(x.data, t.numpy())


def test_setitem_outside_autograd():
    w = nt.tensor(rand(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    with nt.no_grad():  # allowed, like PyTorch (weight initialisation)
        w[0] = 1.0
    assert w.data[0] == 1.0 and w.requires_grad


def test_setitem_invalidates_saved_tensors():
    a, w = nt.tensor(rand(3)), nt.tensor(rand(3), requires_grad=True)
    y = (a * w).sum()
    a[0] = 5.0  # Mul saved `a` for w's gradient
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_setitem_shape_mismatch():
    x = nt.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"value tensor of shape \[3\] cannot be broadcast to "
                                           r"indexing result of shape \[4\]"):
        x[0] = nt.ones(3)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3] = 1.0


# ----- gather / scatter_add / take_along_dim / index_select -------------------------------------
GATHER_CASES = [  # (input shape, dim, index)
    ((3, 4), 1, I([[0, 1], [3, 3], [2, 0]])),
    ((3, 4), 0, I([[0, 1, 2, 2], [2, 2, 2, 2]])),  # repeated rows
    ((3, 4), -1, I([[1], [0]])),  # index smaller than input in the other dim
    ((2, 3, 4), -2, I([[[0, 2, 1, 1]], [[2, 2, 0, 1]]])),
    ((3, 4), 1, np.zeros((0, 2), dtype=np.int64)),  # empty index
    ((3, 4), 1, I([[0, 1], [3, 3], [2, 0]], dtype=np.int32)),
    ((), 0, I(0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim, index", GATHER_CASES)
def test_gather_matches_torch(shape, dim, index, dtype):
    compare(lambda a: nt.gather(a, dim, nt.tensor(index)),
            lambda a: torch.gather(a, dim, torch.tensor(index)), [rand(*shape)], dtype)
    compare(lambda a: a.gather(dim, nt.tensor(index)),
            lambda a: a.gather(dim, torch.tensor(index)), [rand(*shape)], dtype)


@pytest.mark.parametrize("shape, dim, index", GATHER_CASES[:4])
def test_gather_gradcheck(shape, dim, index):
    assert run_gradcheck(lambda a: nt.gather(a, dim, nt.tensor(index)), [rand(*shape)])


def test_gather_double_backward():
    index = I([[0, 1, 1], [3, 3, 0]])
    check_double_backward(lambda a: nt.gather(a, 1, nt.tensor(index)).exp(),
                          lambda a: torch.gather(a, 1, torch.tensor(index)).exp(), rand(2, 4))


def test_gather_errors():
    x = nt.tensor(rand(3, 4))
    with pytest.raises(RuntimeError, match="gather\\(\\): Expected dtype int32/int64 for index"):
        nt.gather(x, 1, nt.tensor([[0.0, 1.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        nt.gather(x, 1, nt.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 1 with size 4"):
        nt.gather(x, 1, nt.tensor([[0, 7]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        nt.gather(x, 1, nt.tensor([[0, -1]]))
    with pytest.raises(RuntimeError, match=r"expected index \[1, 5\] to be no larger than self"):
        nt.gather(x, 0, nt.tensor([[0, 1, 2, 0, 0]]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.gather(x, 2, nt.tensor([[0]]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, index, src_shape", [
    (1, I([[0, 1, 1], [3, 3, 3]]), (2, 3)),  # repeated targets accumulate
    (0, I([[2, 0, 2, 1]]), (2, 5)),  # src larger than index
    (-1, I([[1], [0], [1]]), (3, 1)),
])
def test_scatter_add_matches_torch(dim, index, src_shape, dtype):
    compare(lambda a, s: nt.scatter_add(a, dim, nt.tensor(index), s),
            lambda a, s: torch.scatter_add(a, dim, torch.tensor(index), s),
            [rand(3, 4), rand(*src_shape, seed=1)], dtype,
            grad=src_shape == index.shape)  # torch 2.13's backward fails for src larger than index
    assert run_gradcheck(lambda a, s: a.scatter_add(dim, nt.tensor(index), s),
                         [rand(3, 4), rand(*src_shape, seed=1)])


def test_scatter_add_errors():
    x = nt.zeros(3, 4)
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        nt.scatter_add(x, 1, nt.tensor([[0]]), nt.ones(1, 1, dtype=nt.float64))
    with pytest.raises(RuntimeError, match="to be no larger size than src"):
        nt.scatter_add(x, 1, nt.tensor([[0, 1, 1]]), nt.ones(1, 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, index, src_shape", [
    (1, I([[0, 1], [3, 2]]), (2, 2)),  # a few positions of the first two rows
    (0, I([[2, 0, 1, 1]]), (1, 4)),
    (-1, I([[1], [0], [3]]), (3, 1)),
    (1, I([[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2]]), (3, 4)),  # every position: a permutation
])
def test_scatter_matches_torch(dim, index, src_shape, dtype):
    """Values and both gradients (the overwritten positions of input get none, src gets the
    output's gradient where it went), for src and for a number, and in place; no index repeats
    (where one does, which value lands is unspecified)."""
    compare(lambda a, s: nt.scatter(a, dim, nt.tensor(index), s),
            lambda a, s: torch.scatter(a, dim, torch.tensor(index), s),
            [rand(3, 4), rand(*src_shape, seed=1)], dtype)
    compare(lambda a: a.scatter(dim, nt.tensor(index), 2.5),
            lambda a: a.scatter(dim, torch.tensor(index), 2.5), [rand(3, 4)], dtype)
    compare(lambda a, s: (a * 1).scatter_(dim, nt.tensor(index), s),
            lambda a, s: (a * 1).scatter_(dim, torch.tensor(index), s),
            [rand(3, 4), rand(*src_shape, seed=1)], dtype)
    assert run_gradcheck(lambda a, s: a.scatter(dim, nt.tensor(index), src=s),
                         [rand(3, 4), rand(*src_shape, seed=1)])


def test_scatter_reduce_one_hot_ints_and_0d_as_pytorch():
    idx = I([[0, 1], [2, 0]])
    for reduce, value in (("add", 2.0), ("multiply", 3.0)):
        x = rand(3, 4)
        ours = nt.tensor(x).scatter(1, nt.tensor(idx), value, reduce=reduce)
        theirs = torch.tensor(x).scatter(1, torch.tensor(idx), value, reduce=reduce)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    labels = I([[3], [0], [2]])  # a one-hot encoding, the common use
    assert nt.zeros(3, 5).scatter_(1, nt.tensor(labels), 1.0).tolist() == \
        torch.zeros(3, 5).scatter_(1, torch.tensor(labels), 1.0).tolist()
    ints = nt.zeros(3, dtype=nt.int64).scatter(0, nt.tensor([1]), 2.5)  # the value is truncated
    assert ints.dtype == nt.int64 and ints.tolist() == [0, 2, 0]
    assert nt.zeros(()).scatter(0, nt.tensor(0), 2.5).item() == 2.5


def test_scatter_errors_are_pytorchs():
    x, src = nt.zeros(3, 4), nt.ones(3, 4)
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        x.scatter(1, nt.tensor([[0.0]]), src)
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(1, nt.tensor([[0]]), src.double())
    with pytest.raises(RuntimeError, match="same number of dimensions as self tensor"):
        x.scatter(1, nt.tensor([0]), src)
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 1 with size 4"):
        x.scatter(1, nt.tensor([[0, 7]]), src)
    with pytest.raises(RuntimeError, match=r"Expected index \[1, 5\] to be no larger than self"):
        x.scatter(1, nt.tensor([[0, 1, 2, 3, 0]]), src)
    with pytest.raises(RuntimeError, match="^reduce argument must be either add or multiply.$"):
        x.scatter(1, nt.tensor([[0]]), src, reduce="mean")
    y = nt.zeros(3, 4, requires_grad=True).scatter(1, nt.tensor([[0]]), 2.0, reduce="multiply")
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        y.sum().backward()  # (PyTorch computes the forward, and raises in backward)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.scatter(5, nt.tensor([[0]]), src)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, index, dim", [
    ((3, 4), I([[0], [1], [2]]), 1), ((3, 4), I([[0, 2, 2]]), 1),  # index broadcast over dim 0
    ((1, 4), I([[3, 0], [1, 1], [2, 2]]), 1),  # input broadcast over dim 0
    ((3, 4), I([5, 0, 5]), None), ((2, 3, 4), I([[[1]], [[0]]]), -1),
])
def test_take_along_dim_matches_torch(shape, index, dim, dtype):
    compare(lambda a: nt.take_along_dim(a, nt.tensor(index), dim),
            lambda a: torch.take_along_dim(a, torch.tensor(index), dim), [rand(*shape)], dtype)
    assert run_gradcheck(lambda a: a.take_along_dim(nt.tensor(index), dim), [rand(*shape)])


def test_take_along_dim_errors():
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        nt.take_along_dim(nt.zeros(3, 4), nt.tensor([0, 1]), 1)
    with pytest.raises(RuntimeError, match="dtype of indices"):
        nt.take_along_dim(nt.zeros(3, 4), nt.tensor([[0.0]]), 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, index", [(0, I([2, 0, 2])), (1, I([3], dtype=np.int32)),
                                        (-1, I([1, 1, 0, 4])), (1, I(2)),
                                        (0, np.zeros(0, dtype=np.int64))])
def test_index_select_matches_torch(dim, index, dtype):
    compare(lambda a: nt.index_select(a, dim, nt.tensor(index)),
            lambda a: torch.index_select(a, dim, torch.tensor(index)), [rand(3, 5)], dtype)
    assert run_gradcheck(lambda a: a.index_select(dim, nt.tensor(index)), [rand(3, 5)])


def test_index_select_errors():
    x = nt.zeros(3, 4)
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        nt.index_select(x, 0, nt.tensor([[0]]))
    with pytest.raises(RuntimeError, match="Expected dtype int32 or int64 for index"):
        nt.index_select(x, 0, nt.tensor([0.0]))
    with pytest.raises(IndexError, match="^index out of range in self$"):  # PyTorch's words
        nt.index_select(x, 1, nt.tensor([0, 4]))
    with pytest.raises(IndexError, match="^index out of range in self$"):
        nt.index_select(x, 1, nt.tensor([-1]))


# ----- masked_fill / where / tril / triu ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, mask_shape, value", [
    ((3, 4), (3, 4), 0.5), ((3, 4), (4,), float("-inf")), ((3, 1), (2, 3, 4), -2.0),
    ((2, 3, 4), (3, 1), 7), ((0, 4), (4,), 1.0),
])
def test_masked_fill_matches_torch(x_shape, mask_shape, value, dtype):
    mask = rand(*mask_shape, seed=2) > 0
    compare(lambda a: nt.masked_fill(a, nt.tensor(mask), value),
            lambda a: torch.masked_fill(a, torch.tensor(mask), value), [rand(*x_shape)], dtype)
    if np.isfinite(value) and 0 not in x_shape:
        assert run_gradcheck(lambda a: a.masked_fill(nt.tensor(mask), value), [rand(*x_shape)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_value_tensor_gets_gradient(dtype):
    mask = rand(3, 4) > 0
    compare(lambda a, v: nt.masked_fill(a, nt.tensor(mask), v),
            lambda a, v: torch.masked_fill(a, torch.tensor(mask), v), [rand(3, 4), I(1.5)], dtype)
    assert run_gradcheck(lambda a, v: nt.masked_fill(a, nt.tensor(mask), v), [rand(3, 4), I(1.5)])


def test_masked_fill_int_and_inplace():
    x, t = nt.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 2], [3, 4]])
    m = [[True, False], [False, True]]
    want = t.masked_fill(torch.tensor(m), 9.7).tolist()
    assert nt.masked_fill(x, nt.tensor(m), 9.7).tolist() == want
    y, v0 = nt.tensor(rand(2, 2)), 0
    y.masked_fill_(nt.tensor(m), -1.0)
    assert y._version == v0 + 1 and y.data[0, 0] == -1.0 and y.data[1, 1] == -1.0


def test_masked_fill_errors():
    x = nt.zeros(3, 4)
    with pytest.raises(RuntimeError, match="only supports boolean masks, but got mask with dtype"):
        nt.masked_fill(x, nt.zeros(4), 1.0)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        nt.masked_fill(x, nt.zeros(4, dtype=nt.bool), nt.ones(2))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(4\) must match the size of tensor "
                                           r"b \(3\)"):
        nt.masked_fill(x, nt.zeros(3, dtype=nt.bool), 1.0)


def test_masked_fill_double_backward():
    mask = rand(3, 4) > 0
    check_double_backward(lambda a: nt.masked_fill(a * a, nt.tensor(mask), 0.0),
                          lambda a: torch.masked_fill(a * a, torch.tensor(mask), 0.0), rand(3, 4))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c_shape, a_shape, b_shape", [
    ((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), (1, 4)), ((2, 1, 4), (3, 4), (4,)),
    ((0, 4), (4,), (1,)),
])
def test_where_matches_torch(c_shape, a_shape, b_shape, dtype):
    cond = rand(*c_shape, seed=5) > 0
    compare(lambda a, b: nt.where(nt.tensor(cond), a, b),
            lambda a, b: torch.where(torch.tensor(cond), a, b),
            [rand(*a_shape), rand(*b_shape, seed=1)], dtype)
    if 0 not in c_shape:
        assert run_gradcheck(lambda a, b: a.where(nt.tensor(cond), b),
                             [rand(*a_shape), rand(*b_shape, seed=1)])


@pytest.mark.parametrize("a, b", [
    ("f32", 0.0), (1.0, "f32"), (1.0, 0), (1, 0), (True, False), ("f32", "f64"), ("i64", 2.5),
    ("f32", "f64_0d"), ("i64", "f32_0d"), ("f64", 3),
])
def test_where_dtype_promotion(a, b):
    cond = rand(3) > 0
    data = {"f32": (np.float32, (3,)), "f64": (np.float64, (3,)), "i64": (np.int64, (3,)),
            "f64_0d": (np.float64, ()), "f32_0d": (np.float32, ())}

    def make(lib, v):
        if isinstance(v, str):
            dt, shape = data[v]
            return lib.tensor(rand(*shape).astype(dt) if dt != np.int64 else np.arange(3))
        return v

    got = nt.where(nt.tensor(cond), make(nt, a), make(nt, b))
    want = torch.where(torch.tensor(cond), make(torch, a), make(torch, b))
    assert got.dtype == np.dtype(str(want.dtype).replace("torch.", ""))
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6)


def test_where_condition_only_and_errors():
    c = rand(3, 4) > 0
    got, want = nt.where(nt.tensor(c)), torch.where(torch.tensor(c))
    assert len(got) == 2 and all(g.tolist() == w.tolist() for g, w in zip(got, want))
    assert got[0].dtype == nt.int64
    with pytest.raises(RuntimeError, match="condition to be a boolean tensor"):
        nt.where(nt.ones(3), nt.ones(3), 0.0)
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match"):
        nt.where(nt.ones(2, dtype=nt.bool), nt.ones(3, 4), 0.0)


def test_where_double_backward():
    cond = rand(3, 4) > 0
    check_double_backward(lambda a: nt.where(nt.tensor(cond), a.sin(), a * a),
                          lambda a: torch.where(torch.tensor(cond), a.sin(), a * a), rand(3, 4))
    for x in (0.7, -0.3):  # a 0-d condition too (its negation is a NumPy scalar, not an array)
        check_double_backward(lambda a: nt.where(a > 0, a * a, a.sin()),
                              lambda a: torch.where(a > 0, a * a, a.sin()), np.array(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, diagonal", [((4, 4), 0), ((3, 5), -1), ((2, 3, 4), 2),
                                             ((4, 3), -5), ((0, 3), 0)])
def test_tril_triu_match_torch(shape, diagonal, dtype):
    for ours, theirs, name in ((nt.tril, torch.tril, "tril"), (nt.triu, torch.triu, "triu")):
        compare(lambda a, f=ours: f(a, diagonal), lambda a, f=theirs: f(a, diagonal),
                [rand(*shape)], dtype)
        compare(lambda a, n=name: getattr(a, n)(diagonal=diagonal),
                lambda a, n=name: getattr(a, n)(diagonal=diagonal), [rand(*shape)], dtype)
    if 0 not in shape:
        assert run_gradcheck(lambda a: nt.tril(a, diagonal) + nt.triu(a * a, diagonal),
                             [rand(*shape)])


def test_tril_needs_a_matrix_and_keeps_int_dtype():
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        nt.tril(nt.ones(3))
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        nt.triu(nt.ones(3))
    causal = nt.tril(nt.ones(3, 3, dtype=nt.int64))
    assert causal.dtype == nt.int64
    assert causal.tolist() == torch.tril(torch.ones(3, 3)).long().tolist()
