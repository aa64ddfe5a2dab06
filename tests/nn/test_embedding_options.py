"""F.embedding's max_norm / norm_type and scale_grad_by_freq, torch.embedding_renorm_ and
torch.embedding, and nn.Embedding with them, against PyTorch: outputs, the renormalised table
and its version, dense and sparse gradients, double backward, errors."""

import inspect

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # torch's

DTYPES = [np.float32, np.float64]
# 2-D indices with unequal counts: row 2 three times, 5 twice, 0, 1, 3 once, 4 never
IDX = np.array([[0, 2, 2, 5], [1, 2, 3, 5]])


def table(dtype=np.float32, rows=6, dim=5, seed=0):
    """Rows of norm about 2 * sqrt(dim): all above a max_norm of 1.5."""
    return (2.0 * np.random.default_rng(seed).standard_normal((rows, dim))).astype(dtype)


def upstream(shape, dtype, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def run(lib, w_arr, idx=IDX, **kw):
    """F.embedding on a leaf made from w_arr, backward with a fixed upstream gradient: the
    output, the table after the call, how many versions it moved on, and its gradient."""
    w = lib.tensor(w_arr.copy(), requires_grad=True)
    out = lib.nn.functional.embedding(lib.tensor(idx), w, **kw)
    edits = w._version
    out.backward(lib.tensor(upstream(tuple(out.shape), w_arr.dtype)))
    return out, w.detach(), edits, w.grad


def assert_same_run(ours, theirs, table_rtol=None):
    out, w, edits, gw = ours
    t_out, t_w, t_edits, t_gw = theirs
    assert_close(out, t_out.detach())
    assert_close(w, t_w, rtol=table_rtol, what="table")
    assert edits == t_edits
    assert gw.is_sparse == t_gw.is_sparse
    if gw.is_sparse:
        assert ours[3]._indices().tolist() == theirs[3]._indices().tolist()
        assert_close(gw._values(), t_gw._values(), what="sparse values")
    else:
        assert_close(gw, t_gw, what="gradient")


# ----- max_norm -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_max_norm_rescales_the_looked_up_rows_in_place(dtype, norm_type, sparse):
    """The rows looked up (row 4 is not) whose norm is above max_norm come out of the call at
    norm max_norm, to the last bit of PyTorch's, the others untouched; the output is the
    renormalised rows, the gradient embedding's; one edit."""
    kw = dict(max_norm=1.5, norm_type=norm_type, sparse=sparse)
    ours, theirs = (run(lib, table(dtype), **kw) for lib in (ng, torch))
    assert_same_run(ours, theirs, table_rtol=2.5e-7 if dtype == np.float32 else 1e-15)
    assert ours[2] == 1
    before = np.linalg.norm(table(np.float64), ord=norm_type, axis=1)
    after = np.linalg.norm(ours[1].numpy().astype(np.float64), ord=norm_type, axis=1)
    over = (before > 1.5) & (np.arange(6) != 4)
    assert over.sum() >= 4
    np.testing.assert_allclose(after[over], 1.5, rtol=1e-5)
    np.testing.assert_array_equal(ours[1].numpy()[~over], table(dtype)[~over])


@pytest.mark.parametrize("kw", [dict(max_norm=100.0), dict(max_norm=-1.0),
                                dict(max_norm=1, norm_type=0), dict(max_norm=float("nan")),
                                dict(max_norm=1.5, padding_idx=2), dict(max_norm=1.5,
                                                                       padding_idx=-1)])
def test_max_norm_edge_values_and_the_padding_row(kw):
    """No row above: nothing changes, still one edit. A negative max_norm flips every row to
    norm |max_norm|; NaN changes none. The padding row is renormalised too (it is looked up)."""
    ours, theirs = (run(lib, table(), **kw) for lib in (ng, torch))
    assert_same_run(ours, theirs, table_rtol=2.5e-7)
    assert ours[2] == 1


def test_max_norm_is_no_step_of_the_graph_and_a_tensor_max_norm_works():
    """The gradient is embedding's at the renormalised table (not through the rescaling)."""
    check_against_torch(lambda w: ng.nn.functional.embedding(ng.tensor(IDX), w, max_norm=1.0),
                        lambda w: torch.nn.functional.embedding(torch.tensor(IDX), w,
                                                                max_norm=1.0),
                        [table(np.float64)])
    ours, theirs = (run(lib, table(), max_norm=lib.tensor(1.5)) for lib in (ng, torch))
    assert_same_run(ours, theirs, table_rtol=2.5e-7)


def test_a_table_looked_up_twice_with_max_norm_backpropagates():
    """The second lookup's renormalisation edits the table the first one read: no error, since
    the lookup's backward reads only the indices; an optimizer step in between neither."""
    grads = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(6, 5, max_norm=1.0, _weight=lib.tensor(table()))
        y = emb(lib.tensor(IDX)) * 2 + emb(lib.tensor([4, 4, 1]))[:, None, :].sum(0)
        with lib.no_grad():
            emb.weight.mul_(3)
        y.backward(lib.tensor(upstream(tuple(y.shape), np.float32)))
        grads.append((emb.weight.grad, emb.weight.detach()))
    assert_close(grads[0][0], grads[1][0])
    assert_close(grads[0][1], grads[1][1])


def test_embedding_bag_too_backpropagates_through_a_table_edited_since():
    """The same for embedding_bag without per_sample_weights; with them, whose gradient reads
    the table, the edit is PyTorch's backward error."""
    grads = []
    for lib in (ng, torch):
        w = lib.tensor(table(), requires_grad=True)
        bags = [lib.nn.functional.embedding_bag(lib.tensor(IDX), w, max_norm=1.0, mode=mode)
                for mode in ("sum", "mean", "max")]
        lib.nn.functional.embedding_bag(lib.tensor(IDX), w, max_norm=0.5)
        sum(bags).sum().backward()
        grads.append(w.grad)
    assert_close(grads[0], grads[1])

    def call(lib):
        w = lib.tensor(table(), requires_grad=True)
        psw = lib.tensor(upstream(IDX.shape, np.float32), requires_grad=True)
        y = lib.nn.functional.embedding_bag(lib.tensor(IDX), w, mode="sum",
                                            per_sample_weights=psw)
        lib.nn.functional.embedding_bag(lib.tensor(IDX), w, max_norm=0.5)
        y.sum().backward()

    same_error(call, same_message=False)


@pytest.mark.parametrize("op", ["embedding", "embedding_bag"])
def test_indices_edited_since_the_lookup_are_pytorchs_backward_error(op):
    def call(lib):
        w, idx = lib.tensor(table(), requires_grad=True), lib.tensor(IDX)
        y = getattr(lib.nn.functional, op)(idx, w)
        idx.add_(0)
        y.sum().backward()

    same_error(call, same_message=False)


def test_a_table_a_graph_saved_is_still_pytorchs_backward_error():
    def call(lib):
        w = lib.tensor(table(), requires_grad=True)
        saved = (w * w).sum()
        lib.nn.functional.embedding(lib.tensor(IDX), w, max_norm=1.0)
        saved.backward()

    same_error(call, same_message=False)


def test_max_norm_walks_the_sorted_indices_before_embedding_checks_them():
    """PyTorch renormalises first: a negative index in range rescales the row counted from the
    end before embedding refuses it; one past the table fails after the rows below it were
    rescaled; one below -num_embeddings fails before any change; so does a padding_idx out of
    range, checked first. A non-int padding_idx is refused only after the edit."""
    w_arr = table()
    cases = [(dict(idx=[1, -2]), False, True), (dict(idx=[1, 9, 3, 7]), True, True),
             (dict(idx=[1, -9, 3]), True, False), (dict(idx=[1, 3], padding_idx=6), True, False),
             (dict(idx=[1, 3], padding_idx=1.0), True, True)]
    for kw, same_message, changed in cases:
        tables = []

        def call(lib, kw=kw, tables=tables):
            kw = dict(kw)
            w = lib.tensor(w_arr.copy())
            tables.append(w)
            lib.nn.functional.embedding(lib.tensor(kw.pop("idx")), w, max_norm=1.5, **kw)

        same_error(call, same_message=same_message)
        np.testing.assert_array_equal(tables[0].numpy(), tables[1].numpy())
        assert changed != np.array_equal(tables[0].numpy(), w_arr), kw


@pytest.mark.parametrize("case", range(6))
def test_max_norm_argument_errors_are_pytorchs(case):
    calls = [
        lambda lib, w, i: lib.nn.functional.embedding(i, w, max_norm="a"),
        lambda lib, w, i: lib.nn.functional.embedding(i, w, max_norm=1.0, norm_type=None),
        lambda lib, w, i: lib.nn.functional.embedding(i.float(), w, max_norm=1.0),
        lambda lib, w, i: lib.nn.functional.embedding(i.short(), w, max_norm=1.0),
        lambda lib, w, i: lib.nn.functional.embedding(i, w.long(), max_norm=1.0),
        lambda lib, w, i: lib.nn.functional.embedding(i, w[0], max_norm=1.0),
    ]
    same_error(lambda lib: calls[case](lib, lib.tensor(table()), lib.tensor(IDX)))


def test_norm_type_is_not_read_without_max_norm():
    for lib in (ng, torch):
        lib.nn.functional.embedding(lib.tensor(IDX), lib.tensor(table()), norm_type="a")


# ----- torch.embedding_renorm_ --------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_renorm_is_the_shared_one(dtype):
    """torch.embedding_renorm_ (keywords as PyTorch's) edits and returns its input: the same
    table and version as PyTorch's, also for repeated, negative and empty indices."""
    assert ng.embedding_renorm_.__module__ == "numpy2gpt.nn.functional.linear"
    results = []
    for lib in (ng, torch):
        w = lib.tensor(table(dtype))
        out = lib.embedding_renorm_(input=w, indices=lib.tensor([[3, 0], [3, -1]]), max_norm=1.5,
                                    norm_type=3.0)
        assert out is w
        lib.embedding_renorm_(w, lib.tensor(np.array([], dtype=np.int64)), 0.1, 2.0)
        lib.embedding_renorm_(w, lib.tensor([1], dtype=lib.int32), 100.0, 2.0)
        results.append((w.clone(), w._version))
    assert_close(results[0][0], results[1][0], rtol=2.5e-7 if dtype == np.float32 else 1e-15)
    assert results[0][1] == results[1][1] == 3


def test_embedding_renorm_errors_are_pytorchs():
    calls = [
        lambda lib: lib.embedding_renorm_(lib.tensor(table(), requires_grad=True),
                                          lib.tensor([0]), 1.0, 2.0),
        lambda lib: lib.embedding_renorm_(lib.tensor(table()[0]), lib.tensor([0]), 1.0, 2.0),
        lambda lib: lib.embedding_renorm_(lib.tensor(table()), lib.tensor([0.0]), 1.0, 2.0),
        lambda lib: lib.embedding_renorm_(lib.tensor(table()), lib.tensor([0]), "1", 2.0),
        lambda lib: lib.embedding_renorm_(lib.tensor(table()), lib.tensor([0]), 1.0, None),
        lambda lib: lib.embedding_renorm_(lib.tensor(table()), [0], 1.0, 2.0),
        lambda lib: lib.embedding_renorm_(lib.tensor(table()), lib.tensor([6]), 1.0, 2.0),
    ]
    for call in calls:
        same_error(call)


def test_embedding_renorm_of_a_tensor_in_a_graph_has_no_derivative():
    """Allowed (it is not a leaf), recorded as PyTorch's EmbeddingRenormBackward0, whose
    backward raises; under no_grad a leaf may be edited."""
    for lib in (ng, torch):
        w = lib.tensor(table(), requires_grad=True)
        v = w * 1
        assert lib.embedding_renorm_(v, lib.tensor([0, 1]), 1.0, 2.0) is v
        assert v.grad_fn.name() == "EmbeddingRenormBackward0"
        assert v._version == 1
        np.testing.assert_allclose(np.linalg.norm(v.detach().numpy()[:2], axis=1), 1.0,
                                   rtol=1e-6)
        with pytest.raises(NotImplementedError,
                           match="the derivative for 'embedding_renorm' is not implemented."):
            v.sum().backward()
        with lib.no_grad():
            lib.embedding_renorm_(w, lib.tensor([2]), 1.0, 2.0)
        assert abs(float(w.detach()[2].norm()) - 1.0) < 1e-6


# ----- scale_grad_by_freq -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, dict(padding_idx=2), dict(padding_idx=-1),
                                dict(max_norm=1.5)])
