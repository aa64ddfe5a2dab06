"""F.embedding_bag's max_norm, scale_grad_by_freq and sparse, and nn.EmbeddingBag with them,
against PyTorch: the renormalised table, outputs, dense and sparse gradients, errors."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # torch's

DTYPES = [np.float32, np.float64]
IDX = np.array([0, 2, 2, 5, 1, 3, 4, 2, 5])
OFFSETS = np.array([0, 3, 3, 5])  # bags [0, 2, 2], [], [5, 1], [3, 4, 2, 5]
# every index that occurs occurs twice: PyTorch 2.13's CPU scale_grad_by_freq is right on these
EVEN_IDX = np.array([0, 2, 2, 5, 0, 3, 4, 3, 5, 4])


def table(dtype=np.float32, rows=6, dim=5, seed=0, scale=2.0):
    """Rows of norm about 2 * sqrt(dim): most are above a max_norm of 1.5."""
    return (scale * np.random.default_rng(seed).standard_normal((rows, dim))).astype(dtype)


def upstream(shape, dtype, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def bag(lib, w, idx=IDX, offsets=OFFSETS, **kw):
    off = None if offsets is None else lib.tensor(offsets)
    return lib.nn.functional.embedding_bag(lib.tensor(idx), w, off, **kw)


def run(lib, w_arr, psw=None, **kw):
    """embedding_bag on leaves made from the arrays, backward with a fixed upstream gradient:
    the output, the table after the call (max_norm edits it), and the gradients."""
    w = lib.tensor(w_arr.copy(), requires_grad=True)
    p = None if psw is None else lib.tensor(psw, requires_grad=True)
    out = bag(lib, w, per_sample_weights=p, **kw)
    out.backward(lib.tensor(upstream(tuple(out.shape), w_arr.dtype)))
    return [out, w.detach(), w.grad, None if p is None else p.grad]


def assert_same_run(ours, theirs, table_rtol=None):
    out, w, gw, gp = ours
    t_out, t_w, t_gw, t_gp = theirs
    assert_close(out, t_out.detach())
    assert_close(w, t_w, rtol=table_rtol, what="table")
    assert gw.is_sparse == t_gw.is_sparse
    if gw.is_sparse:
        assert_same_sparse(gw, t_gw)
    else:
        assert_close(gw, t_gw)
    if t_gp is not None:
        assert_close(gp, t_gp)


def assert_same_sparse(ours, theirs):
    """Same layout facts, the same entries in the same order, the same dense tensor."""
    assert ours.layout is ng.sparse_coo and ours.dtype == ours.to_dense().dtype
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert (ours._nnz(), ours.is_coalesced()) == (theirs._nnz(), theirs.is_coalesced())
    assert ours._indices().tolist() == theirs._indices().tolist()
    assert_close(ours._values(), theirs._values(), what="values")
    assert_close(ours.to_dense(), theirs.to_dense(), what="to_dense")


# ----- max_norm -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0.5])
def test_max_norm_rescales_the_looked_up_rows_in_place(dtype, mode, norm_type):
    ours, theirs = (run(lib, table(dtype), mode=mode, max_norm=1.5, norm_type=norm_type)
                    for lib in (ng, torch))
    assert_same_run(ours, theirs)
    before = np.linalg.norm(table(np.float64), ord=norm_type, axis=1)
    after = np.linalg.norm(ours[1].numpy().astype(np.float64), ord=norm_type, axis=1)
    over = before > 1.5
    assert over.sum() >= 4
    np.testing.assert_allclose(after[over], 1.5, rtol=1e-5)
    np.testing.assert_allclose(after[~over], before[~over], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_max_norm_values_to_the_last_bit(dtype):
    """The norm of each row, the scale max_norm / (norm + 1e-7) in float64, rounded to the
    table's dtype, times the row: PyTorch's numbers bit for bit in float16 (whose norm is
    summed in float32); in float32 PyTorch sums the squares in another order, so a norm, and
    then its row, can differ in the last bit."""
    w_arr = table(dtype, rows=40, dim=7, seed=3)
    idx = np.arange(40)
    tables = []
    for lib in (ng, torch):
        w = lib.tensor(w_arr.copy())
        bag(lib, w, idx, [0], max_norm=1.5)
        tables.append(w.numpy())
    if dtype == np.float16:
        np.testing.assert_array_equal(*tables)
    else:
        np.testing.assert_allclose(*tables, rtol=2.5e-7, atol=0)
    assert not np.array_equal(tables[0], w_arr)


def test_max_norm_leaves_other_rows_and_counts_one_edit():
    w_arr = table()
    versions = []
    for lib in (ng, torch):
        w = lib.tensor(w_arr.copy(), requires_grad=True)
        before = w._version
        bag(lib, w, [1, 3, 1], [0], max_norm=1.5)
        versions.append(w._version - before)
        kept = [0, 2, 4, 5]
        np.testing.assert_array_equal(w.detach().numpy()[kept], w_arr[kept])
        empty = lib.tensor(w_arr.copy())  # no index: no row changes, still one edit
        before = empty._version
        bag(lib, empty, np.array([], dtype=np.int64), [0], max_norm=1.5)
        versions.append(empty._version - before)
        np.testing.assert_array_equal(empty.numpy(), w_arr)
    assert versions[:2] == versions[2:] == [1, 1]


@pytest.mark.parametrize("kw", [dict(offsets=None, idx=np.array([[0, 2, 2], [5, 1, 3]])),
                                dict(padding_idx=2),
                                dict(include_last_offset=True, idx=np.array([0, 2, 2, 5, 1, 3, 4])),
                                dict(max_norm=-1.0), dict(max_norm=1, norm_type=0),
                                dict(max_norm=ng.tensor(1.5)), dict(max_norm=float("nan"))])
def test_max_norm_rows_of_2d_input_padding_and_past_the_last_bag(kw):
    """All of the input is renormalised: padding rows and (include_last_offset) the indices
    after the last bag too. A negative max_norm flips the rows; NaN changes none."""
    kw = dict(dict(max_norm=1.5, mode="sum"), **kw)

    def args(lib):
        out = dict(kw)
        if isinstance(out["max_norm"], ng.Tensor):
            out["max_norm"] = lib.tensor(1.5)
        return out

    ours, theirs = (run(lib, table(), **args(lib)) for lib in (ng, torch))
    if kw.get("include_last_offset"):
        # PyTorch's gradient of a row looked up after the last bag (3, 4) is uninitialised
        # memory: the gradient of the bags' rows only; all rows renormalised
        for run_ in (ours, theirs):
            run_[2] = run_[2][[0, 1, 2, 5]]
        assert (np.linalg.norm(ours[1].numpy(), axis=1) <= 1.5 + 1e-6).all()
    assert_same_run(ours, theirs, table_rtol=2.5e-7)  # to the last bit


def test_max_norm_gradient_is_at_the_renormalised_table():
    """Not a differentiable step: the gradient is embedding_bag's, at the new table."""
    kw = dict(mode="sum", max_norm=1.0)
    check_against_torch(lambda w: bag(ng, w, **kw), lambda w: bag(torch, w, **kw),
                        [table(np.float64)])


