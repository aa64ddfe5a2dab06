"""optim.Adagrad with sparse gradients (nn.Embedding(sparse=True)'s) against PyTorch's: the
parameters and the "sum" state after each step, lr_decay, eps, maximize,
initial_accumulator_value, a mix of sparse and dense gradients, state_dict save and load in the
middle of a run, and PyTorch's errors."""

import copy

import numpy as np
import pytest
import torch
from torch_compare import assert_close, same_error

import numpy2gpt as ng

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # torch's

# rows looked up more than once (their entries are summed before the update), row 5 never
BATCHES = [np.array([[1, 3, 1], [0, 4, 1]]), np.array([[2, 2, 6]]), np.array([[4, 0, 1, 1]]),
           np.array([[3, 3], [3, 6]]), np.array([[0, 1, 2, 4]])]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def table(dtype, rows=7, dim=4, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(dtype)


def upstream(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def lookup_step(lib, w, opt, k, dtype, padding_idx=None):
    """One step on batch k: a sparse embedding gradient, then opt.step()."""
    opt.zero_grad()
    idx = BATCHES[k % len(BATCHES)]
    y = lib.nn.functional.embedding(lib.tensor(idx), w, padding_idx, sparse=True)
    y.backward(lib.tensor(upstream(idx.shape + (w.shape[1],), dtype, seed=k)))
    opt.step()


def assert_same(w, tw, opt, topt, dtype):
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), **TOL[dtype])
    state, tstate = opt.state[w], topt.state[tw]
    assert list(state) == list(tstate)
    assert state["step"].item() == tstate["step"].item()
    assert state["sum"].dtype == w.dtype
    np.testing.assert_allclose(state["sum"].numpy(), tstate["sum"].numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [dict(), dict(lr=0.1, lr_decay=0.05, eps=1e-6,
                                                 initial_accumulator_value=0.3),
                                    dict(lr=0.2, maximize=True, initial_accumulator_value=1.0)])
def test_sparse_steps_equal_pytorchs(dtype, kwargs):
    def make(lib):
        w = lib.nn.Parameter(lib.tensor(table(dtype)))
        return w, lib.optim.Adagrad([w], **kwargs)

    (w, opt), (tw, topt) = make(ng), make(torch)
    for k in range(5):
        lookup_step(ng, w, opt, k, dtype)
        lookup_step(torch, tw, topt, k, dtype)
        assert w.grad.is_sparse and not w.grad.is_coalesced()
        assert_same(w, tw, opt, topt, dtype)
    # row 5 was never looked up: its value and sum are where they started
    np.testing.assert_array_equal(w.detach().numpy()[5], table(dtype)[5])
    assert (opt.state[w]["sum"].numpy()[5] == kwargs.get("initial_accumulator_value", 0)).all()