def test_scale_grad_by_freq_against_pytorch(dtype, kw):
    ours, theirs = (run(lib, table(dtype), scale_grad_by_freq=True, **kw)
                    for lib in (ng, torch))
    assert_same_run(ours, theirs, table_rtol=2.5e-7 if dtype == np.float32 else 1e-15)


def test_scale_grad_by_freq_divides_each_row_by_its_own_count():
    """Unequal counts (3, 2 and 1): row r gets the sum of its output rows' gradients / count(r),
    in float64 to the last bits; with many rows too (embedding's sorting kernel)."""
    for rows in (6, 300):
        w_arr, idx = table(np.float64, rows=rows), np.r_[IDX.ravel(), rows - 1]
        out, _, _, gw = run(ng, w_arr, idx, scale_grad_by_freq=True)
        gy = upstream(tuple(out.shape), np.float64)
        counts = np.bincount(idx, minlength=rows)
        expected = np.zeros_like(w_arr)
        np.add.at(expected, idx, gy / counts[idx][:, None])
        np.testing.assert_allclose(gw.numpy(), expected, rtol=1e-14, atol=1e-15)
        theirs = run(torch, w_arr, idx, scale_grad_by_freq=True)[3]
        np.testing.assert_allclose(theirs.numpy(), expected, rtol=1e-14, atol=1e-15)