def test_max_norm_on_a_table_a_graph_saved_is_pytorchs_backward_error():
    def call(lib):
        w = lib.tensor(table(), requires_grad=True)
        saved = (w * w).sum()
        bag(lib, w, max_norm=1.0)
        saved.backward()

    same_error(call, same_message=False)


def test_max_norm_walks_the_sorted_indices_before_any_other_check():
    """PyTorch renormalises first: a negative index in range rescales the row counted from the
    end before embedding_bag refuses it; one past the table fails after the rows below it were
    rescaled; one below -num_embeddings fails before any change. Offsets and per_sample_weights
    are checked only after the table was edited."""
    w_arr = table()
    cases = [(dict(idx=[1, -2]), False), (dict(idx=[1, 9, 3, 7]), True),
             (dict(idx=[1, -9, 3]), True), (dict(idx=[1, 3], offsets=[1]), False),
             (dict(idx=[1, 3], mode="max", per_sample_weights=np.ones(2, np.float32)), False)]
    for kw, same_message in cases:
        tables = []

        def call(lib, kw=kw, tables=tables):
            kw = dict(kw)
            if "per_sample_weights" in kw:
                kw["per_sample_weights"] = lib.tensor(kw["per_sample_weights"])
            w = lib.tensor(w_arr.copy())
            tables.append(w)
            bag(lib, w, kw.pop("idx"), kw.pop("offsets", [0]), max_norm=1.5, **kw)

        same_error(call, same_message=same_message)
        np.testing.assert_array_equal(tables[0].numpy(), tables[1].numpy())
    assert not np.array_equal(tables[0].numpy(), w_arr)


@pytest.mark.parametrize("case", range(6))
def test_max_norm_argument_errors_are_pytorchs(case):
    calls = [
        lambda lib, w: bag(lib, w, max_norm="a"),
        lambda lib, w: bag(lib, w, max_norm=1.0, norm_type=None),
        lambda lib, w: bag(lib, w, IDX.astype(np.float32), max_norm=1.0),
        lambda lib, w: bag(lib, w, IDX.astype(np.int16), max_norm=1.0),
        lambda lib, w: bag(lib, w.long(), max_norm=1.0),
        lambda lib, w: bag(lib, w, [1, 2, 7], [0], max_norm=1.0),
    ]
    same_error(lambda lib: calls[case](lib, lib.tensor(table())))


