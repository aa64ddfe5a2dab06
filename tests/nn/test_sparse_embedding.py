"""Sparse embedding gradients (nn.Embedding(sparse=True)), sparse COO tensors and SparseAdam
against PyTorch: indices, values, to_dense, accumulation, optimizer steps, prints and errors."""

import copy
import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # torch's

IDX = np.array([[1, 3, 1], [0, 4, 1]])  # row 1 three times, row 2 never


def table(dtype=np.float32, rows=5, dim=4, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(dtype)


def upstream(shape, dtype=np.float32, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def sparse_grad(lib, w_arr, idx=IDX, gy=None, padding_idx=None, passes=1):
    """The weight's gradient after `passes` backward passes of embedding(sparse=True)."""
    w = lib.tensor(w_arr, requires_grad=True)
    gy = upstream(idx.shape + w_arr.shape[1:], w_arr.dtype) if gy is None else gy
    for _ in range(passes):
        y = lib.nn.functional.embedding(lib.tensor(idx), w, padding_idx, sparse=True)
        y.backward(lib.tensor(gy))
    return w.grad


def assert_same_sparse(ours, theirs, rtol=None):
    """Same layout facts, same stored indices and values (in order), same dense tensor."""
    assert ours.is_sparse and theirs.is_sparse
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert (ours._nnz(), ours.sparse_dim(), ours.dense_dim(), ours.is_coalesced()) == \
        (theirs._nnz(), theirs.sparse_dim(), theirs.dense_dim(), theirs.is_coalesced())
    assert_close(ours._indices(), theirs._indices())
    assert_close(ours._values(), theirs._values(), rtol=rtol, what="values")
    assert_close(ours.to_dense(), theirs.to_dense(), rtol=rtol, what="to_dense")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding_idx", [None, 1, -4])
def test_the_gradient_is_uncoalesced_with_one_entry_per_lookup(dtype, padding_idx):
    ours, theirs = (sparse_grad(lib, table(dtype), padding_idx=padding_idx)
                    for lib in (ng, torch))
    assert ours.layout is ng.sparse_coo and ours.dtype == dtype
    assert_same_sparse(ours, theirs)
    expected = 3 if padding_idx is not None else 6  # the padding row's lookups are left out
    assert ours._nnz() == expected and not ours.is_coalesced()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_coalesced_gradient_and_to_dense_equal_the_dense_embeddings(dtype):
    ours, theirs = (sparse_grad(lib, table(dtype)).coalesce() for lib in (ng, torch))
    assert_same_sparse(ours, theirs)
    assert ours.is_coalesced() and ours.indices().tolist() == [[0, 1, 3, 4]]
    w = ng.tensor(table(dtype), requires_grad=True)  # the dense gradient, its own code path
    ng.nn.functional.embedding(ng.tensor(IDX), w).backward(ng.tensor(upstream((2, 3, 4), dtype)))
    assert_close(ours.to_dense(), w.grad)
    assert_close(ours.values(), theirs.values())


def test_a_second_backward_adds_to_the_sparse_gradient():
    ours, theirs = (sparse_grad(lib, table(), passes=2) for lib in (ng, torch))
    assert_same_sparse(ours, theirs)
    assert_close(ours.coalesce()._values(), theirs.coalesce()._values())


def test_two_lookups_in_one_pass_merge_as_pytorch_does():
    """One table looked up twice (word2vec's context and negative words): the two sparse
    gradients are summed in the same pass, in PyTorch's order; a dense use of the same weight
    makes the sum dense (whichever of the two arrives first)."""
    def run(lib, dense_too, grad=False):
        w = lib.tensor(table(), requires_grad=True)
        emb = lib.nn.functional.embedding
        dense = (w * w).sum() if dense_too else 0  # made first: its gradient comes last
        a = emb(lib.tensor([4, 1, 2]), w, sparse=True) * lib.tensor(upstream((3, 4)))
        b = emb(lib.tensor([[1, 0], [3, 1]]), w, sparse=True) * 3
        loss = a.sum() + b.sum() + dense
        if grad:  # autograd.grad sums them on its own path
            return lib.autograd.grad(loss, w)[0]
        loss.backward()
        return w.grad

    for grad in (False, True):
        ours, theirs = both_runs(run, False, grad)
        assert_same_sparse(ours, theirs)
        assert ours._indices().tolist() == [[1, 0, 3, 1, 4, 1, 2]]
    for grad in (False, True):
        ours, theirs = both_runs(run, True, grad)
        assert not ours.is_sparse and not theirs.is_sparse
        assert_close(ours, theirs)


def both_runs(run, *args):
    return run(ng, *args), run(torch, *args)


def test_module_gradient_padding_and_repr():
    def run(lib):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(6, 3, padding_idx=2, sparse=True)
        emb(lib.tensor([[2, 5], [0, 2]])).backward(lib.tensor(upstream((2, 2, 3))))
        return emb

    ours, theirs = both_runs(run)
    assert repr(ours) == repr(theirs) == "Embedding(6, 3, padding_idx=2, sparse=True)"
    assert_same_sparse(ours.weight.grad, theirs.weight.grad)
    assert ours.weight.grad._indices().tolist() == [[5, 0]]


def test_print_is_pytorchs():
    def cases(lib):
        s = lib.sparse_coo_tensor
        yield s([[0, 2, 0], [1, 0, 1]], [1.5, 2.0, -3.0], (3, 3))
        yield s([[1, 3, 1]], lib.ones(3, 4) * 0.25, (5, 4))
        yield s([[0, 1]], [1.0, 2.0], (5,), dtype=lib.float64)
        yield s([[0, 1]], [1, 2], (5,))
        yield s(lib.zeros(1, 0, dtype=lib.int64), lib.zeros(0, 3), (5, 3))
        yield s([[0, 2, 0], [1, 0, 1]], [1.5, 2.0, -3.0], (3, 3)).coalesce()

    for ours, theirs in zip(cases(ng), cases(torch)):
        assert repr(ours).replace("numpy2gpt.", "torch.") == repr(theirs)


def test_construction_facts_coalesce_and_adding():
    def run(lib):
        a = lib.sparse_coo_tensor([[0, 2, 0], [1, 0, 1]], [1.0, 2.0, 3.0], (3, 3))
        b = lib.sparse_coo_tensor([[1], [1]], [5.0], (3, 3))
        inferred = lib.sparse_coo_tensor([[0, 1], [2, 3]], [1.0, 2.0])
        return a, b, a + b, b + a, a.coalesce() + b, a + a, -a, a * 2.5, inferred

    for ours, theirs in zip(*both_runs(run)):
        assert_same_sparse(ours, theirs)
    a, b = run(ng)[:2]
    assert a.layout is ng.sparse_coo and ng.ones(2).layout is ng.strided
    assert not ng.ones(2).is_sparse and a.is_sparse and a.size(1) == 3 and a.dim() == 2
    c = a.coalesce()
    assert c is not a and c.coalesce() is c  # (already coalesced: itself)
    copied = copy.deepcopy(a)
    assert copied._values()._data is not a._values()._data
    assert_same_sparse(copied, run(torch)[0])
    assert_close(ng.ones(3, 3) + a, torch.ones(3, 3) + run(torch)[0])


def test_coalesce_sums_repeats_in_stored_order():
    """float32 sums depend on the order: 1e8 + 1 - 1e8 is 0, not 1."""
    def run(lib):
        return lib.sparse_coo_tensor([[2, 0, 2, 2]], [1e8, 7.0, 1.0, -1e8], (3,)).coalesce()

    ours, theirs = both_runs(run)
    assert_same_sparse(ours, theirs, rtol=0)
    assert ours._values().tolist() == [7.0, 0.0]


@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("maximize", [False, True])
def test_sparse_adam_steps_equal_pytorchs(steps, dtype, maximize):
    batches = [np.array([[1, 3, 1]]), np.array([[0, 4]]), np.array([[1, 1, 2]]),
               np.array([[3, 3]]), np.array([[4, 0, 1]])][:steps]

    def run(lib):
        w = lib.nn.Parameter(lib.tensor(table(dtype)))
        v = lib.nn.Parameter(lib.tensor(table(dtype, seed=5)))
        opt = lib.optim.SparseAdam([w, v], lr=0.05, betas=(0.8, 0.95), maximize=maximize)
        for k, idx in enumerate(batches):
            opt.zero_grad()
            emb = lib.nn.functional.embedding
            y = emb(lib.tensor(idx), w, sparse=True) * emb(lib.tensor(idx), v, sparse=True)
            y.backward(lib.tensor(upstream(y.shape, dtype, seed=k)))
            opt.step()
        return w, v, opt

    (w, v, opt), (tw, tv, topt) = both_runs(run)
    for ours, theirs in ((w, tw), (v, tv)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=0,
                                   atol=1e-6 if dtype == np.float32 else 1e-12)
        state, tstate = opt.state[ours], topt.state[theirs]
        assert state["step"] == tstate["step"] == steps
        for key in ("exp_avg", "exp_avg_sq"):
            assert_close(state[key], tstate[key], rtol=1e-6, atol=1e-7)
    assert repr(opt) == repr(topt)
    untouched = 2 if steps == 1 else None  # a row no batch looked up stays as it was
    if untouched is not None:
        np.testing.assert_array_equal(w.detach().numpy()[untouched], table(dtype)[untouched])


def test_sparse_adam_skips_an_empty_gradient_and_counts_the_step():
    def run(lib):
        w = lib.nn.Parameter(lib.tensor(table()))
        opt = lib.optim.SparseAdam([w])
        lib.nn.functional.embedding(lib.tensor([1, 1]), w, 1, sparse=True).sum().backward()
        opt.step()
        return w, opt.state[w]["step"]

    (w, step), (tw, tstep) = both_runs(run)
    assert step == tstep == 1
    assert_close(w, tw, rtol=0)


def test_sparse_adam_state_dict_round_trip_keeps_an_int_step():
    """SparseAdam counts with an int, also after load_state_dict (the Adam family turns a
    plain number into a 0-d tensor there), and the reloaded optimizer steps on like PyTorch's."""
    out = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(5, 3, sparse=True)
        opt = lib.optim.SparseAdam(emb.parameters(), lr=0.1)
        emb(lib.tensor([1, 2])).sum().backward()
        opt.step()
        again = lib.optim.SparseAdam(emb.parameters(), lr=0.1)
        again.load_state_dict(opt.state_dict())
        step = again.state[emb.weight]["step"]
        emb.zero_grad()
        (emb(lib.tensor([2, 4])) ** 2).sum().backward()
        again.step()
        out.append((type(step), step, again.state[emb.weight]["step"],
                    emb.weight.detach().numpy()))
    (kind, step, after, w), (tkind, tstep, tafter, tw) = out
    assert (kind, step, after) == (tkind, tstep, tafter) == (int, 1, 2)
    np.testing.assert_allclose(w, tw, rtol=1e-6)


def test_sparse_adam_errors():
    same_error(lambda lib: lib.optim.SparseAdam(lib.nn.Parameter(lib.ones(2))),
               same_message=False)  # (it names the tensor's type: numpy2gpt.FloatTensor)
    same_error(lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], lr=0))
    same_error(lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], eps=0.0))
    same_error(lambda lib: lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))],
                                                betas=(0.9, 1.0)))
    same_error(lambda lib: lib.optim.SparseAdam([lib.sparse_coo_tensor([[0]], [1.0], (3,))]))

    def dense_grad(lib):
        w = lib.nn.Parameter(lib.ones(3, 2))
        opt = lib.optim.SparseAdam(p for p in [w])  # a generator is fine
        w.grad = lib.ones(3, 2)
        opt.step()

    same_error(dense_grad)


