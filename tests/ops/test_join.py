"""Join/split ops against PyTorch: cat, stack, split, chunk, unbind, unsqueeze, squeeze, repeat,
tile, flip, roll, narrow, iteration. Values and gradients (under a random upstream gradient) must
equal PyTorch's in float64 and float32; float64 gradients are also checked numerically, and
cat/split and repeat are differentiated twice."""

import numpy as np
import pytest
import torch
from torch_compare import check_double_backward, compare, rand, run_gradcheck

import numpy2gpt as nt

DTYPES = [np.float64, np.float32]


# ----- cat / stack --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes, dim", [
    ([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0)], -1), ([(2, 1, 3), (2, 2, 3), (2, 4, 3)], 1),
    ([(0,), (2, 3)], 1),  # PyTorch skips 1-D empty tensors
    ([(3, 2)], 0), ([(0, 3), (0, 3)], 0),
])
def test_cat_matches_torch(shapes, dim, dtype):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    for ours, theirs in ((nt.cat, torch.cat), (nt.concat, torch.concat),
                         (nt.concatenate, torch.concatenate)):
        compare(lambda *xs, f=ours: f(xs, dim), lambda *xs, f=theirs: f(xs, dim), arrays, dtype)
    assert run_gradcheck(lambda *xs: nt.cat(list(xs), dim=dim), arrays)


def test_cat_is_a_copy_and_promotes_dtypes():
    a32, a64 = rand(2, 3), rand(1, 3, seed=1)
    x32 = nt.tensor(a32.astype(np.float32), requires_grad=True)
    x64 = nt.tensor(a64, requires_grad=True)
    t32 = torch.tensor(a32.astype(np.float32), requires_grad=True)
    t64 = torch.tensor(a64, requires_grad=True)
    y, ty = nt.cat([x32, x64]), torch.cat([t32, t64])
    assert y.dtype == nt.float64
    g = rand(3, 3, seed=2)
    y.backward(nt.tensor(g))
    ty.backward(torch.tensor(g))
    assert x32.grad.dtype == nt.float32 and x64.grad.dtype == nt.float64
    np.testing.assert_allclose(x32.grad.data, t32.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x64.grad.data, t64.grad.numpy(), rtol=1e-12)
    z = nt.cat([nt.tensor(a32)])
    z.data[0, 0] = 99.0
    assert a32[0, 0] != 99.0
    assert nt.cat([nt.ones(2), nt.zeros(2, dtype=nt.int64)]).dtype == nt.float32