# ----- scale_grad_by_freq ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(mode="sum"), dict(mode="mean"), dict(mode="mean",
                                padding_idx=3), dict(mode="sum", padding_idx=0)])
def test_scale_grad_by_freq_against_pytorch(dtype, kw):
    ours, theirs = (run(lib, table(dtype), idx=EVEN_IDX, scale_grad_by_freq=True, **kw)
                    for lib in (ng, torch))
    assert_same_run(ours, theirs)
    plain = run(ng, table(dtype), idx=EVEN_IDX, **kw)[2].numpy()
    np.testing.assert_allclose(ours[2].numpy() * 2, plain, rtol=1e-6)  # each row: count 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_scale_grad_by_freq_with_per_sample_weights(dtype):
    psw = upstream(EVEN_IDX.shape, dtype, seed=7)
    for pad in (None, 4):
        ours, theirs = (run(lib, table(dtype), psw, idx=EVEN_IDX, mode="sum", padding_idx=pad,
                            scale_grad_by_freq=True) for lib in (ng, torch))
        assert_same_run(ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scale_grad_by_freq_divides_each_row_by_its_own_count(dtype):
    """Rows looked up 1, 2 and 3 times. PyTorch 2.13's CPU kernel divides some rows by another
    row's count here (pytorch#190063, fixed upstream); numpy2gpt divides each row by its own,
    as documented: the oracle is PyTorch's unscaled gradient divided by the counts."""
    idx = np.array([[1, 1, 3], [1, 4, 4]])
    psw = upstream(idx.shape, dtype, seed=3)
    counts = np.bincount(idx.ravel(), minlength=6)[:, None]
    for kw in (dict(mode="mean"), dict(mode="sum", psw=psw)):
        kw = dict(kw)
        p = kw.pop("psw", None)
        ours = run(ng, table(dtype), p, idx=idx, offsets=None, scale_grad_by_freq=True, **kw)
        theirs = run(torch, table(dtype), p, idx=idx, offsets=None, **kw)
        assert_close(ours[0], theirs[0].detach())
        expected = theirs[2].numpy() / np.maximum(counts, 1)
        assert_close(ours[2], expected.astype(dtype))
        if p is not None:  # the weights' gradient is not scaled
            assert_close(ours[3], theirs[3])


def test_scale_grad_by_freq_under_create_graph_is_the_same_gradient():
    w = ng.tensor(table(np.float64), requires_grad=True)
    psw = ng.tensor(upstream(IDX.shape, np.float64), requires_grad=True)
    gy = ng.tensor(upstream((4, 5), np.float64, seed=2))
    grads = []
    for create_graph in (False, True):
        out = bag(ng, w, mode="sum", per_sample_weights=psw, scale_grad_by_freq=True)
        grads.append(ng.autograd.grad(out, (w, psw), gy, create_graph=create_graph))
    for plain, recorded in zip(*grads):
        assert recorded.requires_grad
        assert_close(recorded.detach(), plain.numpy(), rtol=1e-12)


def test_scale_grad_by_freq_and_sparse_refuse_mode_max():
    for kw in (dict(scale_grad_by_freq=True), dict(sparse=True)):
        same_error(lambda lib, kw=kw: bag(lib, lib.tensor(table()), mode="max", **kw))


# ----- sparse ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(mode="sum"), dict(mode="mean"), dict(mode="sum",
                                padding_idx=2), dict(mode="mean", padding_idx=-1),
                                dict(mode="mean", offsets=None, idx=np.array([[3, 1], [1, 1]]))])
def test_sparse_gradient_is_pytorchs(dtype, kw):
    """One entry per element (repeats kept: uncoalesced), padding elements left out, each the
    bag's gradient times the element's factor (1, 1 / bag size)."""
    ours, theirs = (run(lib, table(dtype), sparse=True, **kw) for lib in (ng, torch))
    assert_same_run(ours, theirs)
    dense = run(ng, table(dtype), **kw)[2]
    assert_close(ours[2].to_dense(), dense.numpy())
    assert_close(ours[2].coalesce()._values(), theirs[2].coalesce()._values())


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_gradient_with_per_sample_weights(dtype):
    psw = upstream(IDX.shape, dtype, seed=5)
    for pad in (None, 5):
        ours, theirs = (run(lib, table(dtype), psw, mode="sum", sparse=True, padding_idx=pad)
                        for lib in (ng, torch))
        assert_same_run(ours, theirs)


