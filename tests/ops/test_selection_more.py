"""nonzero/argwhere, masked_select, unique, unique_consecutive, count_nonzero,
repeat_interleave, take, index_add/index_copy/index_fill (and their in-place forms) and bincount
against PyTorch: values, dtypes, shapes and gradients in float64 and float32, integer and bool
inputs, empty and 0-d tensors, and PyTorch's errors."""

# The lambdas in loops below are called at once, inside their iteration, so binding the loop
# variable late is what is meant:
# ruff: noqa: B023

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, same_error

import numpy2gpt as ng

RNG = np.random.default_rng(3)
X = RNG.standard_normal((3, 4))
SPARSE = np.array([[0.0, 1.5, 0.0, -2.0], [np.nan, 0.0, 0.0, 3.0], [0.0, 0.0, -0.0, 0.0]])
DTYPES = [np.float64, np.float32]


def same_result(call):
    """call(ng) and call(torch) give equal tensors (or tuples of them): values, dtypes, shapes."""
    ours, theirs = both(call)
    if isinstance(theirs, torch.Tensor):
        ours, theirs = (ours,), (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert_close(o, t)


# ----- nonzero / argwhere / count_nonzero -------------------------------------------------------
@pytest.mark.parametrize("x", [SPARSE, SPARSE.astype(np.float32), SPARSE != 0,
                               np.array([[0, 3], [-1, 0]]), np.array(2.0), np.array(0),
                               np.zeros((0, 3)), np.zeros((2, 0, 1))],
                         ids=["f64", "f32", "bool", "int", "0-d", "0-d zero", "empty", "empty3"])
def test_nonzero_argwhere_count_nonzero(x):
    same_result(lambda lib: lib.nonzero(lib.tensor(x)))
    same_result(lambda lib: lib.nonzero(lib.tensor(x), as_tuple=True))
    same_result(lambda lib: lib.tensor(x).nonzero())
    same_result(lambda lib: lib.argwhere(lib.tensor(x)))
    same_result(lambda lib: lib.tensor(x).argwhere())
    same_result(lambda lib: lib.count_nonzero(lib.tensor(x)))
    for dim in range(-x.ndim, x.ndim):
        same_result(lambda lib: lib.count_nonzero(lib.tensor(x), dim))
    if x.ndim == 2:
        same_result(lambda lib: lib.tensor(x).count_nonzero(dim=(1, 0)))


def test_nonzero_count_nonzero_errors():
    same_error(lambda lib: lib.nonzero(lib.zeros(2), True))
    same_error(lambda lib: lib.count_nonzero(lib.zeros(2, 3), 2))
    same_error(lambda lib: lib.count_nonzero(lib.zeros(2, 3), (0, -2)))
    same_error(lambda lib: lib.zeros(2).count_nonzero(keepdim=True), False)


# ----- masked_select ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_select_values_and_gradients(dtype):
    x = X.astype(dtype)
    check_against_torch(lambda t: ng.masked_select(t, t > 0), lambda t: torch.masked_select(
        t, t > 0), [x])
    row_mask = np.array([True, False, True, True])  # the mask broadcasts to the input...
    check_against_torch(lambda t: t.masked_select(ng.tensor(row_mask)),
                        lambda t: t.masked_select(torch.tensor(row_mask)), [x])
    big_mask = RNG.random((2, 3, 4)) > 0.4  # ...and the input to the mask: repeats add up
    check_against_torch(lambda t: ng.masked_select(t, ng.tensor(big_mask)),
                        lambda t: torch.masked_select(t, torch.tensor(big_mask)), [x[0]])
    check_against_torch(lambda t: ng.masked_select(t, ng.tensor(True)),
                        lambda t: torch.masked_select(t, torch.tensor(True)), [x[0, :1]])
    check_against_torch(lambda t: ng.masked_select(t, ng.tensor(True)),
                        lambda t: torch.masked_select(t, torch.tensor(True)), [np.array(x[0, 0])])


def test_masked_select_integers_and_errors():
    same_result(lambda lib: lib.masked_select(lib.tensor([[1, 2], [3, 4]]),
                                              lib.tensor([False, True])))
    same_error(lambda lib: lib.masked_select(lib.zeros(2), lib.zeros(2)))
    same_error(lambda lib: lib.masked_select(lib.zeros(2), lib.zeros(2, dtype=lib.uint8)))
    same_error(lambda lib: lib.masked_select(lib.zeros(2), [True, False]))
    same_error(lambda lib: lib.masked_select(lib.zeros(2, 3), lib.ones(2, dtype=lib.bool)),
               False)


# ----- unique / unique_consecutive --------------------------------------------------------------
WITH_NAN = np.array([3.0, 1.0, 2.0, 3.0, np.nan, 1.0, np.nan, -0.5])
ROWS = np.array([[1, 2], [3, 4], [1, 2], [0, 5], [3, 4]])


@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("counts", [False, True])
def test_unique_flags_and_dtypes(inverse, counts):
    for x in (WITH_NAN, WITH_NAN.astype(np.float32), ROWS, ROWS > 1, np.array(5.0),
              np.zeros(0), RNG.integers(0, 50, (6, 5))):
        for sorted_ in (True, False):
            same_result(lambda lib: lib.unique(lib.tensor(x), sorted=sorted_,
                                               return_inverse=inverse, return_counts=counts))
        same_result(lambda lib: lib.tensor(x).unique(return_inverse=inverse,
                                                     return_counts=counts))
        same_result(lambda lib: lib.unique_consecutive(lib.tensor(x), return_inverse=inverse,
                                                       return_counts=counts))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_and_unique_consecutive_along_a_dim(dim):
    for x in (ROWS, ROWS.astype(np.float32), np.repeat(ROWS, 2, axis=0), np.zeros((0, 3))):
        if x.shape[0] == 0 and dim != 0:
            continue
        same_result(lambda lib: lib.unique(lib.tensor(x), dim=dim, return_inverse=True,
                                           return_counts=True))
        same_result(lambda lib: lib.unique_consecutive(lib.tensor(x), dim=dim,
                                                       return_inverse=True, return_counts=True))
        same_result(lambda lib: lib.tensor(x).unique_consecutive(dim=dim))


def test_unique_has_no_derivative_and_errors():
    ours, theirs = both(lambda lib: lib.unique(lib.tensor([1.0, 2.0, 1.0], requires_grad=True)))
    assert ours.requires_grad and theirs.requires_grad
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__ == "Unique2Backward0"
    x = [[1.0, 2.0], [1.0, 2.0]]
    same_error(lambda lib: lib.unique(lib.tensor(x, requires_grad=True)).sum().backward())
    same_error(lambda lib: lib.unique(lib.tensor(x, requires_grad=True), dim=0).sum().backward())
    same_error(lambda lib: lib.unique_consecutive(lib.tensor(x, requires_grad=True)).sum()
               .backward())
    same_error(lambda lib: lib.unique(lib.tensor(x), dim=2))
    same_error(lambda lib: lib.unique(lib.tensor(5.0), dim=0))
    same_error(lambda lib: lib.unique(lib.zeros(2, 0), dim=0))


# ----- repeat_interleave ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_interleave_values_and_gradients(dtype):
    x = X.astype(dtype)
    for repeats, dim in ((2, None), (3, 0), (2, -1), (0, 1)):
        check_against_torch(lambda t: ng.repeat_interleave(t, repeats, dim),
                            lambda t: torch.repeat_interleave(t, repeats, dim), [x])
    counts = np.array([2, 0, 1])
    check_against_torch(lambda t: t.repeat_interleave(ng.tensor(counts), dim=0),
                        lambda t: t.repeat_interleave(torch.tensor(counts), dim=0), [x])
    for counts in (np.array([3]), np.array(2)):  # one count for every slice
        check_against_torch(lambda t: ng.repeat_interleave(t, ng.tensor(counts), 1),
                            lambda t: torch.repeat_interleave(t, torch.tensor(counts), 1), [x])
    check_against_torch(lambda t: ng.repeat_interleave(t, 2, 0, output_size=6),
                        lambda t: torch.repeat_interleave(t, 2, 0, output_size=6), [x])
    check_against_torch(lambda t: ng.repeat_interleave(t, 3), lambda t: torch.repeat_interleave(
        t, 3), [np.array(1.5, dtype)])


def test_repeat_interleave_one_argument_form_integers_and_errors():
    same_result(lambda lib: lib.repeat_interleave(lib.tensor([1, 0, 3])))
    same_error(lambda lib: lib.tensor([2, 1]).repeat_interleave(), False)
    same_result(lambda lib: lib.repeat_interleave(lib.tensor([[True, False]]), 2, dim=1))
    same_result(lambda lib: lib.repeat_interleave(lib.tensor([4, 5], dtype=lib.int32),
                                                  lib.tensor([1, 2], dtype=lib.int32)))
    x = lambda lib: lib.ones(2, 2)  # noqa: E731
    same_error(lambda lib: lib.repeat_interleave(lib.tensor([[1, 2]])))
    same_error(lambda lib: lib.repeat_interleave(lib.tensor([1.0, 2.0])))
    same_error(lambda lib: lib.repeat_interleave(lib.tensor([2, -1])))
    same_error(lambda lib: lib.repeat_interleave(x(lib), lib.tensor([1, 2, 3]), dim=0))
    same_error(lambda lib: lib.repeat_interleave(x(lib), lib.tensor([1, -2]), dim=0))
    same_error(lambda lib: lib.repeat_interleave(x(lib), lib.tensor([[2]]), dim=0))
    same_error(lambda lib: lib.repeat_interleave(x(lib), lib.tensor([1.0, 2.0]), dim=0))
    same_error(lambda lib: lib.repeat_interleave(x(lib), -1))
    same_error(lambda lib: lib.repeat_interleave(x(lib), 2, dim=3))
    same_error(lambda lib: lib.repeat_interleave(x(lib), 2, 0, output_size=5))
    same_error(lambda lib: lib.repeat_interleave(x(lib), 2.0), False)


# ----- take -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_take_values_and_gradients(dtype):
    idx = np.array([[0, 11, -1], [3, 3, 5]])  # repeats add up in the gradient
    check_against_torch(lambda t: ng.take(t, ng.tensor(idx)),
                        lambda t: torch.take(t, torch.tensor(idx)), [X.astype(dtype)])
    check_against_torch(lambda t: t.take(ng.tensor(0)), lambda t: t.take(torch.tensor(0)),
                        [np.array(2.5, dtype)])
    same_result(lambda lib: lib.take(lib.tensor([[1, 2], [3, 4]]), lib.tensor([3, 0])))
    same_result(lambda lib: lib.take(lib.zeros(0), lib.tensor([], dtype=lib.int64)))


def test_take_errors():
    x = lambda lib: lib.ones(2, 2)  # noqa: E731
    for index in ([4], [-5]):
        same_error(lambda lib: lib.take(x(lib), lib.tensor(index)))
    same_error(lambda lib: lib.take(x(lib), lib.tensor([1.0])))
    same_error(lambda lib: lib.take(x(lib), lib.tensor([1], dtype=lib.int32)))
    same_error(lambda lib: lib.take(x(lib), [1]))
    same_error(lambda lib: lib.take(lib.zeros(0), lib.tensor([0])))


# ----- index_add / index_copy / index_fill ------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1, 2.5])
def test_index_add_values_and_gradients(alpha, dtype):
    x, src = X.astype(dtype), RNG.standard_normal((3, 5)).astype(dtype)
    idx = np.array([0, 3, 0, 1, 3])  # repeats add up
    check_against_torch(lambda a, s: ng.index_add(a, 1, ng.tensor(idx), s, alpha=alpha),
                        lambda a, s: torch.index_add(a, 1, torch.tensor(idx), s, alpha=alpha),
                        [x, src])
    check_against_torch(lambda a, s: a.index_add(-1, ng.tensor(idx, dtype=ng.int32), s),
                        lambda a, s: a.index_add(-1, torch.tensor(idx, dtype=torch.int32), s),
                        [x, src])
    check_against_torch(lambda a, s: (a * 1).index_add_(1, ng.tensor(idx), s, alpha=alpha),
                        lambda a, s: (a * 1).index_add_(1, torch.tensor(idx), s, alpha=alpha),
                        [x, src])


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_copy_values_and_gradients(dtype):
    x, src = X.astype(dtype), RNG.standard_normal((2, 4)).astype(dtype)
    idx = np.array([2, 0])
    check_against_torch(lambda a, s: ng.index_copy(a, 0, ng.tensor(idx), s),
                        lambda a, s: torch.index_copy(a, 0, torch.tensor(idx), s), [x, src])
    check_against_torch(lambda a, s: (a * 1).index_copy_(0, ng.tensor(idx), s),
                        lambda a, s: (a * 1).index_copy_(0, torch.tensor(idx), s), [x, src])
    column = RNG.standard_normal((3, 1)).astype(dtype)
    check_against_torch(lambda a, s: a.index_copy(1, ng.tensor([3]), s),
                        lambda a, s: a.index_copy(1, torch.tensor([3]), s), [x, column])


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_fill_values_and_gradients(dtype):
    x = X.astype(dtype)
    for idx in ([0, 0, 2], [-1], 1):
        check_against_torch(lambda a: ng.index_fill(a, 1, ng.tensor(idx), -1.5),
                            lambda a: torch.index_fill(a, 1, torch.tensor(idx), -1.5), [x])
    # a 0-d tensor value gets the gradient of every filled position (each counted once)
    check_against_torch(lambda a, v: a.index_fill(0, ng.tensor([0, 0, 2]), v),
                        lambda a, v: a.index_fill(0, torch.tensor([0, 0, 2]), v),
                        [x, np.array(2.0, dtype)])
    check_against_torch(lambda a, v: (a * 1).index_fill_(0, ng.tensor([1]), v),
                        lambda a, v: (a * 1).index_fill_(0, torch.tensor([1]), v),
                        [x, np.array(2.0, dtype)])
    ours, theirs = both(lambda lib: lib.tensor(x, requires_grad=True).index_fill(
        0, lib.tensor([1]), 3.0))
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__ == "IndexFillBackward0"


def test_index_ops_integers_bools_0d_and_in_place_without_grad():
    same_result(lambda lib: lib.index_add(lib.zeros(3, 2, dtype=lib.int64), 0,
                                          lib.tensor([0, 2, 0]), lib.ones(3, 2, dtype=lib.int64),
                                          alpha=0.5))  # the float alpha truncates to 0
    same_result(lambda lib: lib.index_add(lib.zeros(3, 2, dtype=lib.bool), 0,
                                          lib.tensor([0, 2, 0]), lib.ones(3, 2, dtype=lib.bool)))
    same_result(lambda lib: lib.index_add(lib.tensor(1.0), 0, lib.tensor([0]), lib.tensor(5.0)))
    same_result(lambda lib: lib.index_copy(lib.zeros(3), 0, lib.tensor(1), lib.tensor(5.0)))
    same_result(lambda lib: lib.index_fill(lib.zeros(2, 3, dtype=lib.int64), 1,
                                           lib.tensor([0]), 2.7))
    same_result(lambda lib: lib.index_fill(lib.zeros(3), 0, lib.tensor([1]),
                                           lib.tensor(3.0, dtype=lib.float64)))
    for lib in (ng, torch):  # the in-place forms write into the tensor and bump its version
        t = lib.zeros(3, 2)
        version = t._version
        assert t.index_add_(0, lib.tensor([1]), lib.ones(1, 2)) is t
        t.index_copy_(0, lib.tensor([2]), lib.full((1, 2), 7.0)).index_fill_(1, lib.tensor([0]),
                                                                           -1)
        assert t._version == version + 3
        assert t.tolist() == [[-1.0, 0.0], [-1.0, 1.0], [-1.0, 7.0]]


def test_index_ops_errors():
    x = lambda lib: lib.zeros(3, 2)  # noqa: E731
    s = lambda lib: lib.ones(3, 2)  # noqa: E731
    i = lambda lib, v=(0, 2, 0): lib.tensor(list(v))  # noqa: E731
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib).float(), s(lib)))
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib), s(lib).double()))
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib, (0, 3, 0)), s(lib)))
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib, (0, -1, 0)), s(lib)))
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib), s(lib)[:2]))
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib)[:, None], s(lib)))
    same_error(lambda lib: lib.index_add(x(lib), 0, i(lib), s(lib)[:, :1]))
    same_error(lambda lib: lib.index_add(x(lib), 2, i(lib), s(lib)))
    same_error(lambda lib: lib.index_add(x(lib), 0, [0], s(lib)))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib).int(), s(lib)))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib), s(lib).double()))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib, (0, 5, 1)), s(lib)))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib, (-1, 0, 1)), s(lib)))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib)[:2], s(lib)))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib, (0, 1, 2)), s(lib)[:, :1]))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib)[None], s(lib)))
    same_error(lambda lib: lib.index_copy(x(lib), 0, i(lib, (0, 1, 2)), lib.ones(3)))
    same_error(lambda lib: lib.index_fill(x(lib), 0, i(lib).int(), 1.0))
    same_error(lambda lib: lib.index_fill(x(lib), 0, i(lib, (3,)), 1.0))
    same_error(lambda lib: lib.index_fill(x(lib), 0, i(lib)[None], 1.0))
    same_error(lambda lib: lib.index_fill(x(lib), 0, i(lib), lib.ones(1)))
    same_error(lambda lib: lib.index_fill(x(lib), 0, i(lib), "a"), False)
    same_error(lambda lib: lib.zeros(3, requires_grad=True).index_fill_(0, i(lib), 1.0))


