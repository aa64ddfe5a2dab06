"""The products beside matmul (dot, vdot, outer, mv, addmm, addmv, baddbmm, tensordot), trace,
the diagonals (diag, diagonal, diag_embed), tril/triu_indices, and the shape helpers (movedim,
unflatten, tensor_split, hstack / vstack / dstack / column_stack, broadcast_tensors, meshgrid,
cartesian_prod) against PyTorch: values, dtypes, gradients (float64 and float32), the Tensor
methods, and PyTorch's errors."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch, run_gradcheck, same_error

import numpy2gpt as ng


def _arrays(shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _lib(t):
    return ng if isinstance(t, ng.Tensor) else torch


# ----- products ---------------------------------------------------------------------------------
PRODUCTS = [  # (id, fn(*tensors) written the same for both libraries, operand shapes)
    ("dot", lambda a, b: _lib(a).dot(a, b), [(4,), (4,)]),
    ("dot_method", lambda a, b: a.dot(b), [(4,), (4,)]),
    ("vdot", lambda a, b: _lib(a).vdot(a, b), [(4,), (4,)]),
    ("vdot_method", lambda a, b: a.vdot(b), [(4,), (4,)]),
    ("outer", lambda a, b: _lib(a).outer(a, b), [(3,), (4,)]),
    ("outer_method", lambda a, b: a.outer(b), [(3,), (4,)]),
    ("mv", lambda a, b: _lib(a).mv(a, b), [(3, 4), (4,)]),
    ("mv_method", lambda a, b: a.mv(b), [(3, 4), (4,)]),
    ("addmm", lambda x, a, b: _lib(x).addmm(x, a, b), [(2, 4), (2, 3), (3, 4)]),
    ("addmm_row_bias", lambda x, a, b: _lib(x).addmm(x, a, b, beta=0.5, alpha=2.0),
     [(4,), (2, 3), (3, 4)]),
    ("addmm_scalar_bias", lambda x, a, b: x.addmm(a, b, alpha=-1.5), [(), (2, 3), (3, 4)]),
    ("addmm_beta0", lambda x, a, b: _lib(x).addmm(x, a, b, beta=0), [(2, 4), (2, 3), (3, 4)]),
    ("addmv", lambda x, a, b: _lib(x).addmv(x, a, b, beta=2.0, alpha=0.5), [(2,), (2, 3), (3,)]),
    ("addmv_broadcast", lambda x, a, b: x.addmv(a, b), [(1,), (2, 3), (3,)]),
    ("baddbmm", lambda x, a, b: _lib(x).baddbmm(x, a, b), [(5, 2, 4), (5, 2, 3), (5, 3, 4)]),
    ("baddbmm_broadcast", lambda x, a, b: x.baddbmm(a, b, beta=-1.0, alpha=0.25),
     [(1, 4), (5, 2, 3), (5, 3, 4)]),
    ("tensordot_2", lambda a, b: _lib(a).tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    ("tensordot_1", lambda a, b: _lib(a).tensordot(a, b, 1), [(2, 3, 4), (4, 5)]),
    ("tensordot_0", lambda a, b: _lib(a).tensordot(a, b, dims=0), [(2, 3), (4,)]),
    ("tensordot_lists", lambda a, b: _lib(a).tensordot(a, b, dims=([1, 2], [1, 0])),
     [(2, 3, 4), (4, 3, 5)]),
    ("tensordot_negative", lambda a, b: _lib(a).tensordot(a, b, dims=[[-1], [0]]),
     [(2, 3, 4), (4, 3, 5)]),
    ("tensordot_size1", lambda a, b: _lib(a).tensordot(a, b, dims=1), [(2, 1), (3, 4)]),
    ("tensordot_tensor_dims",
     lambda a, b: _lib(a).tensordot(a, b, dims=_lib(a).tensor([[2], [0]])), [(2, 3, 4), (4, 5)]),
    ("trace", lambda a: _lib(a).trace(a), [(3, 4)]),
    ("trace_method", lambda a: a.trace(), [(4, 3)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn,shapes", [c[1:] for c in PRODUCTS], ids=[c[0] for c in PRODUCTS])
def test_products_match_torch(fn, shapes, dtype):
    ours, *_ = check_against_torch(fn, fn, _arrays(shapes, dtype))
    assert ours[0].dtype == dtype


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in PRODUCTS if "beta0" not in c[0]],
                         ids=[c[0] for c in PRODUCTS if "beta0" not in c[0]])
def test_products_gradcheck(fn, shapes):
    assert run_gradcheck(fn, _arrays(shapes))


def test_beta_zero_ignores_nan_in_input():
    """PyTorch: with beta=0, input is ignored, its NaN and inf included; its gradient is 0."""
    nan = np.full((2, 4), np.nan)
    a, b = _arrays([(2, 3), (3, 4)])
    check_against_torch(lambda x, p, q: _lib(x).addmm(x, p, q, beta=0),
                        lambda x, p, q: torch.addmm(x, p, q, beta=0), [nan, a, b])
    check_against_torch(lambda x, p, q: _lib(x).addmv(x, p, q, beta=0),
                        lambda x, p, q: torch.addmv(x, p, q, beta=0), [nan[0, :2], a, b[:, 0]])
    check_against_torch(lambda x, p, q: _lib(x).baddbmm(x, p, q, beta=0),
                        lambda x, p, q: torch.baddbmm(x, p, q, beta=0),
                        [nan[None], a[None], b[None]])


def test_integer_products():
    """Integer products stay integer; beta and alpha are truncated to ints, as in PyTorch."""
    ones = np.ones
    cases = [
        (lambda L, x, a, b: L.addmm(x, a, b, beta=2.5, alpha=1.5), [(2, 4), (2, 3), (3, 4)]),
        (lambda L, x, a, b: L.addmv(x, a, b, beta=2, alpha=3), [(2,), (2, 3), (3,)]),
        (lambda L, x, a, b: L.baddbmm(x, a, b, beta=2.5), [(1, 2, 4), (1, 2, 3), (1, 3, 4)]),
    ]
    for fn, shapes in cases:
        arrays = [ones(s, dtype=np.int64) * (k + 2) for k, s in enumerate(shapes)]
        check_against_torch(lambda *xs, f=fn: f(ng, *xs), lambda *xs, f=fn: f(torch, *xs), arrays)
    v = np.arange(4)
    for fn in (lambda L, a, b: L.dot(a, b), lambda L, a, b: L.tensordot(a, b, 1),
               lambda L, a, b: L.outer(a, b), lambda L, a, b: L.outer(a, b.float())):
        check_against_torch(lambda a, b, f=fn: f(ng, a, b), lambda a, b, f=fn: f(torch, a, b),
                            [v, v])
    check_against_torch(ng.trace, torch.trace, [np.arange(9, dtype=np.int32).reshape(3, 3)])


PRODUCT_ERRORS = [
    lambda L: L.dot(L.zeros(3), L.zeros(4)),
    lambda L: L.dot(L.zeros(3, 1), L.zeros(3)),
    lambda L: L.dot(L.zeros(3), L.zeros(3, dtype=L.float64)),
    lambda L: L.dot(L.zeros(1, dtype=L.bool), L.zeros(1, dtype=L.bool)),
    lambda L: L.vdot(L.zeros(3), L.zeros(4)),
    lambda L: L.outer(L.zeros(3, 2), L.zeros(4)),
    lambda L: L.outer(L.zeros(3), L.zeros(())),
    lambda L: L.outer(L.zeros(3), 2.0),
    lambda L: L.mv(L.zeros(2, 3), L.zeros(4)),
    lambda L: L.mv(L.zeros(3), L.zeros(3)),
    lambda L: L.mv(L.zeros(2, 3), L.zeros(3, dtype=L.float64)),
    lambda L: L.addmm(L.zeros(3, 4), L.zeros(2, 3), L.zeros(3, 4)),
    lambda L: L.addmm(L.zeros(2, 4), L.zeros(3), L.zeros(3, 4)),
    lambda L: L.addmm(L.zeros(2, 4), L.zeros(2, 3), L.zeros(3, 4, 1)),
    lambda L: L.addmm(L.zeros(2, 4, dtype=L.float64), L.zeros(2, 3), L.zeros(3, 4)),
    lambda L: L.addmm(L.zeros(2, 4), L.zeros(2, 3, dtype=L.float64), L.zeros(3, 4)),
    lambda L: L.addmm(L.zeros(2, 4), L.zeros(2, 3), L.zeros(3, 4, dtype=L.float64)),
    lambda L: L.addmm(*[L.zeros(s, dtype=L.bool) for s in ((2, 4), (2, 3), (3, 4))]),
    lambda L: L.addmv(L.zeros(3), L.zeros(2, 3), L.zeros(3)),
    lambda L: L.addmv(L.zeros(2, 1), L.zeros(2, 3), L.zeros(3)),
    lambda L: L.addmv(L.zeros(2, dtype=L.float64), L.zeros(2, 3), L.zeros(3)),
    lambda L: L.baddbmm(L.zeros(3, 2, 4), L.zeros(5, 2, 3), L.zeros(5, 3, 4)),
    lambda L: L.baddbmm(L.zeros(5, 2, 4), L.zeros(5, 2, 3), L.zeros(4, 3, 4)),
    lambda L: L.baddbmm(L.zeros(5, 2, 4), L.zeros(5, 2, 3), L.zeros(5, 4, 4)),
    lambda L: L.baddbmm(L.zeros(5, 2, 4), L.zeros(5, 2, 3), L.zeros(5, 3, 4, dtype=L.float64)),
    lambda L: L.baddbmm(L.zeros(5, 2, 4, dtype=L.float64), L.zeros(5, 2, 3), L.zeros(5, 3, 4)),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=-1),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=4),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=2),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=([1, 2], [1])),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=([5], [0])),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=([2, 2], [0, 0])),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=(2, 0)),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5), dims=1.5),
    lambda L: L.tensordot(L.zeros(2, 3, 4), L.zeros(4, 3, 5, dtype=L.float64), dims=1),
    lambda L: L.trace(L.zeros(3)),
    lambda L: L.trace(L.zeros(3, 3, dtype=L.bool)),
]


@pytest.mark.parametrize("fn", PRODUCT_ERRORS)
def test_product_errors_match_torch(fn):
    same_error(fn)


# ----- diagonals and triangles ------------------------------------------------------------------
DIAGONALS = [
    ("diag_vector", lambda a: _lib(a).diag(a), [(3,)]),
    ("diag_vector_above", lambda a: a.diag(1), [(3,)]),
    ("diag_vector_below", lambda a: _lib(a).diag(a, diagonal=-2), [(3,)]),
    ("diag_matrix", lambda a: _lib(a).diag(a), [(3, 4)]),
    ("diag_matrix_offsets", lambda a: a.diag(2) + a.diag(-1).sum(), [(3, 4)]),
    ("diag_matrix_off_the_end", lambda a: a.diag(5), [(3, 4)]),
    ("diagonal", lambda a: _lib(a).diagonal(a), [(3, 4)]),
    ("diagonal_offset", lambda a: a.diagonal(offset=-1), [(3, 4)]),
    ("diagonal_dims", lambda a: _lib(a).diagonal(a, 0, 0, 2), [(2, 3, 4)]),
    ("diagonal_dims_reversed", lambda a: a.diagonal(1, -1, 0), [(2, 3, 4)]),
    ("diag_embed", lambda a: _lib(a).diag_embed(a), [(2, 3)]),
    ("diag_embed_offset_dims", lambda a: a.diag_embed(-1, 0, 2), [(2, 3)]),
    ("diag_embed_vector", lambda a: a.diag_embed(offset=2), [(3,)]),
    ("diagonal_of_diag_embed", lambda a: _lib(a).diag_embed(a, 1).diagonal(1, -2, -1), [(2, 3)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn,shapes", [c[1:] for c in DIAGONALS], ids=[c[0] for c in DIAGONALS])
def test_diagonals_match_torch(fn, shapes, dtype):
    check_against_torch(fn, fn, _arrays(shapes, dtype))


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in DIAGONALS], ids=[c[0] for c in DIAGONALS])
def test_diagonals_gradcheck(fn, shapes):
    assert run_gradcheck(fn, _arrays(shapes))


def test_diagonal_is_a_view():
    """diagonal shares memory: a write through it reaches the input, also in the graph."""
    a = np.arange(12.0).reshape(3, 4)
    results = []
    for lib in (ng, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x * 1.0
        d = y.diagonal(1)
        d.mul_(10.0)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)
    x = ng.tensor(a)
    assert not np.may_share_memory(ng.diag(x).numpy(), x.numpy())  # diag of a matrix: a copy


def test_diag_of_integers():
    check_against_torch(ng.diag, torch.diag, [np.arange(3)])
    check_against_torch(lambda a: a.diagonal(), lambda a: a.diagonal(),
                        [np.arange(6).reshape(2, 3)])


@pytest.mark.parametrize("args", [(3, 3), (3, 4, 1), (3, 4, -1), (3, 4, -10), (4, 3, 10),
                                  (0, 4), (1, 1)], ids=str)
def test_triangle_indices(args):
    for name in ("tril_indices", "triu_indices"):
        ours, theirs = getattr(ng, name)(*args), getattr(torch, name)(*args)
        assert ours.dtype == ng.int64 and ours.shape == tuple(theirs.shape)
        assert ours.tolist() == theirs.tolist()
    ours = ng.triu_indices(*args, dtype=ng.int32)
    assert ours.dtype == ng.int32
    assert ours.tolist() == torch.triu_indices(*args, dtype=torch.int32).tolist()


DIAGONAL_ERRORS = [
    lambda L: L.diag(L.zeros(())),
    lambda L: L.diag(L.zeros(2, 3, 4)),
    lambda L: L.diag(L.zeros(3), 1.0),
    lambda L: L.diagonal(L.zeros(2, 3, 4), 0, 1, 1),
    lambda L: L.diagonal(L.zeros(2, 3, 4), 0, -1, 2),
    lambda L: L.diagonal(L.zeros(2, 3, 4), 0, 1, 3),
    lambda L: L.diagonal(L.zeros(3)),
    lambda L: L.diagonal(L.zeros(())),
    lambda L: L.diag_embed(L.zeros(2, 3), 0, 1, 1),
    lambda L: L.diag_embed(L.zeros(2, 3), 0, 1, 3),
    lambda L: L.diag_embed(L.zeros(())),
    lambda L: L.tril_indices(-1, 4),
    lambda L: L.triu_indices(3, -4),
    lambda L: L.tril_indices(3.0, 3),
    lambda L: L.tril_indices(3, 3, dtype=L.float32),
    lambda L: L.triu_indices(3, 3, dtype=L.int16),
]


@pytest.mark.parametrize("fn", DIAGONAL_ERRORS)
def test_diagonal_errors_match_torch(fn):
    same_error(fn)


# ----- shape helpers ----------------------------------------------------------------------------
SHAPE_OPS = [
    ("movedim", lambda a: _lib(a).movedim(a, 0, 2), [(2, 3, 4)]),
    ("movedim_tuples", lambda a: _lib(a).movedim(a, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("movedim_negative", lambda a: a.movedim(-1, 0), [(2, 3, 4)]),
    ("movedim_lists", lambda a: a.movedim([0, -1], [-1, 1]), [(2, 3, 4, 5)]),
    ("moveaxis", lambda a: _lib(a).moveaxis(a, 1, -1), [(2, 3, 4)]),
    ("moveaxis_method", lambda a: a.moveaxis((0,), (1,)), [(2, 3, 4)]),
    ("unflatten", lambda a: _lib(a).unflatten(a, 1, (3, 4)), [(2, 12)]),
    ("unflatten_infer", lambda a: a.unflatten(-1, (2, -1, 3)), [(2, 12)]),
    ("unflatten_keywords", lambda a: a.unflatten(dim=0, sizes=[1, 2]), [(2, 12)]),
    ("tensor_split_sections", lambda a: _lib(a).tensor_split(a, 3), [(7, 2)]),
    ("tensor_split_more_sections", lambda a: a.tensor_split(5), [(2,)]),
    ("tensor_split_indices", lambda a: a.tensor_split([1, 5], dim=1), [(2, 7)]),
    ("tensor_split_python_slices", lambda a: _lib(a).tensor_split(a, (5, 1, -2, 9)), [(7,)]),
    ("tensor_split_keyword", lambda a: a.tensor_split(sections=2, dim=-1), [(3, 7)]),
    ("tensor_split_tensor", lambda a: a.tensor_split(_lib(a).tensor([2, 4])), [(7,)]),
    ("tensor_split_tensor_sections", lambda a: a.tensor_split(_lib(a).tensor(3)), [(7,)]),
    ("hstack_vectors", lambda a, b: _lib(a).hstack([a, b]), [(3,), (2,)]),
    ("hstack_matrices", lambda a, b: _lib(a).hstack((a, b)), [(2, 3), (2, 1)]),
    ("hstack_scalars", lambda a, b: _lib(a).hstack([a, b]), [(), ()]),
    ("vstack_vectors", lambda a, b: _lib(a).vstack([a, b]), [(3,), (3,)]),
    ("vstack_mixed", lambda a, b: _lib(a).vstack([a, b]), [(3,), (2, 3)]),
    ("vstack_scalars", lambda a, b: _lib(a).vstack([a, b]), [(), ()]),
    ("dstack_vectors", lambda a, b: _lib(a).dstack([a, b]), [(3,), (3,)]),
    ("dstack_matrices", lambda a, b: _lib(a).dstack([a, b]), [(2, 3), (2, 3, 2)]),
    ("dstack_scalars", lambda a, b: _lib(a).dstack([a, b]), [(), ()]),
    ("column_stack", lambda a, b: _lib(a).column_stack([a, b]), [(3,), (3, 2)]),
    ("column_stack_scalar", lambda a, b: _lib(a).column_stack([a, b]), [(), (1, 2)]),
    ("column_stack_3d", lambda a, b: _lib(a).column_stack([a, b]), [(2, 3, 4), (2, 1, 4)]),
    ("broadcast_tensors", lambda a, b, c: _lib(a).broadcast_tensors(a, b, c),
     [(3, 1), (4,), (2, 1, 1)]),
    ("broadcast_tensors_one", lambda a: _lib(a).broadcast_tensors(a), [(3, 1)]),
    ("meshgrid_ij", lambda a, b: _lib(a).meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    ("meshgrid_xy", lambda a, b: _lib(a).meshgrid(a, b, indexing="xy"), [(3,), (4,)]),
    ("meshgrid_xy_3", lambda a, b, c: _lib(a).meshgrid([a, b, c], indexing="xy"),
     [(3,), (4,), (2,)]),
    ("meshgrid_scalar", lambda a, b: _lib(a).meshgrid(a, b, indexing="ij"), [(), (2,)]),
    ("meshgrid_one", lambda a: _lib(a).meshgrid(a, indexing="xy"), [(3,)]),
    ("cartesian_prod", lambda a, b: _lib(a).cartesian_prod(a, b), [(3,), (4,)]),
    ("cartesian_prod_3", lambda a, b, c: _lib(a).cartesian_prod(a, b, c), [(3,), (2,), (2,)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn,shapes", [c[1:] for c in SHAPE_OPS], ids=[c[0] for c in SHAPE_OPS])
def test_shape_helpers_match_torch(fn, shapes, dtype):
    ours, theirs, *_ = check_against_torch(fn, fn, _arrays(shapes, dtype))
    # the same container: a tuple of pieces, or one tensor
    assert isinstance(fn(*[ng.tensor(a) for a in _arrays(shapes, dtype)]), tuple) == \
        isinstance(fn(*[torch.tensor(a) for a in _arrays(shapes, dtype)]), tuple)


def test_shape_helpers_keep_integer_dtypes_and_promote_when_joining():
    v = np.arange(3)
    check_against_torch(lambda a: a.movedim(0, 0), lambda a: a.movedim(0, 0), [v])
    check_against_torch(lambda a, b: _lib(a).hstack([a, b]), lambda a, b: torch.hstack([a, b]),
                        [v, v.astype(np.float32)])
    check_against_torch(lambda a, b: _lib(a).cartesian_prod(a, b),
                        lambda a, b: torch.cartesian_prod(a, b), [v, v])
    check_against_torch(lambda a, b: _lib(a).broadcast_tensors(a, b),
                        lambda a, b: torch.broadcast_tensors(a, b), [v, v.astype(np.float64)])


def test_views_share_memory():
    x = ng.arange(24.0).reshape(2, 3, 4)
    for y in (x.movedim(0, 2), x.unflatten(2, (2, 2)), x.tensor_split(2, dim=1)[1],
              ng.broadcast_tensors(x, ng.zeros(5, 1, 1, 1))[0],
              ng.meshgrid(x[0, 0], x[1, 0], indexing="ij")[0]):
        assert np.may_share_memory(y.numpy(), x.numpy())


def test_cartesian_prod_of_one_vector_is_that_vector():
    a = ng.tensor([1.0, 2.0])
    assert ng.cartesian_prod(a) is a


def test_meshgrid_warns_without_indexing_like_torch():
    a = np.arange(3.0)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        ours = ng.meshgrid(ng.tensor(a), ng.tensor(a[:2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.meshgrid(torch.tensor(a), torch.tensor(a[:2]))
    assert [g.tolist() for g in ours] == [g.tolist() for g in theirs]  # "ij"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ng.meshgrid(ng.tensor(a), indexing="ij")


SHAPE_ERRORS = [
    lambda L: L.movedim(L.zeros(2, 3, 4), (0, 1), (2,)),
    lambda L: L.movedim(L.zeros(2, 3, 4), (0, 0), (2, 1)),
    lambda L: L.movedim(L.zeros(2, 3, 4), (0, 1), (2, 2)),
    lambda L: L.movedim(L.zeros(2, 3, 4), (-3, 0), (1, 2)),
    lambda L: L.movedim(L.zeros(2, 3, 4), 3, 0),
    lambda L: L.movedim(L.zeros(2, 3, 4), 0, -4),
    lambda L: L.unflatten(L.zeros(2, 12), 1, (5, -1)),
    lambda L: L.unflatten(L.zeros(2, 12), 1, (5, 2)),
    lambda L: L.unflatten(L.zeros(2, 12), 1, ()),
    lambda L: L.unflatten(L.zeros(2, 12), 2, (3, 4)),
    lambda L: L.unflatten(L.zeros(2, 12), 1, 12),
    lambda L: L.unflatten(L.zeros(2, 12), 1.0, (3, 4)),
    lambda L: L.tensor_split(L.zeros(7), 0),
    lambda L: L.tensor_split(L.zeros(7), -1),
    lambda L: L.tensor_split(L.zeros(()), 2),
    lambda L: L.tensor_split(L.zeros(7), 3, 1),
    lambda L: L.tensor_split(L.zeros(7), L.tensor([1.0, 5.0])),
    lambda L: L.tensor_split(L.zeros(7), L.tensor([[1, 5]])),
    lambda L: L.hstack([]),
    lambda L: L.vstack([]),
    lambda L: L.dstack([]),
    lambda L: L.column_stack([]),
    lambda L: L.hstack(L.zeros(2, 3)),
    lambda L: L.vstack([L.zeros(3), 1.0]),
    lambda L: L.broadcast_tensors(L.zeros(3), 2.0),
    lambda L: L.meshgrid(L.zeros(2), L.zeros(2, dtype=L.float64), indexing="ij"),
    lambda L: L.meshgrid(L.zeros(2), L.zeros(2), indexing="foo"),
    lambda L: L.meshgrid([], indexing="ij"),
    lambda L: L.meshgrid(L.zeros(2), 3, indexing="ij"),
    lambda L: L.cartesian_prod(L.zeros(3, 1), L.zeros(2)),
    lambda L: L.cartesian_prod(L.zeros(()), L.zeros(2)),
    lambda L: L.cartesian_prod(),
]


@pytest.mark.parametrize("fn", SHAPE_ERRORS)
def test_shape_errors_match_torch(fn):
    same_error(fn)


def test_errors_worded_by_numpy2gpt():
    """Where PyTorch's message comes from deep inside (or is a long overload listing), the type
    is PyTorch's and the message says what is wrong."""
    with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match"):
        ng.broadcast_tensors(ng.zeros(3), ng.zeros(4))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        ng.hstack([ng.zeros(2, 3), ng.zeros(3, 3)])
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        ng.unflatten(ng.zeros(2, 12), 1, (-1, -1))
    with pytest.raises(TypeError, match="both be ints or both be tuples"):
        ng.movedim(ng.zeros(2, 3), 0, (1,))
    with pytest.raises(RuntimeError, match="batch2 must be a 3D tensor"):
        ng.baddbmm(ng.zeros(5, 2, 4), ng.zeros(5, 2, 3), ng.zeros(3, 4))
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        ng.meshgrid(ng.zeros(2, 2), ng.zeros(2), indexing="ij")
