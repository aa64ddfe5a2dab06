"""Memory: the graph has no reference cycles (creators hold their outputs by weak reference), so it
is freed by reference counting alone - with the garbage collector switched off, 1,000
forward/backward passes keep memory flat, and every node dies the moment its output is dropped."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import numpy2gpt as ng


@pytest.fixture
def gc_off():
    """Run the test with the cycle collector disabled: only refcounting can free memory."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


def _step(x, w):
    """A small network-like pass with a residual connection, broadcasting and a reduction."""
    h = (x @ w).tanh()
    y = h + (h * h).sigmoid() @ w.T @ w  # residual: h reaches y along two paths
    return (y - y.mean(0, keepdim=True)).square().mean()


def test_thousand_passes_keep_memory_flat(gc_off):
    rng = np.random.default_rng(0)
    x = ng.tensor(rng.standard_normal((16, 8)))
    w = ng.tensor(rng.standard_normal((8, 8)) * 0.3, requires_grad=True)

    def passes(n):
        for i in range(n):
            # Every other pass keeps its graph (retain_graph): then nothing but reference
            # counting can free it, since backward does not clear the nodes.
            _step(x, w).backward(retain_graph=bool(i % 2))
            w.grad = None

    passes(20)  # warm-up: caches, first-use allocations
    tracemalloc.start()
    try:
        passes(100)
        after_100 = tracemalloc.get_traced_memory()[0]
        passes(900)
        after_1000, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not gc.isenabled()  # only refcounting freed anything
    # A leak of even one small node per pass would add ~100 KB over 900 passes.
    assert after_1000 - after_100 < 20_000, (after_100, after_1000)
    assert peak < 1_000_000


def test_graph_dies_by_refcount_alone(gc_off):
    x = ng.tensor([0.5, 1.5], requires_grad=True)
    h = x.exp()
    y = (h * h + h.sin()).sum()
    refs = [weakref.ref(t) for t in (h, y)] + [weakref.ref(h.grad_fn), weakref.ref(y.grad_fn)]
    saved = weakref.ref(h.grad_fn.output_arrays[0])  # NumPy arrays support weakrefs too
    del h, y
    assert all(r() is None for r in refs)
    assert saved() is None
    assert x.grad is None  # and the leaf is untouched


def test_graph_dies_after_backward_and_with_retain_graph(gc_off):
    x = ng.tensor([0.5, 1.5], requires_grad=True)
    for retain in (False, True):
        y = (x.exp() * x).sum()
        node = weakref.ref(y.grad_fn)
        y.backward(retain_graph=retain)
        del y
        assert node() is None


def test_intermediate_kept_by_the_user_keeps_only_its_own_subgraph(gc_off):
    x = ng.tensor([0.5, 1.5], requires_grad=True)
    h = x.tanh()
    y = (h.exp() * 2).sum()
    top = weakref.ref(y.grad_fn)
    del y
    assert top() is None and h.grad_fn is not None  # h's creator lives on with h
