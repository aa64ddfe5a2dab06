"""unfold, select, swapdims, ravel, type_as, fliplr/flipud, rot90, diff, atleast_Nd,
broadcast_shapes, block_diag, combinations, logspace, searchsorted/bucketize/isin and
set_printoptions, against PyTorch: values, dtypes, gradients (and second derivatives), errors."""

import numpy as np
import pytest
import torch
from torch_compare import both, check_against_torch, check_double_backward, rand, same_error

import numpy2gpt as ng


@pytest.mark.parametrize("dim,size,step", [(0, 2, 1), (1, 3, 2), (-1, 1, 1), (1, 5, 5),
                                           (0, 3, 4), (1, 0, 1)])
def test_unfold_values_and_gradients(dim, size, step):
    check_against_torch(lambda x: x.unfold(dim, size, step), lambda x: x.unfold(dim, size, step),
                        [rand(4, 5, 2)])
    check_double_backward(lambda x: x.unfold(dim, size, step) ** 2,
                          lambda x: x.unfold(dim, size, step) ** 2, rand(4, 5, 2))


def test_unfold_is_a_view_and_its_errors():
    for lib in (ng, torch):
        x = lib.arange(6.0)
        x.unfold(0, 2, 2)[1, 0] = 10  # written through to x, as PyTorch's view
        assert x[2].item() == 10
    assert both(lambda lib: lib.tensor(3.0).unfold(0, 1, 1).shape)[0] == (1,)
    for call in (lambda lib: lib.ones(3).unfold(0, 4, 1), lambda lib: lib.ones(3).unfold(0, 2, 0),
                 lambda lib: lib.ones(3).unfold(1, 2, 1), lambda lib: lib.ones(3).unfold(0, -1, 1)):
        same_error(call)


def test_select_swapdims_ravel_type_as():
    x = rand(3, 4, 2)
    check_against_torch(lambda x: x.select(1, -1), lambda x: x.select(1, -1), [x])
    check_against_torch(lambda x: ng.select(x, 0, 2), lambda x: torch.select(x, 0, 2), [x])
    check_against_torch(lambda x: x.swapdims(0, 2), lambda x: x.swapdims(0, 2), [x])
    check_against_torch(lambda x: ng.swapdims(x, 1, 0), lambda x: torch.swapdims(x, 1, 0), [x])
    check_against_torch(lambda x: ng.ravel(x.mT), lambda x: torch.ravel(x.mT), [x])
    ours, theirs = both(lambda lib: lib.ones(2).type_as(lib.tensor([1], dtype=lib.int32)))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    for call in (lambda lib: lib.ones(3, 2).select(0, 3), lambda lib: lib.ones(3).select(1, 0),
                 lambda lib: lib.tensor(1.0).select(0, 0)):
        same_error(call)


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (2, 0), (-1, 1)])
def test_rot90_like_torch(k, dims):
    check_against_torch(lambda x: ng.rot90(x, k, dims), lambda x: torch.rot90(x, k, dims),
                        [rand(2, 3, 4)])


def test_fliplr_flipud_rot90_errors():
    check_against_torch(ng.fliplr, torch.fliplr, [rand(2, 3)])
    check_against_torch(lambda x: x.flipud(), lambda x: x.flipud(), [rand(2, 3, 4)])
    for call in (lambda lib: lib.ones(3).fliplr(), lambda lib: lib.tensor(1.0).flipud(),
                 lambda lib: lib.rot90(lib.ones(2, 2), 1, [0, 1, 2]),
                 lambda lib: lib.rot90(lib.ones(2), 1, [0, 1]),
                 lambda lib: lib.rot90(lib.ones(2, 2), 1, [1, 1])):
        same_error(call)


@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (3, 1), (0, 0), (6, 1)])
def test_diff_like_torch(n, dim):
    check_against_torch(lambda x: ng.diff(x, n, dim), lambda x: torch.diff(x, n, dim),
                        [rand(3, 5)])
    check_against_torch(lambda x, p, a: x.diff(n, dim, p, a), lambda x, p, a: x.diff(n, dim, p, a),
                        [rand(3, 5), rand(3, 5, seed=1), rand(3, 5, seed=2)])


def test_diff_of_bools_integers_and_errors():
    for make in (lambda lib: lib.tensor([True, False, False, True]),
                 lambda lib: lib.tensor([[1, 4, 9], [2, 2, 7]])):
        ours, theirs = both(lambda lib, make=make: lib.diff(make(lib)))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    same_error(lambda lib: lib.diff(lib.tensor(1.0)))
    same_error(lambda lib: lib.diff(lib.ones(3), -1))


