"""einsum against PyTorch: many equations (products, batched and attention-style products,
transposes, traces, diagonals, sums, ellipsis broadcasting, size-1 broadcasting), float64 and
float32 values and gradients, second derivatives, the list and sublist call forms, integer and
bool operands, and PyTorch's errors for bad equations and operands."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, run_gradcheck, same_error

import numpy2gpt as ng

EQUATIONS = [  # (equation, operand shapes)
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # matmul
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: the letters used once, alphabetically
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),  # batched matmul
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),  # attention scores
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),  # attention output
    ("i,j->ij", [(3,), (4,)]),  # outer product
    ("i,i->", [(5,), (5,)]),  # dot
    ("ij,j->i", [(3, 4), (4,)]),  # matrix @ vector
    ("ij->ji", [(2, 3)]),  # transpose
    ("ba", [(2, 3)]),  # implicit transpose
    ("ijk->kij", [(2, 3, 4)]),  # permute
    ("ii->", [(3, 3)]),  # trace
    ("ii", [(3, 3)]),  # implicit trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("bii->bi", [(2, 3, 3)]),  # batched diagonal
    ("iij->j", [(3, 3, 2)]),  # repeated letter and a sum
    ("iji->j", [(3, 2, 3)]),  # repeated letter, not adjacent
    ("ijij->ij", [(2, 3, 2, 3)]),  # two repeated letters
    ("ii,i->i", [(3, 3), (3,)]),  # a diagonal times a vector
    ("ij,jj->ij", [(2, 3), (3, 3)]),  # the diagonal of the second operand
    ("ij->", [(2, 3)]),  # sum of all
    ("ij->j", [(2, 3)]),  # sum over rows
    ("ijk->j", [(2, 3, 4)]),  # sum over two dims
    ("ij,ij->ij", [(2, 3), (2, 3)]),  # elementwise product
    ("ij,ij->i", [(2, 3), (2, 3)]),  # row-wise dot
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),  # chain of three
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),  # bilinear
    ("i,jk->ijk", [(2,), (3, 4)]),  # nothing summed
    ("ij,k->", [(2, 3), (4,)]),  # each operand summed on its own
    ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 4)]),  # ellipsis, broadcast batch dims
    ("...ij,...jk", [(2, 2, 3), (3, 4)]),  # implicit output keeps the ellipsis first
    ("i...j->j...", [(3, 4, 5)]),  # ellipsis in the middle
    ("i...j->j", [(3, 4, 5)]),  # ellipsis dims summed away
    ("...,...->...", [(2, 1), (3,)]),  # elementwise, broadcast
    ("...i,...i->...", [(3, 4), (2, 1, 4)]),  # batched dot, broadcast
    ("b...d,bd->b...", [(2, 3, 4, 5), (2, 5)]),
    ("ij->...", [(2, 3)]),  # an output ellipsis that covers no dims
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # a size-1 dim broadcasts against a larger one
    ("i,i", [(3,), (1,)]),
    ("ii,i->i", [(1, 1), (3,)]),  # a broadcast diagonal
    ("ij,jk->ik", [(2, 0), (0, 4)]),  # empty contraction: zeros
    ("i,j->ij", [(0,), (3,)]),  # empty output
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),  # spaces
    ("Ab,bC->AC", [(2, 3), (3, 4)]),  # capital letters
    ("bA", [(2, 3)]),  # capitals come first in the implicit output
    ("", [()]),  # a scalar
    ("i,->i", [(3,), ()]),  # times a scalar
    ("bik,kj->bij", [(4, 32, 32), (32, 32)]),  # large enough for the optimized contraction
]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_matches_torch(equation, shapes, dtype):
    ours, *_ = check_against_torch(lambda *xs: ng.einsum(equation, *xs),
                                   lambda *xs: torch.einsum(equation, *xs),
                                   _arrays(shapes, dtype))
    assert ours[0].dtype == dtype  # float32 stays float32, also in the gradients (checked above)


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("ij->j", [(2, 3)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]), ("ij,jj->ij", [(2, 3), (3, 3)]),
], ids=str)
def test_einsum_gradcheck(equation, shapes):
    assert run_gradcheck(lambda *xs: ng.einsum(equation, *xs), _arrays(shapes, np.float64))


@pytest.mark.parametrize("equation,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii,i->i", [(3, 3), (3,)]), ("ij,ij->", [(2, 3), (2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
], ids=str)
def test_einsum_second_derivatives(equation, shapes):
    """The backward is made of einsums (and reshape / expand), so it is differentiable:
    d/da and d/db of <w, dL/da> for L = <v, einsum(a, b)>, against PyTorch."""
    arrays = _arrays(shapes, np.float64)
    results = []
    for lib in (ng, torch):
        a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
        y = lib.einsum(equation, a, b)
        v = lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
        (ga,) = lib.autograd.grad((y * v).sum(), a, create_graph=True)
        w = lib.tensor(np.random.default_rng(2).standard_normal(arrays[0].shape))
        gaa, gab = lib.autograd.grad((ga * w).sum(), (a, b), allow_unused=True)
        results.append((ga, gaa, gab))
    for ours, theirs in zip(*results):
        if theirs is None:  # (d2/da2 of a product linear in a is structurally zero)
            assert ours is None or not np.any(ours.detach().numpy())
        else:
            assert_close(ours, theirs)


def test_einsum_only_some_operands_require_grad():
    a, b, c = _arrays([(2, 3), (3, 4), (4,)], np.float64)
    for mask in ([True, False, False], [False, True, False], [False, False, True]):
        check_against_torch(lambda *xs: ng.einsum("ij,jk,k->i", *xs),
                            lambda *xs: torch.einsum("ij,jk,k->i", *xs), [a, b, c],
                            requires_grad=mask)


def test_einsum_call_forms():
    """(equation, *operands), (equation, [operands]), (equation, (operands)) and the sublist
    form (op, [0, 1], op, [1, 2], [0, 2]), with or without its output list and with Ellipsis."""
    a, b = _arrays([(2, 3), (3, 4)], np.float64)
    forms = [
        lambda lib, x, y: lib.einsum("ij,jk->ik", [x, y]),
        lambda lib, x, y: lib.einsum("ij,jk->ik", (x, y)),
        lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2], [0, 2]),
        lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2]),
        lambda lib, x, y: lib.einsum(x, [30, 1], y, [1, 27]),  # lowercase letters
        lambda lib, x, y: lib.einsum(x, [..., 1], y, [1, 2], [..., 2]),
    ]
    for form in forms:
        check_against_torch(lambda x, y, f=form: f(ng, x, y),
                            lambda x, y, f=form: f(torch, x, y), [a, b])


def test_einsum_integer_and_bool_operands():
    a = np.arange(6).reshape(2, 3)
    for dtype in (np.int64, np.int32):
        check_against_torch(lambda x, y: ng.einsum("ij,jk->ik", x, y),
                            lambda x, y: torch.einsum("ij,jk->ik", x, y),
                            [a.astype(dtype), a.T.astype(dtype)])
    m = a % 2 == 0
    for equation, ops in (("ij,ij->ij", [m, m]), ("ij->ji", [m]), ("i,j->ij", [m[0], m[1]])):
        # nothing summed: bool in, bool out
        check_against_torch(lambda *xs, e=equation: ng.einsum(e, *xs),
                            lambda *xs, e=equation: torch.einsum(e, *xs), ops)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        ng.einsum("ij,jk->ik", ng.tensor(m), ng.tensor(m.T))


def test_einsum_result_is_a_new_tensor():
    """NumPy gives a view for "ij->ji" and "ii->i"; writing into the result must not change the
    operand behind autograd's back, so the result has its own memory."""
    x = ng.tensor(np.arange(9.0).reshape(3, 3))
    for equation in ("ij->ji", "ii->i", "ij->ij"):
        y = ng.einsum(equation, x)
        y.fill_(-1.0)
        assert x.tolist() == np.arange(9.0).reshape(3, 3).tolist()