def test_scale_grad_by_freq_with_sparse_fails_at_backward_as_in_pytorch():
    """The forward works (and renormalises); backward raises PyTorch's RuntimeError, also with
    create_graph; a table that needs no gradient never gets there."""
    for create_graph in (False, True):
        def call(lib, create_graph=create_graph):
            w = lib.tensor(table(), requires_grad=True)
            y = lib.nn.functional.embedding(lib.tensor(IDX), w, scale_grad_by_freq=True,
                                            sparse=True)
            lib.autograd.grad(y.sum(), w, create_graph=create_graph)

        same_error(call)
    for lib in (ng, torch):
        w = lib.tensor(table())
        y = lib.nn.functional.embedding(lib.tensor(IDX), w, max_norm=1.0,
                                        scale_grad_by_freq=True, sparse=True)
        assert tuple(y.shape) == (2, 4, 5)


@pytest.mark.parametrize("case", range(5))
def test_flag_errors_are_pytorchs(case):
    calls = [
        lambda lib, w, i: lib.nn.functional.embedding(i, w, scale_grad_by_freq=1),
        lambda lib, w, i: lib.nn.functional.embedding(i, w, sparse=0),
        lambda lib, w, i: lib.nn.functional.embedding(i, w, sparse=np.bool_(True)),
        lambda lib, w, i: lib.embedding(w, i, -1, "yes"),
        lambda lib, w, i: lib.nn.functional.embedding(i, w, padding_idx=1.0,
                                                      scale_grad_by_freq=1),
    ]
    same_error(lambda lib: calls[case](lib, lib.tensor(table()), lib.tensor(IDX)))