# ----- bincount ---------------------------------------------------------------------------------
def test_bincount_counts_weights_and_dtypes():
    x = np.array([0, 1, 1, 4, 1])
    same_result(lambda lib: lib.bincount(lib.tensor(x)))
    same_result(lambda lib: lib.tensor(x).bincount(minlength=8))
    same_result(lambda lib: lib.bincount(lib.tensor(x, dtype=lib.int32)))
    same_result(lambda lib: lib.bincount(lib.tensor(x, dtype=lib.uint8)))
    same_result(lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64), minlength=2))
    w = RNG.standard_normal(5)
    for dtype in (np.float64, np.float32, np.float16, np.int64, np.bool_):  # -> f64, f32, f64...
        weights = w.astype(dtype)
        same_result(lambda lib: lib.bincount(lib.tensor(x), lib.tensor(weights), 6))


def test_bincount_has_no_derivative_and_errors():
    x = lambda lib: lib.tensor([0, 1, 1, 4])  # noqa: E731
    ours, theirs = both(lambda lib: lib.bincount(x(lib), lib.ones(4, requires_grad=True)))
    assert ours.requires_grad and theirs.requires_grad
    same_error(lambda lib: lib.bincount(x(lib), lib.ones(4, requires_grad=True)).sum()
               .backward())
    same_error(lambda lib: lib.bincount(lib.tensor([-1, 2])))
    same_error(lambda lib: lib.bincount(x(lib).float()))
    same_error(lambda lib: lib.bincount(lib.tensor([True, False])))
    same_error(lambda lib: lib.bincount(x(lib).reshape(2, 2)))
    same_error(lambda lib: lib.bincount(lib.tensor(3)))
    same_error(lambda lib: lib.bincount(x(lib), lib.ones(3)))
    same_error(lambda lib: lib.bincount(x(lib), minlength=-1))
    same_error(lambda lib: lib.bincount(x(lib), minlength=2.0))