def test_cat_errors():
    x = nt.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0. "
                                           r"Expected size 4 but got size 5 for tensor number 2 in "
                                           r"the list \(shapes \[3, 4\] and \[3, 5\]\)"):
        nt.cat([x, nt.zeros(2, 4), nt.zeros(3, 5)])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 "
                                           "and 1"):
        nt.cat([x, nt.zeros(4)])
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        nt.cat([])
    with pytest.raises(RuntimeError, match="zero-dimensional tensor \\(at position 0\\)"):
        nt.cat([nt.tensor(1.0)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.cat([x, x], 2)
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        nt.cat(x)
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        nt.cat([x, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((2, 3), 0), ((2, 3), 1), ((2, 3), -1), ((), 0),
                                        ((0, 2), 1)])
def test_stack_matches_torch(shape, dim, dtype):
    arrays = [rand(*shape, seed=i) for i in range(3)]
    compare(lambda *xs: nt.stack(xs, dim), lambda *xs: torch.stack(xs, dim), arrays, dtype)
    assert run_gradcheck(lambda *xs: nt.stack(list(xs), dim=dim), arrays)


def test_stack_and_unbind_are_a_pair_of_nodes_differentiable_twice():
    """stack's gradient is unbind's and unbind's is stack's (PyTorch's StackBackward0 and
    UnbindBackward0), so derivatives of any order go through them; mixed dtypes promote."""
    for lib in (nt, torch):
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, dtype=lib.float64, requires_grad=True)
        s = lib.stack([a, b], 1)
        assert repr(s.grad_fn).startswith("<StackBackward0") and s.dtype == lib.float64
        assert repr(lib.unbind(s, 1)[0].grad_fn).startswith("<UnbindBackward0")
    x = rand(3, 4)
    check_double_backward(lambda t: nt.stack([t * t, t], 1), lambda t: torch.stack([t * t, t], 1),
                          x)
    check_double_backward(lambda t: nt.stack((t * t).unbind(1)[::-1], 0),
                          lambda t: torch.stack((t * t).unbind(1)[::-1], 0), x)


def test_stack_errors():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[3, 4\] at entry 0 and \[3, 5\] at entry 1"):
        nt.stack([nt.zeros(3, 4), nt.zeros(3, 5)])
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 3"):
        nt.stack([nt.zeros(3, 4)], 3)
    with pytest.raises(RuntimeError, match="non-empty TensorList"):
        nt.stack([])


# ----- split / chunk / unbind ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, size, dim", [
    ((5, 3), 2, 0), ((3, 5), [1, 0, 4], -1), ((3, 4), 5, 1), ((0, 2), 2, 0), ((0, 2), 0, 0),
    ((2, 6, 2), (3, 3), 1),
])
def test_split_matches_torch(shape, size, dim, dtype):
    compare(lambda a: nt.split(a, size, dim), lambda a: torch.split(a, size, dim), [rand(*shape)],
            dtype)
    compare(lambda a: a.split(size, dim=dim), lambda a: a.split(size, dim=dim), [rand(*shape)],
            dtype)
    if 0 not in shape:
        assert run_gradcheck(lambda a: nt.split(a, size, dim), [rand(*shape)])


def test_split_unused_pieces_get_zero_gradient():
    # only the middle piece reaches the loss; the engine fills the others' gradient with zeros
    compare(lambda a: nt.split(a, 2)[1] * 3, lambda a: torch.split(a, 2)[1] * 3, [rand(5, 2)])
    x = nt.tensor(rand(5, 2), requires_grad=True)
    _, last = nt.split(x, [4, 1])
    last.sum().backward()
    assert x.grad.tolist() == [[0, 0]] * 4 + [[1, 1]]


def test_split_errors():
    x = nt.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"split_sizes to sum exactly to 4 \(input tensor's size "
                                           r"at dimension 1\), but got split_sizes=\[1, 1\]"):
        nt.split(x, [1, 1], 1)
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0"):
        nt.split(x, 0, 1)
    with pytest.raises(RuntimeError, match="split_size be non-negative, but got split_size=-1"):
        nt.split(x, -1)
    with pytest.raises(RuntimeError, match="non-negative entries"):
        nt.split(x, [1, -1, 3])
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.split(x, 1, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, chunks, dim", [
    ((5,), 3, 0), ((5,), 4, 0), ((2, 6), 4, -1), ((3, 2), 5, 0), ((0, 2), 3, 0), ((4, 2), 1, 1),
])
def test_chunk_matches_torch(shape, chunks, dim, dtype):
    compare(lambda a: nt.chunk(a, chunks, dim), lambda a: torch.chunk(a, chunks, dim),
            [rand(*shape)], dtype)
    compare(lambda a: a.chunk(chunks, dim), lambda a: a.chunk(chunks, dim), [rand(*shape)], dtype)


def test_chunk_errors():
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        nt.chunk(nt.zeros(3), 0)
    with pytest.raises(RuntimeError, match="chunk expects at least a 1-dimensional tensor"):
        nt.chunk(nt.tensor(1.0), 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((3, 4), 0), ((3, 4), -1), ((2, 3, 2), 1), ((0, 2), 0),
                                        ((2, 0), 0)])