def test_einsum_optimized_contraction_equals_plain_einsum():
    """Large products go through np.einsum(optimize=True) (BLAS); same values as the plain
    summation, up to rounding."""
    a, b, c = _arrays([(16, 40), (40, 40), (40, 16)], np.float64)
    y = ng.einsum("ij,jk,kl->il", ng.tensor(a), ng.tensor(b), ng.tensor(c))
    np.testing.assert_allclose(y.numpy(), np.einsum("ij,jk,kl->il", a, b, c, optimize=False),
                               rtol=1e-12)


def test_einsum_float32_stays_float32_through_backward():
    a, b = (ng.tensor(x, requires_grad=True) for x in _arrays([(3, 3), (3,)], np.float32))
    y = ng.einsum("ii,i->", a, b)
    assert y.dtype == ng.float32
    y.backward()
    assert a.grad.dtype == ng.float32 and b.grad.dtype == ng.float32


BAD = [  # (equation, operand shapes): each raises PyTorch's error
    ("ij,jk->ik", [(2, 3)]),  # fewer operands
    ("ij->ij", [(2, 3), (2, 3)]),  # more operands
    ("ijk,jk->ik", [(2, 3), (3, 4)]),  # subscripts vs dims
    ("i...jk", [(2, 3)]),  # more subscripts than dims, with an ellipsis
    ("ij,jk->ikl", [(2, 3), (3, 4)]),  # output letter not in the inputs
    ("ij,jk->iik", [(2, 3), (3, 4)]),  # output letter twice
    ("i1,1k->ik", [(2, 3), (3, 4)]),  # not a letter
    ("ij,jk-ik", [(2, 3), (3, 4)]),  # a lone '-'
    ("ij,jk>ik", [(2, 3), (3, 4)]),  # a lone '>'
    ("ij,jk->ik->", [(2, 3), (3, 4)]),  # two arrows
    ("ij,jk->i,k", [(2, 3), (3, 4)]),  # ',' in the output
    ("i j,jk - > ik", [(2, 3), (3, 4)]),  # a space inside the arrow
    ("i..->...", [(3, 4, 5)]),  # two dots
    ("i......->...", [(3, 4, 5)]),  # two ellipses in an operand
    ("ij->i...j...", [(2, 3)]),  # two ellipses in the output
    ("ij->..", [(2, 3)]),
    ("ii->i", [(3, 4)]),  # a repeated letter with two sizes
    ("ij,jk->ik", [(2, 3), (4, 4)]),  # sizes that do not broadcast
    ("ij,jk,kk->i", [(2, 3), (4, 5), (5, 6)]),  # the first error in operand order
    ("...ij,...jk->...ik", [(5, 2, 2, 3), (4, 3, 4)]),  # ellipsis dims that do not broadcast
    ("...,...,...->...", [(2, 1), (1, 3), (4, 1)]),
]


@pytest.mark.parametrize("equation,shapes", BAD, ids=[e for e, _ in BAD])
def test_einsum_errors_match_torch(equation, shapes):
    same_error(lambda lib: lib.einsum(equation, *[lib.zeros(s) for s in shapes]))


def test_einsum_argument_errors_match_torch():
    same_error(lambda lib: lib.einsum("ij,jk->ik"))  # no operand
    same_error(lambda lib: lib.einsum("i", []))
    same_error(lambda lib: lib.einsum(3, lib.zeros(2)))  # not an equation
    same_error(lambda lib: lib.einsum("ij,j", lib.zeros(2, 3), 3.0))  # not a tensor
    same_error(lambda lib: lib.einsum("ij,jk->ik", [lib.zeros(2, 3)], lib.zeros(3, 4)))
    same_error(lambda lib: lib.einsum(lib.zeros(2, 3), [0, 60]))  # sublist out of range
    same_error(lambda lib: lib.einsum("ij,jk", lib.zeros(2, 3), lib.zeros(3, 4).double()))
    same_error(lambda lib: lib.einsum("ij,jk", lib.zeros(2, 3).long(), lib.zeros(3, 4)))