def sparse_grad_param(lib, dense_too=False):
    w = lib.nn.Parameter(lib.ones(5, 3))
    w.grad = lib.sparse_coo_tensor([[1, 1, 3]], lib.ones(3, 3), (5, 3))
    v = lib.nn.Parameter(lib.ones(2))
    v.grad = lib.ones(2)
    return w, v


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam",
                                  "RAdam", "Rprop", "ASGD"])
def test_dense_optimizers_refuse_sparse_gradients_before_any_update(name):
    def run(lib):
        w, v = sparse_grad_param(lib)
        try:
            getattr(lib.optim, name)([v, w], lr=0.1).step()
        finally:
            assert v.detach().tolist() == [1.0, 1.0]  # the group was not touched

    same_error(run)


@pytest.mark.parametrize("kwargs", [{}, dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                    dict(momentum=0.5, dampening=0.5), dict(maximize=True)])
def test_sgd_takes_sparse_gradients(kwargs):
    def run(lib):
        w, v = sparse_grad_param(lib)
        opt = lib.optim.SGD([v, w], lr=0.1, **kwargs)
        for _ in range(3):
            opt.step()
            w.grad = lib.sparse_coo_tensor([[1, 4]], lib.ones(2, 3) * 0.5, (5, 3))
        return w, v

    for ours, theirs in zip(*both_runs(run)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_sgd_weight_decay_with_a_sparse_gradient_is_pytorchs_error():
    same_error(lambda lib: lib.optim.SGD(sparse_grad_param(lib), lr=0.1,
                                         weight_decay=0.1).step())


def test_zero_grad_keeps_an_empty_sparse_gradient_and_clipping_refuses_one():
    def run(lib):
        w = lib.nn.Parameter(lib.tensor(table()))
        opt = lib.optim.SGD([w], lr=0.1)
        lib.nn.functional.embedding(lib.tensor([1, 2, 1]), w, sparse=True).sum().backward()
        g = w.grad
        opt.zero_grad(set_to_none=False)
        assert w.grad is g
        lib.nn.functional.embedding(lib.tensor([3]), w, sparse=True).sum().backward()
        return g

    ours, theirs = both_runs(run)
    assert_same_sparse(ours, theirs)
    assert ours._indices().tolist() == [[3]]
    same_first_line(lambda lib: lib.nn.utils.clip_grad_norm_(sparse_grad_param(lib), 1.0))
    same_first_line(lambda lib: lib.nn.utils.clip_grad_value_(sparse_grad_param(lib), 1.0))


def same_first_line(call):
    """same_error, for PyTorch's long dispatcher messages: their first sentence."""
    raised = []
    for lib in (ng, torch):
        with pytest.raises(NotImplementedError) as e:
            call(lib)
        raised.append(str(e.value))
    assert raised[1].startswith(raised[0]), raised


@pytest.mark.parametrize("call", [
    lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0], (5,)),
    lambda lib: lib.sparse_coo_tensor([[[0, 1]]], [1.0, 2.0], (5,)),
    lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (5, 3)),
    lambda lib: lib.sparse_coo_tensor([[0, 1]], [[1.0, 2.0], [3.0, 4.0]], (5, 3)),
    lambda lib: lib.sparse_coo_tensor([[0, 7]], [1.0, 2.0], (5,), check_invariants=True),
    lambda lib: lib.sparse_coo_tensor([[0, -1]], [1.0, 2.0], (5,), check_invariants=True),
    lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (5,)).indices(),
    lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (5,)).values(),
    lambda lib: lib.sparse_coo_tensor([[0]], [1.0], (5,)) + lib.ones(5),
    lambda lib: lib.ones(4) + lib.sparse_coo_tensor([[0]], [1.0], (5,)),
    lambda lib: lib.sparse_coo_tensor([[0]], [1.0], (5,)) + lib.sparse_coo_tensor([[0]], [1.0],
                                                                                 (6,)),
    lambda lib: lib.sparse_coo_tensor([[0]], [1.0], (5,)).numpy(),
])
def test_sparse_tensor_errors(call):
    same_error(call)