def test_unbind_matches_torch(shape, dim, dtype):
    compare(lambda a: nt.unbind(a, dim), lambda a: torch.unbind(a, dim), [rand(*shape)], dtype)
    compare(lambda a: a.unbind(dim), lambda a: a.unbind(dim), [rand(*shape)], dtype)
    if 0 not in shape:
        assert run_gradcheck(lambda a: nt.unbind(a, dim), [rand(*shape)])


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_unbind_slices_are_views_of_the_input_as_in_torch(shape):
    """A 1-D input's slices are 0-d: views too (writing through one writes the input), and a
    leaf's slices refuse an in-place edit in grad mode."""
    seen = []
    for lib in (nt, torch):
        a = lib.zeros(shape)
        a.unbind(0)[1].fill_(1)
        seen.append(a.tolist())
        with pytest.raises(RuntimeError, match="Output 0 of Unbind is a view and is being "
                                               "modified inplace"):
            lib.zeros(shape, requires_grad=True).unbind(0)[0].mul_(2)
    assert seen[0] == seen[1]


def test_unbind_and_iteration():
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        nt.unbind(nt.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(nt.tensor(1.0))
    compare(lambda a: tuple(a), lambda a: tuple(a), [rand(3, 2)])
    assert [r.tolist() for r in nt.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


# ----- unsqueeze / squeeze ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((2, 3), 0), ((2, 3), 2), ((2, 3), -1), ((2, 3), -3),
                                        ((), 0), ((0, 3), 1)])
def test_unsqueeze_matches_torch(shape, dim, dtype):
    compare(lambda a: nt.unsqueeze(a, dim), lambda a: torch.unsqueeze(a, dim), [rand(*shape)],
            dtype)
    compare(lambda a: a.unsqueeze(dim), lambda a: a.unsqueeze(dim), [rand(*shape)], dtype)
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.unsqueeze(nt.tensor(rand(*shape)), len(shape) + 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [
    ((1, 3, 1, 2), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), 1), ((1, 3, 1), (0, 2)),
    ((1, 3, 1), (0, 1)), ((), None), ((), 0), ((1, 0, 1), None), ((2, 3), (-1, -2)),
])
def test_squeeze_matches_torch(shape, dim, dtype):
    if dim is None:
        compare(nt.squeeze, torch.squeeze, [rand(*shape)], dtype)
        compare(lambda a: a.squeeze(), lambda a: a.squeeze(), [rand(*shape)], dtype)
    else:
        compare(lambda a: nt.squeeze(a, dim), lambda a: torch.squeeze(a, dim), [rand(*shape)],
                dtype)
        compare(lambda a: a.squeeze(dim=dim), lambda a: a.squeeze(dim=dim), [rand(*shape)], dtype)


def test_squeeze_errors():
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.squeeze(nt.zeros(1, 3, 1), 3)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        nt.squeeze(nt.zeros(1, 3, 1), (0, 0))


# ----- repeat / tile / flip / roll / narrow -------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, reps", [
    ((2, 3), (2, 1)), ((2, 3), (2, 1, 3)), ((2, 3), (1, 1)), ((2, 3), (0, 2)), ((), (3,)),
    ((3,), (2, 2)), ((0, 2), (2, 3)),
])
def test_repeat_matches_torch(shape, reps, dtype):
    compare(lambda a: a.repeat(*reps), lambda a: a.repeat(*reps), [rand(*shape)], dtype)
    compare(lambda a: a.repeat(reps), lambda a: a.repeat(reps), [rand(*shape)], dtype)
    if 0 not in shape:
        assert run_gradcheck(lambda a: a.repeat(*reps), [rand(*shape)])


def test_repeat_copies_and_errors():
    x = nt.tensor(rand(2, 3))
    y = x.repeat(1, 1)
    y.data[0, 0] = 99.0  # repeat always copies, like PyTorch
    assert x.data[0, 0] != 99.0
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="negative dimension -2"):
        x.repeat(-1, 1)
    with pytest.raises(TypeError, match="missing 1 required positional"):
        x.repeat()