def test_atleast_and_broadcast_shapes():
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for shape in [(), (3,), (2, 3), (2, 3, 4)]:
            check_against_torch(getattr(ng, fn), getattr(torch, fn), [rand(*shape)])
        ours, theirs = both(lambda lib, fn=fn: getattr(lib, fn)(lib.tensor(1.0), lib.ones(2)))
        assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
        ours, theirs = both(lambda lib, fn=fn: getattr(lib, fn)([lib.tensor(1.0)]))
        assert isinstance(ours, tuple) and ours[0].shape == tuple(theirs[0].shape)
    for shapes in [((2, 1), (3,)), (2, (3, 1)), ((), (4, 1, 2), (1, 2)), ((0, 1), (3,))]:
        ours, theirs = both(lambda lib, shapes=shapes: lib.broadcast_shapes(*shapes))
        assert ours == tuple(theirs) and isinstance(ours, ng.Size)
    same_error(lambda lib: lib.broadcast_shapes((2,), (3,)))
    same_error(lambda lib: lib.broadcast_shapes((2, 3), (1,), (4, 1)))


def test_block_diag_and_combinations():
    check_against_torch(lambda a, b, c, d: ng.block_diag(a, b, c, d),
                        lambda a, b, c, d: torch.block_diag(a, b, c, d),
                        [rand(2, 2), rand(1, 3, seed=1), rand(seed=2), rand(2, seed=3)])
    ours, theirs = both(lambda lib: lib.block_diag(lib.ones(1, 2, dtype=lib.int32),
                                                   lib.tensor([[2.5]], dtype=lib.float64)))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    same_error(lambda lib: lib.block_diag(lib.ones(1, 1, 1)))
    for r, repl in [(2, False), (3, False), (2, True), (3, True), (5, False), (0, False)]:
        check_against_torch(lambda x, r=r, repl=repl: ng.combinations(x, r, repl),
                            lambda x, r=r, repl=repl: torch.combinations(x, r, repl), [rand(4)])
    same_error(lambda lib: lib.combinations(lib.ones(2, 2)))
    same_error(lambda lib: lib.combinations(lib.ones(2), -1))


@pytest.mark.parametrize("args", [(0, 2, 3), (-1, 1, 5, 2.0), (2, 0, 4), (0, 1, 1), (1, 3, 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_logspace_like_torch(args, dtype):
    ours, theirs = both(lambda lib: lib.logspace(*args, dtype=getattr(lib, dtype)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6 if dtype == "float32"
                               else 1e-15)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


def test_searchsorted_bucketize_isin_like_torch():
    seqs = [np.array([1, 3, 5, 7, 9]), np.array([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]]),
            np.array([0.5, 1.0, 1.0, 2.5])]
    values = [np.array([[3, 6, 9], [3, 6, 9]]), np.array([[0, 1, 11], [10, 4, 2]]),
              np.array([1.0, 0.0, 3.0, 1.0])]
    for seq, val in zip(seqs, values):
        for kw in [{}, {"right": True}, {"side": "right"}, {"side": "left"},
                   {"out_int32": True}]:
            ours, theirs = both(lambda lib, seq=seq, val=val, kw=kw: lib.searchsorted(
                lib.tensor(seq), lib.tensor(val), **kw))
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    ours, theirs = both(lambda lib: lib.searchsorted(lib.tensor([3, 1, 2]), lib.tensor([2, 5]),
                                                     sorter=lib.tensor([1, 2, 0])))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours, theirs = both(lambda lib: lib.bucketize(lib.tensor([[1, 5], [9, 2]]),
                                                  lib.tensor([1, 3, 5, 7, 9]), right=True))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert both(lambda lib: lib.bucketize(3, lib.tensor([1, 3, 5])).item()) == (1, 1)
    for a, b, kw in [([1, 2, 3], [2, 9], {}), ([1, 2, 3], 2, {"invert": True}),
                     (2, [1, 2], {}), ([1.0, 2.0], [1], {})]:
        ours, theirs = both(lambda lib, a=a, b=b, kw=kw: lib.isin(
            a if isinstance(a, int) else lib.tensor(a), b if isinstance(b, int) else lib.tensor(b),
            **kw))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for call in (lambda lib: lib.searchsorted(lib.ones(2, 5), lib.ones(2)),
                 lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), side="left", right=True),
                 lambda lib: lib.searchsorted(lib.ones(2), lib.ones(1), side="middle"),
                 lambda lib: lib.searchsorted(lib.tensor(1), lib.ones(1)),
                 lambda lib: lib.bucketize(lib.ones(1), lib.ones(2, 5))):
        same_error(call)


@pytest.fixture
def default_printoptions():
    yield
    for lib in (ng, torch):
        lib.set_printoptions(profile="default")


@pytest.mark.parametrize("options", [dict(precision=2), dict(threshold=5), dict(edgeitems=1,
                                     threshold=5), dict(linewidth=30), dict(sci_mode=True),
                                     dict(sci_mode=False), dict(profile="short"),
                                     dict(profile="full")])
def test_set_printoptions_like_torch(default_printoptions, options):
    for make in (lambda lib: lib.tensor([1.12345, 2.5, -3.0]), lambda lib: lib.arange(2000),
                 lambda lib: lib.arange(12.0).reshape(3, 4) / 7, lambda lib: lib.tensor([1e-6, 1]),
                 lambda lib: lib.linspace(0, 1, 30)):
        for lib in (ng, torch):
            lib.set_printoptions(**options)
        ours, theirs = both(lambda lib, make=make: repr(make(lib)))
        assert ours == theirs
