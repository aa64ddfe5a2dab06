"""DataParallelStep: loss and gradients equal the single-thread step's; threads, BLAS and RNG."""

import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController, threadpool_limits

import numpy2gpt as ng
from numpy2gpt import nn
from numpy2gpt.gpt import GPT, GPTConfig, parallel
from numpy2gpt.gpt.parallel import DataParallelStep

VOCAB, BLOCK = 23, 8


def small_gpt(dtype=ng.float32, dropout=0.0, seed=0):
    ng.manual_seed(seed)
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=16, block_size=BLOCK, vocab_size=VOCAB,
                          dropout=dropout))
    return model.to(dtype)


def batch(b, seed=1, t=BLOCK):
    rng = np.random.default_rng(seed)
    return rng.integers(0, VOCAB, (b, t)), rng.integers(0, VOCAB, (b, t))


def reference(model, x, y, scale=1.0):
    """The single-thread step: loss.backward() into .grad."""
    _, loss = model(x, y)
    (loss * scale).backward()
    return loss.item()


def grads(model):
    return {name: p.grad.numpy().copy() for name, p in model.named_parameters()}


def zero(model):
    for p in model.parameters():
        p.grad = None


def assert_grads_close(got, want, dtype):
    assert got.keys() == want.keys()
    rtol, atol = (1e-5, 1e-6) if dtype == ng.float32 else (1e-10, 1e-13)
    for name in want:
        assert got[name].dtype == want[name].dtype == dtype, name
        # atol relative to the tensor's scale: near-zero entries are sums that cancel
        np.testing.assert_allclose(got[name], want[name], rtol=rtol,
                                   atol=atol * np.abs(want[name]).max(), err_msg=name)


@pytest.fixture(scope="module")
def step2():
    with DataParallelStep(None, threads=2) as step:
        yield step