def test_sparse_gradient_accumulates_over_two_backwards():
    grads = []
    for lib in (ng, torch):
        w = lib.tensor(table(), requires_grad=True)
        for k, idx in enumerate((IDX, IDX[::-1].copy())):
            out = bag(lib, w, idx, mode="mean", sparse=True)
            out.backward(lib.tensor(upstream((4, 5), np.float32, seed=k)))
        grads.append(w.grad)
    assert_same_sparse(*grads)
    # PyTorch merges the two lists of entries: equal indices met side by side become one
    assert len(IDX) < grads[0]._nnz() < 2 * len(IDX)


def test_sparse_gradient_of_padding_only_and_of_no_input():
    for idx, kw in ((np.array([1, 1]), dict(padding_idx=1)), (np.array([], np.int64), {})):
        ours, theirs = (run(lib, table(), idx=idx, offsets=[0], sparse=True, **kw)
                        for lib in (ng, torch))
        assert_same_run(ours, theirs)
        assert ours[2]._nnz() == 0 and ours[2].is_coalesced()


def test_sparse_with_scale_grad_by_freq_fails_at_backward_as_in_pytorch():
    def call(lib):
        out = bag(lib, lib.tensor(table(), requires_grad=True), sparse=True,
                  scale_grad_by_freq=True)
        out.sum().backward()

    same_error(call)
    psw = upstream(IDX.shape, np.float32)  # the weights alone: no sparse gradient, no error
    check_against_torch(lambda p: bag(ng, ng.tensor(table()), mode="sum", per_sample_weights=p,
                                      sparse=True, scale_grad_by_freq=True),
                        lambda p: bag(torch, torch.tensor(table()), mode="sum",
                                      per_sample_weights=p, sparse=True,
                                      scale_grad_by_freq=True), [psw])


def test_sparse_embedding_bag_trains_with_adagrad_and_sgd():
    for name, kw in (("Adagrad", dict(lr=0.1)), ("SGD", dict(lr=0.5, momentum=0.9))):
        weights = []
        for lib in (ng, torch):
            mod = lib.nn.EmbeddingBag(6, 5, mode="sum", sparse=True, max_norm=3.0,
                                      _weight=lib.tensor(table()))
            opt = getattr(lib.optim, name)(mod.parameters(), **kw)
            for step in range(3):
                opt.zero_grad()
                out = mod(lib.tensor(IDX), lib.tensor(OFFSETS))
                out.backward(lib.tensor(upstream((4, 5), np.float32, seed=step)))
                opt.step()
            weights.append(mod.weight.detach().numpy())
        np.testing.assert_allclose(*weights, rtol=1e-5, atol=1e-6)


# ----- the module -----------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(max_norm=1.0), dict(max_norm=2, norm_type=1.0),
                                dict(scale_grad_by_freq=True, mode="sum"),
                                dict(sparse=True, padding_idx=1)])
def test_module_repr_and_state_dict(kw):
    ours, theirs = ng.nn.EmbeddingBag(5, 3, **kw), torch.nn.EmbeddingBag(5, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert (ours.max_norm, ours.norm_type, ours.scale_grad_by_freq, ours.sparse) == (
        theirs.max_norm, theirs.norm_type, theirs.scale_grad_by_freq, theirs.sparse)


@pytest.mark.parametrize("dtype", DTYPES)
def test_module_with_every_option(dtype):
    """max_norm edits the module's weight, and with from_pretrained the tensor it was made from
    (the parameter shares its memory)."""
    w_arr = table(dtype)
    psw = upstream(EVEN_IDX.shape, dtype, seed=9)
    results = []
    for lib in (ng, torch):
        base = lib.tensor(w_arr.copy())
        mod = lib.nn.EmbeddingBag.from_pretrained(base, freeze=False, max_norm=1.5,
                                                  scale_grad_by_freq=True, mode="sum",
                                                  padding_idx=4)
        out = mod(lib.tensor(EVEN_IDX), lib.tensor(OFFSETS), lib.tensor(psw))
        out.backward(lib.tensor(upstream(tuple(out.shape), dtype)))
        results.append((out.detach().numpy(), base.numpy(), mod.weight.grad.numpy()))
        sparse = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(w_arr), freeze=False,
                                                     sparse=True)
        sparse(lib.tensor(IDX), lib.tensor(OFFSETS)).sum().backward()
        results.append(sparse.weight.grad)
    for ours, theirs in zip(results[0], results[2]):
        assert_close(ours, theirs)
    assert not np.array_equal(results[0][1], w_arr)
    assert_same_sparse(results[1], results[3])