# ----- double backward ----------------------------------------------------------------------
def _double_backward(lib, **kw):
    """d<gg, dL/dw>/d(upstream), d<gg, dL/dw>/dw: the derivatives of the table's gradient."""
    w = lib.tensor(table(np.float64), requires_grad=True)
    y = lib.nn.functional.embedding(lib.tensor(IDX), w, **kw)
    gy = lib.tensor(upstream(tuple(y.shape), np.float64), requires_grad=True)
    (gw,) = lib.autograd.grad(y, w, gy, create_graph=True)
    gg = lib.tensor(upstream(tuple(w.shape), np.float64, seed=2))
    ggy, = lib.autograd.grad((gw * gg).sum(), gy)
    return gw, ggy, gg


@pytest.mark.parametrize("kw", [{}, dict(padding_idx=2), dict(max_norm=1.0, padding_idx=5)])
def test_double_backward_is_pytorchs(kw):
    ours, theirs = _double_backward(ng, **kw), _double_backward(torch, **kw)
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])


def test_double_backward_with_scale_grad_by_freq_is_the_derivative_of_the_gradient():
    """The table's gradient sum_i gy[i] / count(idx[i]) has derivative gg[idx[i]] / count(idx[i])
    with respect to gy[i]. PyTorch 2.13's double backward leaves the 1 / count out (its
    embedding_dense_double_backward ignores scale_grad_by_freq); numpy2gpt's keeps it. The
    first derivative, under create_graph, is PyTorch's."""
    gw, ggy, gg = _double_backward(ng, scale_grad_by_freq=True)
    t_gw, t_ggy, _ = _double_backward(torch, scale_grad_by_freq=True)
    assert_close(gw, t_gw)
    counts = np.bincount(IDX.ravel(), minlength=6)[IDX]
    expected = gg.numpy()[IDX] / counts[..., None]
    np.testing.assert_allclose(ggy.numpy(), expected, rtol=1e-14)
    np.testing.assert_allclose(t_ggy.numpy(), gg.numpy()[IDX], rtol=1e-14)  # PyTorch's
    w = ng.tensor(table(np.float64), requires_grad=True)

    def table_grad(gy):
        y = ng.nn.functional.embedding(ng.tensor(IDX), w, scale_grad_by_freq=True)
        return ng.autograd.grad(y, w, gy, create_graph=True)[0]

    gy = ng.tensor(upstream((2, 4, 5), np.float64), requires_grad=True)
    assert ng.autograd.gradcheck(table_grad, (gy,))