def test_dense_ops_on_a_sparse_tensor_are_pytorchs_error_type():
    s = ng.sparse_coo_tensor([[0]], [1.0], (5,))
    for op in (lambda: s.exp(), lambda: s.sum(), lambda: s @ ng.ones(5)):
        with pytest.raises(NotImplementedError, match="SparseCPU"):
            op()


def test_module_zero_grad_deepcopy_anomaly_and_lbfgs_with_a_sparse_gradient():
    """Module.zero_grad(set_to_none=False) empties a sparse gradient; anomaly detection and
    LBFGS read one (LBFGS as dense, as PyTorch); a deep copy of the module copies no gradient,
    as PyTorch's Parameter.__deepcopy__."""

    def run(lib):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(5, 3, sparse=True)
        ids = lib.tensor([1, 3, 1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (anomaly detection's warning)
            with lib.autograd.detect_anomaly():
                emb(ids).sum().backward()
        twin = copy.deepcopy(emb)
        nnz = emb.weight.grad._nnz()
        emb.zero_grad(set_to_none=False)
        opt = lib.optim.LBFGS(emb.parameters(), max_iter=2)
        loss = opt.step(lambda: (emb.zero_grad(), emb(ids).pow(2).sum().backward(),
                                 emb(ids).pow(2).sum())[-1])
        return twin.weight.grad is None, nnz, loss.item(), emb.weight.detach().numpy()

    ours, theirs = run(ng), run(torch)
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-5, atol=1e-7)