@pytest.mark.parametrize("shape, dims", [((2, 3), (2,)), ((2, 3), (2, 1, 2)), ((2, 3), 3)])
def test_tile_matches_torch(shape, dims):
    compare(lambda a: nt.tile(a, dims), lambda a: torch.tile(a, (dims,) if isinstance(dims, int)
                                                            else dims), [rand(*shape)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dims", [((2, 3), (0,)), ((2, 3, 4), (0, -1)), ((2, 3), ()),
                                         ((3,), (0,)), ((0, 2), (1,))])
def test_flip_matches_torch(shape, dims, dtype):
    compare(lambda a: nt.flip(a, dims), lambda a: torch.flip(a, dims), [rand(*shape)], dtype)
    if dims:  # torch's x.flip() needs at least one dim
        compare(lambda a: a.flip(*dims), lambda a: a.flip(*dims), [rand(*shape)], dtype)
    if 0 not in shape:
        assert run_gradcheck(lambda a: nt.flip(a, dims=dims), [rand(*shape)])


def test_flip_copies_and_errors():
    x = nt.tensor(rand(3))
    y = x.flip(0)
    y.data[0] = 99.0
    assert x.data[2] != 99.0
    with pytest.raises(RuntimeError, match="appears multiple times"):
        nt.flip(nt.zeros(2, 3), (0, 0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.flip(nt.zeros(2, 3), (2,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, shifts, dims", [
    ((3, 4), 1, None), ((3, 4), -5, None), ((3, 4), 1, 0), ((3, 4), (1, -2), (0, 1)),
    ((2, 3, 4), 7, -1), ((3, 4), (2,), (-2,)),
])
def test_roll_matches_torch(shape, shifts, dims, dtype):
    compare(lambda a: nt.roll(a, shifts, dims), lambda a: torch.roll(a, shifts, dims),
            [rand(*shape)], dtype)
    assert run_gradcheck(lambda a: a.roll(shifts, dims), [rand(*shape)])


def test_roll_errors():
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        nt.roll(nt.zeros(3, 4), (1, 2), (0,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, start, length", [(1, 1, 2), (1, -2, 2), (0, 0, 0), (-1, 4, 0),
                                                (0, 3, 0), (0, -3, 3)])
def test_narrow_matches_torch(dim, start, length, dtype):
    compare(lambda a: nt.narrow(a, dim, start, length),
            lambda a: torch.narrow(a, dim, start, length), [rand(3, 4)], dtype)
    compare(lambda a: a.narrow(dim, start, length), lambda a: a.narrow(dim, start, length),
            [rand(3, 4)], dtype)


def test_narrow_errors():
    x = nt.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"start \(2\) \+ length \(3\) exceeds dimension size "
                                           r"\(4\)"):
        nt.narrow(x, 1, 2, 3)
    with pytest.raises(IndexError, match=r"start out of range \(expected to be in range of "
                                         r"\[-4, 4\], but got 5\)"):
        nt.narrow(x, 1, 5, 0)
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        nt.narrow(x, 1, 1, -1)
    with pytest.raises(RuntimeError, match="cannot be applied to a 0-dim tensor"):
        nt.narrow(nt.tensor(1.0), 0, 0, 1)


# ----- double backward ----------------------------------------------------------------------------
def test_cat_split_double_backward():
    check_double_backward(lambda a: nt.cat([a * a, a.sin()], 1),
                          lambda a: torch.cat([a * a, a.sin()], 1), rand(2, 3))
    check_double_backward(lambda a: nt.split(a ** 3, [1, 2], 1)[1],
                          lambda a: torch.split(a ** 3, [1, 2], 1)[1], rand(2, 3))
    check_double_backward(lambda a: nt.stack([a.exp(), a], -1),
                          lambda a: torch.stack([a.exp(), a], -1), rand(2, 3))


def test_repeat_flip_roll_double_backward():
    check_double_backward(lambda a: (a * a).repeat(2, 1, 3), lambda a: (a * a).repeat(2, 1, 3),
                          rand(2, 3))
    check_double_backward(lambda a: nt.roll(nt.flip(a ** 3, (0,)), 1, 1),
                          lambda a: torch.roll(torch.flip(a ** 3, (0,)), 1, 1), rand(2, 3))