# ----- torch.embedding, nn.Embedding ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args", [(-1, True), (2, True, False), (5, False, True), (7, False)])
def test_torch_embedding_takes_scale_grad_by_freq(dtype, args):
    """torch.embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse), positional;
    a padding_idx outside the table (ATen's default -1) means none."""
    results = []
    for lib in (ng, torch):
        w = lib.tensor(table(dtype), requires_grad=True)
        y = lib.embedding(w, lib.tensor(IDX), *args)
        y.backward(lib.tensor(upstream(tuple(y.shape), dtype)))
        results.append((y, w.detach(), w._version, w.grad))
    assert_same_run(*results)


@pytest.mark.parametrize("kw", [dict(max_norm=1, norm_type=1, scale_grad_by_freq=True,
                                     sparse=True, padding_idx=-1),
                                dict(max_norm=1.5, norm_type=2.0, scale_grad_by_freq=1),
                                dict(norm_type=3), dict(scale_grad_by_freq=False, sparse=False)])
def test_module_repr_is_pytorchs(kw):
    ours, theirs = ng.nn.Embedding(5, 3, **kw), torch.nn.Embedding(5, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert (ours.max_norm, ours.norm_type, ours.scale_grad_by_freq, ours.sparse) == (
        theirs.max_norm, theirs.norm_type, theirs.scale_grad_by_freq, theirs.sparse)


def test_from_pretrained_takes_pytorchs_arguments():
    assert (inspect.signature(ng.nn.Embedding.from_pretrained)
            == inspect.signature(torch.nn.Embedding.from_pretrained).replace(
                return_annotation=inspect.Signature.empty, parameters=[
                    p.replace(annotation=inspect.Parameter.empty) for p in inspect.signature(
                        torch.nn.Embedding.from_pretrained).parameters.values()]))
    outs = []
    for lib in (ng, torch):
        emb = lib.nn.Embedding.from_pretrained(lib.tensor(table()), freeze=False, max_norm=1.5,
                                               norm_type=1.0, scale_grad_by_freq=True)
        assert "max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True" in repr(emb)
        y = emb(lib.tensor(IDX))
        y.backward(lib.tensor(upstream(tuple(y.shape), np.float32)))
        outs.append((y.detach(), emb.weight.detach(), emb.weight.grad))
    for a, b in zip(*outs):
        assert_close(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_module_with_every_option_trains_as_pytorchs(dtype):
    """Three SGD steps of an Embedding with max_norm, scale_grad_by_freq and padding_idx: the
    same table after each (float32 stays float32)."""
    tables = []
    for lib in (ng, torch):
        emb = lib.nn.Embedding(6, 5, padding_idx=4, max_norm=2.0, norm_type=1.5,
                               scale_grad_by_freq=True, _weight=lib.tensor(table(dtype)))
        opt = lib.optim.SGD(emb.parameters(), lr=0.5)
        for step in range(3):
            opt.zero_grad()
            y = emb(lib.tensor(np.roll(IDX, step) % 6))
            (y * lib.tensor(upstream(tuple(y.shape), dtype, seed=step))).sum().backward()
            opt.step()
        tables.append(emb.weight.detach())
    assert tables[0].dtype == getattr(ng, np.dtype(dtype).name)
    assert_close(tables[0], tables[1])