def test_the_rows_entries_are_summed_before_the_update():
    """sum += (g1 + g2)^2 for a row looked up twice, not g1^2 + g2^2."""
    w = ng.nn.Parameter(ng.zeros(3, 1))
    opt = ng.optim.Adagrad([w], lr=1.0)
    w.grad = ng.sparse_coo_tensor([[1, 1]], [[1.0], [2.0]], (3, 1))
    opt.step()
    assert opt.state[w]["sum"].flatten().tolist() == [0.0, 9.0, 0.0]
    np.testing.assert_allclose(w.detach().numpy().ravel(), [0.0, -1.0, 0.0], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("grouped", [False, True])
def test_sparse_and_dense_gradients_in_one_optimizer(dtype, grouped):
    """An embedding table (sparse gradient) and a dense weight, in one group or in two."""
    def make(lib):
        w = lib.nn.Parameter(lib.tensor(table(dtype)))
        v = lib.nn.Parameter(lib.tensor(table(dtype, rows=4, seed=1)))
        groups = [{"params": [w], "lr_decay": 0.1}, {"params": [v], "lr": 0.05}] \
            if grouped else [w, v]
        return w, v, lib.optim.Adagrad(groups, lr=0.1)

    (w, v, opt), (tw, tv, topt) = make(ng), make(torch)
    for k in range(3):
        for lib, a, b, o in ((ng, w, v, opt), (torch, tw, tv, topt)):
            o.zero_grad()
            y = lib.nn.functional.embedding(lib.tensor(BATCHES[k]), a, sparse=True) @ b
            y.backward(lib.tensor(upstream(tuple(y.shape), dtype, seed=k)))
            o.step()
        assert w.grad.is_sparse and not v.grad.is_sparse
        assert_same(w, tw, opt, topt, dtype)
        assert_same(v, tv, opt, topt, dtype)


def test_state_dict_saved_and_loaded_mid_run():
    """3 steps, a state dict (deep-copied), a fresh table and optimizer loading both, 2 more
    steps: where an uninterrupted run (and PyTorch's) lands."""
    dtype = np.float32
    kwargs = dict(lr=0.1, lr_decay=0.02, initial_accumulator_value=0.1)

    def run(lib, split):
        w = lib.nn.Parameter(lib.tensor(table(dtype)))
        opt = lib.optim.Adagrad([w], **kwargs)
        for k in range(5):
            if k == split:
                saved = copy.deepcopy(opt.state_dict())
                w = lib.nn.Parameter(w.detach().clone())
                opt = lib.optim.Adagrad([w], **kwargs)
                opt.load_state_dict(saved)
                assert opt.state[w]["step"].item() == 3
            lookup_step(lib, w, opt, k, dtype)
        return w, opt

    runs = [run(lib, split) for lib in (ng, torch) for split in (None, 3)]
    for w, opt in runs[1:2]:
        assert_same(w, runs[0][0], opt, runs[0][1], dtype)
    for (w, opt), (tw, topt) in ((runs[0], runs[2]), (runs[1], runs[3])):
        assert_same(w, tw, opt, topt, dtype)


def test_an_empty_sparse_gradient_counts_the_step_and_changes_nothing():
    """All the lookups are of the padding row: a gradient with no entries."""
    def run(lib):
        w = lib.nn.Parameter(lib.tensor(table(np.float64)))
        opt = lib.optim.Adagrad([w])
        lookup_step(lib, w, opt, 1, np.float64, padding_idx=2)  # batch [[2, 2, 6]]
        lookup_step(lib, w, opt, 1, np.float64, padding_idx=2)
        return w, opt

    (w, opt), (tw, topt) = run(ng), run(torch)
    assert_same(w, tw, opt, topt, np.float64)
    w.grad = ng.sparse_coo_tensor(np.zeros((1, 0), np.int64), np.zeros((0, 4)), (7, 4))
    before = w.detach().numpy().copy()
    opt.step()
    assert opt.state[w]["step"].item() == 3
    np.testing.assert_array_equal(w.detach().numpy(), before)


def test_weight_decay_with_a_sparse_gradient_is_pytorchs_error_after_the_step_count():
    """PyTorch updates the group's parameters in order: the dense one before is updated, the
    sparse one's step is counted, then the error."""
    results = []

    def call(lib):
        v = lib.nn.Parameter(lib.ones(2))
        v.grad = lib.ones(2)
        w = lib.nn.Parameter(lib.ones(5, 3))
        w.grad = lib.sparse_coo_tensor([[1, 1, 3]], lib.ones(3, 3), (5, 3))
        opt = lib.optim.Adagrad([v, w], lr=0.1, weight_decay=0.1)
        results.append((v, opt, w))
        opt.step()

    same_error(call)
    for v, opt, w in results:
        assert v.detach().tolist() != [1.0, 1.0]
        assert opt.state[w]["step"].item() == 1
    assert_close(results[0][0].detach(), results[1][0].detach())
    same_error(lambda lib: lib.optim.Adagrad([lib.nn.Parameter(lib.ones(2))], fused=True,
                                             differentiable=True))


def test_embedding_sparse_with_adagrad_trains_like_pytorch():
    """The classic: a bag-of-words classifier, nn.Embedding(sparse=True) (mean of a sentence's
    word vectors) and nn.Linear, one Adagrad for both, 5 steps of cross_entropy."""
    rng = np.random.default_rng(0)
    emb_w = rng.standard_normal((30, 8)).astype(np.float32)
    lin_w = (0.3 * rng.standard_normal((3, 8))).astype(np.float32)
    lin_b = np.zeros(3, np.float32)
    words = [rng.integers(0, 30, size=(6, 5)) for _ in range(5)]
    labels = [rng.integers(0, 3, size=6) for _ in range(5)]

    def train(lib):
        emb = lib.nn.Embedding(30, 8, sparse=True, _weight=lib.tensor(emb_w))
        head = lib.nn.Linear(8, 3)
        with lib.no_grad():
            head.weight.copy_(lib.tensor(lin_w))
            head.bias.copy_(lib.tensor(lin_b))
        opt = lib.optim.Adagrad([*emb.parameters(), *head.parameters()], lr=0.5,
                                lr_decay=0.01)
        for x, t in zip(words, labels):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(head(emb(lib.tensor(x)).mean(1)),
                                                   lib.tensor(t))
            loss.backward()
            opt.step()
        return emb, head, loss

    (emb, head, loss), (temb, thead, tloss) = train(ng), train(torch)
    assert emb.weight.grad.is_sparse
    for ours, theirs in ((emb.weight, temb.weight), (head.weight, thead.weight),
                         (head.bias, thead.bias)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert abs(loss.item() - tloss.item()) < 1e-5
    assert not np.allclose(emb.weight.detach().numpy(), emb_w)  # it did train