@pytest.mark.parametrize("dtype", [ng.float32, ng.float64])
@pytest.mark.parametrize("b", [1, 2, 5, 6])
def test_loss_and_gradients_equal_the_single_thread_step(step2, dtype, b):
    model = small_gpt(dtype)
    x, y = batch(b)
    want_loss = reference(model, x, y)
    want = grads(model)
    zero(model)
    step2.model = model
    loss = step2.forward_backward(x, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(want_loss, rel=1e-6 if dtype == ng.float32 else 1e-12)
    assert_grads_close(grads(model), want, dtype)


@pytest.mark.parametrize("threads,b", [(3, 4), (3, 7), (4, 3)])
def test_more_threads_than_two_and_uneven_shards(threads, b):
    model = small_gpt(ng.float64)
    x, y = batch(b, seed=threads)
    want_loss, want = reference(model, x, y), grads(model)
    zero(model)
    with DataParallelStep(model, threads=threads) as step:
        assert step.forward_backward(ng.from_numpy(x), ng.from_numpy(y)) == \
            pytest.approx(want_loss, rel=1e-12)  # tensors are accepted too
    assert_grads_close(grads(model), want, ng.float64)


def test_shards_are_weighted_by_their_counted_tokens(step2):
    # Ignored targets (-1) all in the first shard: a plain mean of the two shard losses
    # would be wrong; weighting each shard by its non-ignored tokens is exact.
    model = small_gpt(ng.float64)
    x, y = batch(4)
    y[0, :] = -1
    y[1, 3:] = -1
    want_loss, want = reference(model, x, y), grads(model)
    zero(model)
    step2.model = model
    assert step2.forward_backward(x, y) == pytest.approx(want_loss, rel=1e-12)
    assert_grads_close(grads(model), want, ng.float64)
    y[:2] = -1  # a shard with nothing to learn from is skipped
    zero(model)
    want_loss, want = reference(model, x, y), grads(model)
    zero(model)
    assert step2.forward_backward(x, y) == pytest.approx(want_loss, rel=1e-12)
    assert_grads_close(grads(model), want, ng.float64)
    y[:] = -1
    with pytest.raises(ValueError, match="every target is ignore_index"):
        step2.forward_backward(x, y)


def test_gradient_accumulation_across_calls(step2):
    model = small_gpt()
    (x1, y1), (x2, y2) = batch(5, seed=2), batch(5, seed=3)
    reference(model, x1, y1, scale=0.5)
    reference(model, x2, y2, scale=0.5)
    want = grads(model)
    zero(model)
    step2.model = model
    step2.forward_backward(x1, y1, scale=0.5)
    step2.forward_backward(x2, y2, scale=0.5)
    assert_grads_close(grads(model), want, ng.float32)


def test_one_thread_is_exactly_the_plain_step_even_with_dropout():
    model = small_gpt(dropout=0.2)
    x, y = batch(3)
    ng.manual_seed(7)
    want_loss, want = reference(model, x, y), grads(model)
    zero(model)
    ng.manual_seed(7)
    with DataParallelStep(model, threads=1) as step:
        assert step.forward_backward(x, y) == want_loss
    for name, g in grads(model).items():
        np.testing.assert_array_equal(g, want[name], err_msg=name)


def test_dropout_is_reproducible_whatever_thread_runs_first(step2):
    model = small_gpt(dropout=0.3)
    step2.model = model
    x, y = batch(4)
    results = []
    for _ in range(2):
        ng.manual_seed(11)
        zero(model)
        results.append((step2.forward_backward(x, y), grads(model),
                        ng.rand(1).item()))  # the global stream moved on the same way
    (loss_a, grads_a, next_a), (loss_b, grads_b, next_b) = results
    assert loss_a == loss_b and next_a == next_b
    for name in grads_a:
        np.testing.assert_array_equal(grads_a[name], grads_b[name], err_msg=name)
    ng.manual_seed(11)
    fresh = ng.rand(1).item()
    assert next_a != fresh  # the shards' seeds came from the global generator
    model.eval()  # no dropout: a different loss, so dropout was really on above
    zero(model)
    ng.manual_seed(11)
    assert step2.forward_backward(x, y) != loss_a
    assert ng.rand(1).item() == fresh  # without dropout the global stream is left alone


class Probe(nn.Module):
    """A tiny model that records, for each call, its thread and the BLAS thread count."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, VOCAB)
        self.seen = []
        self.controller = ThreadpoolController()

    def forward(self, x, y):
        blas = [lib["num_threads"] for lib in self.controller.info() if lib["user_api"] == "blas"]
        self.seen.append((threading.get_ident(), blas))
        logits = self.emb(x)
        return logits, nn.functional.cross_entropy(logits.view(-1, VOCAB), y.reshape(-1))


def test_persistent_workers_and_single_threaded_blas_meanwhile():
    probe = Probe()
    x, y = batch(4)
    with threadpool_limits(2, user_api="blas"), DataParallelStep(probe, threads=2) as step:
        for _ in range(3):
            step.forward_backward(x, y)
        after = [lib["num_threads"] for lib in probe.controller.info()
                 if lib["user_api"] == "blas"]
    threads = {ident for ident, _ in probe.seen}
    assert len(probe.seen) == 6 and len(threads) == 2  # the caller + one reused worker
    assert threading.get_ident() in threads
    assert all(blas == [1] * len(blas) for _, blas in probe.seen)
    assert after == [2] * len(after)  # restored after each step


def test_without_threadpoolctl_it_warns_unless_the_environment_pins_blas(monkeypatch):
    monkeypatch.setattr(parallel, "ThreadpoolController", None)
    for var in parallel._BLAS_ENV:
        monkeypatch.delenv(var, raising=False)
    model = small_gpt()
    with pytest.warns(RuntimeWarning, match="threadpoolctl is not installed"):
        step = DataParallelStep(model, threads=2)
    x, y = batch(3)
    want_loss, want = reference(model, x, y), grads(model)
    zero(model)
    assert step.forward_backward(x, y) == pytest.approx(want_loss, rel=1e-6)
    assert_grads_close(grads(model), want, ng.float32)
    step.close()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataParallelStep(model, threads=2).close()


def test_threads_building_graphs_at_once_do_not_mix_them():
    # Two threads each differentiate their own graphs many times at once: the engine and
    # Function's sequence counter share nothing that could swap gradients between them.
    checked, errors = [], []

    def work(k):
        try:
            a = ng.tensor(np.full(3, k + 1.0), requires_grad=True)
            for _ in range(300):
                (g,) = ng.autograd.grad((a * a * (k + 1.0)).sum(), a)
                np.testing.assert_array_equal(g.numpy(), 2 * (k + 1.0) * a.data)
                checked.append(k)
        except Exception as e:  # a failure in a thread must fail the test
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(checked) == 600


def test_clear_errors():
    model = small_gpt()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads must be a positive int"):
            DataParallelStep(model, threads=bad)
    with DataParallelStep(model, threads=2) as step:
        x, y = batch(2)
        with pytest.raises(TypeError, match="integer token ids"):
            step.forward_backward(x.astype(np.float32), y)
        with pytest.raises(ValueError, match=r"shape \(B, T\)"):
            step.forward_backward(x[0], y[0])
        with pytest.raises(ValueError, match="same shape"):
            step.forward_backward(x, y[:, :4])
    assert repr(step) == "DataParallelStep(threads=2)"
