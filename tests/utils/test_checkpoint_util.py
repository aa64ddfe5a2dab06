"""torch.utils.checkpoint: checkpoint and checkpoint_sequential against real PyTorch (the same
function built on both libraries: outputs, gradients of the inputs and of the weights the
function uses, warnings, errors), and a checkpointed GPT against the plain one (bit-identical
loss and gradients with dropout, less memory kept by the forward)."""

import inspect
import itertools
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint
from torch_compare import both, same_error

import numpy2gpt as ng
from numpy2gpt.gpt.model import GPT, GPTConfig

LIBS = pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
REENTRANT = pytest.mark.parametrize("use_reentrant", [True, False], ids=["reentrant", "non"])
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
W, B = RNG.standard_normal((5, 3)), RNG.standard_normal(5)
W2 = RNG.standard_normal((3, 5))


def ckpt(lib):
    return lib.utils.checkpoint


def linear(lib, w=W, b=B, dtype=None):
    """An nn.Linear of `lib` holding w and b (its weights are what checkpoint must reach)."""
    lin = lib.nn.Linear(w.shape[1], w.shape[0], dtype=dtype or lib.float64)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(w))
        lin.bias.copy_(lib.tensor(b))
    return lin


def leaf(lib, a, dtype=None, requires_grad=True):
    return lib.tensor(a, dtype=dtype or lib.float64, requires_grad=requires_grad)


def arr(t):
    return None if t is None else t.detach().numpy()


def assert_same(ours, theirs, rtol=1e-12, atol=1e-14):
    """Same values (or both None), dtype and shape."""
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(arr(ours), arr(theirs), rtol=rtol, atol=atol)


def run_model(lib, use_reentrant, dtype_name="float64", **kwargs):
    """x -> tanh(lin(x) * scale) @ W2, checkpointed; the output, then every gradient."""
    dtype = getattr(lib, dtype_name)
    lin = linear(lib, dtype=dtype)
    x = leaf(lib, X, dtype)
    w2 = leaf(lib, W2.T.copy(), dtype)  # a closure tensor, not an argument

    def f(a, scale=1.5):
        return (lin(a) * scale).tanh() @ w2

    y = ckpt(lib).checkpoint(f, x, use_reentrant=use_reentrant, **kwargs)
    (y * lib.tensor(X, dtype=dtype)).sum().backward()
    return y, x.grad, lin.weight.grad, lin.bias.grad, w2.grad


# ----- signatures and the use_reentrant rule ---------------------------------------------------
@pytest.mark.parametrize("name", ["checkpoint", "checkpoint_sequential"])
def test_signatures_are_pytorchs(name):
    ours = inspect.signature(getattr(ng.utils.checkpoint, name)).parameters
    theirs = inspect.signature(getattr(torch.utils.checkpoint, name)).parameters
    assert list(ours) == list(theirs)
    for p, q in zip(ours.values(), theirs.values()):
        assert p.kind == q.kind
        default = getattr(q.default, "__name__", q.default)  # context_fn: noop_context_fn
        assert getattr(p.default, "__name__", p.default) == default


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.utils.checkpoint.checkpoint(lambda a: a.sin(), x),
    lambda lib, x: lib.utils.checkpoint.checkpoint_sequential([lib.nn.Tanh()] * 2, 2, x)])
def test_use_reentrant_not_passed_warns_and_means_true(call):
    results = []
    for lib in (ng, torch):
        x = leaf(lib, X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = call(lib, x)
        results.append(([(w.category, str(w.message)) for w in caught], type(y.grad_fn).__name__
                        if lib is torch else y.grad_fn.name()))
    assert results[0] == results[1]
    assert "use_reentrant parameter should be passed explicitly" in results[0][0][0][1]


@REENTRANT
def test_no_warning_when_use_reentrant_is_passed(use_reentrant):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ng.utils.checkpoint.checkpoint(lambda a: a.sin(), leaf(ng, X),
                                       use_reentrant=use_reentrant)


# ----- values and gradients ----------------------------------------------------------------------
@REENTRANT
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_outputs_and_gradients_of_inputs_weights_and_closures_match_pytorch(use_reentrant,
                                                                             dtype_name):
    ours = run_model(ng, use_reentrant, dtype_name)
    theirs = run_model(torch, use_reentrant, dtype_name)
    tol = (1e-5, 1e-6) if dtype_name == "float32" else (1e-12, 1e-14)
    for a, b in zip(ours, theirs):
        assert a is not None
        assert_same(a, b, *tol)
    assert ours[0].dtype == getattr(ng, dtype_name)
    assert all(g.dtype == getattr(ng, dtype_name) for g in ours[1:])


@REENTRANT
def test_gradients_are_bit_identical_to_no_checkpoint(use_reentrant):
    lin, x, w2 = linear(ng), leaf(ng, X), leaf(ng, W2.T.copy())

    def f(a):
        return (lin(a) * 1.5).tanh() @ w2

    grads = []
    for wrap in (False, True):
        for t in (x, lin.weight, lin.bias, w2):
            t.grad = None
        y = ng.utils.checkpoint.checkpoint(f, x, use_reentrant=use_reentrant) if wrap else f(x)
        (y * ng.tensor(X)).sum().backward()
        grads.append([t.grad.numpy().copy() for t in (x, lin.weight, lin.bias, w2)])
    for a, b in zip(*grads):
        assert np.array_equal(a, b)


@LIBS
def test_grad_fn_of_the_outputs(lib):
    x = leaf(lib, X)

    def name(y):
        return y.grad_fn.name() if lib is ng else type(y.grad_fn).__name__

    y = lib.utils.checkpoint.checkpoint(lambda a: a.sin() * 2, x, use_reentrant=True)
    assert name(y) == "CheckpointFunctionBackward"
    y = lib.utils.checkpoint.checkpoint(lambda a: a.sin() * 2, x, use_reentrant=False)
    # PyTorch keeps the real op's node; numpy2gpt links one node of its own (a documented
    # difference)
    assert name(y) == ("CheckpointBackward" if lib is ng else "MulBackward0")


@REENTRANT
def test_keyword_arguments(use_reentrant):
    if use_reentrant:
        same_error(lambda lib: run_model(lib, True, scale=3.0))
        return
    ours, theirs = run_model(ng, False, scale=3.0), run_model(torch, False, scale=3.0)
    for a, b in zip(ours, theirs):
        assert_same(a, b)
    assert not np.allclose(arr(ours[0]), arr(run_model(ng, False)[0]))  # scale was used


def test_reentrant_keyword_error_message():
    with pytest.raises(ValueError, match="^Unexpected keyword arguments: scale,k$"):
        ng.utils.checkpoint.checkpoint(lambda a: a, leaf(ng, X), use_reentrant=True, scale=1,
                                       k=2)


@REENTRANT
def test_inputs_that_do_not_require_grad(use_reentrant):
    results = []
    for lib in (ng, torch):
        lin = linear(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = lib.utils.checkpoint.checkpoint(lambda a, lin=lin: lin(a).exp(),
                                                leaf(lib, X, None, False),
                                                use_reentrant=use_reentrant)
        if y.requires_grad:
            y.sum().backward()
        results.append(([str(w.message) for w in caught], y.requires_grad, arr(lin.weight.grad)))
    (msgs, req, g), (tmsgs, treq, tg) = results
    assert msgs == tmsgs and req == treq
    assert (g is None) == (tg is None)
    if use_reentrant:  # the forward ran under no_grad: nothing to backpropagate
        assert msgs == ["None of the inputs have requires_grad=True. Gradients will be None"]
        assert not req and g is None
    else:  # the weights still get their gradient
        assert msgs == [] and req
        np.testing.assert_allclose(g, tg, rtol=1e-12)


@REENTRANT
def test_non_tensor_outputs_several_outputs_and_outputs_without_grad(use_reentrant):
    def f(a):
        return a * 2, 5, None, a.detach() * 3, a > 0, (a.sin(),)

    results = []
    for lib in (ng, torch):
        x = leaf(lib, X)
        out = lib.utils.checkpoint.checkpoint(f, x, use_reentrant=use_reentrant)
        kinds = [(type(o).__name__, getattr(o, "requires_grad", None)) for o in out]
        (out[0] * lib.tensor(X)).sum().backward()
        results.append((kinds, arr(x.grad), [arr(o) for o in (out[0], out[3], out[4])]))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    for a, b in zip(results[0][2], results[1][2]):
        np.testing.assert_array_equal(a, b)
    assert results[0][0][3][1] is use_reentrant  # reentrant: every float output requires grad


@REENTRANT
def test_backward_through_an_output_computed_without_grad(use_reentrant):
    def call(lib):
        x = leaf(lib, X)
        out = lib.utils.checkpoint.checkpoint(lambda a: (a * 2, a.detach() * 3), x,
                                              use_reentrant=use_reentrant)
        out[1].sum().backward()
        return x.grad

    if use_reentrant:  # the recomputed a * 2 gets a zero gradient: x.grad is zeros
        ours, theirs = both(call)
        assert_same(ours, theirs)
        assert not np.any(arr(ours))
    else:
        same_error(call)


@REENTRANT
def test_nested_structures_in_and_out(use_reentrant):
    """Non-reentrant: tensors inside a list argument and inside list / dict outputs take part in
    autograd. Reentrant: a list output is returned as it is, without grad (PyTorch's rule)."""
    def call(lib):
        x, v = leaf(lib, X), leaf(lib, X[::-1].copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reentrant: none of the inputs is a Tensor
            out = lib.utils.checkpoint.checkpoint(
                lambda pair: [pair[0] * pair[1], {"s": pair[1].sin()}], [x, v],
                use_reentrant=use_reentrant)
        flags = [out[0].requires_grad, out[1]["s"].requires_grad]
        if flags[0]:
            (out[0].sum() + out[1]["s"].sum()).backward()
        return flags, arr(x.grad), arr(v.grad), arr(out[0])

    ours, theirs = both(call)
    assert ours[0] == theirs[0] == [not use_reentrant] * 2
    for a, b in zip(ours[1:], theirs[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


@REENTRANT
@pytest.mark.parametrize("computed", [False, True], ids=["leaf", "computed"])
def test_returning_an_input_unchanged(use_reentrant, computed):
    for lib in (ng, torch):
        x = leaf(lib, X)
        z = x * 2 if computed else x
        y = lib.utils.checkpoint.checkpoint(lambda a: a, z, use_reentrant=use_reentrant)
        assert (y is z) is (not use_reentrant)  # non-reentrant: nothing was computed
        (y * 3).sum().backward()
        np.testing.assert_array_equal(arr(x.grad), np.full_like(X, 6.0 if computed else 3.0))


# ----- autograd.grad and backward(inputs=...) ----------------------------------------------------
@pytest.mark.parametrize("how", ["grad", "backward_inputs"])
def test_reentrant_refuses_grad_and_backward_with_inputs(how):
    def call(lib):
        x = leaf(lib, X)
        y = lib.utils.checkpoint.checkpoint(lambda a: a.sin(), x, use_reentrant=True).sum()
        if how == "grad":
            return lib.autograd.grad(y, x)
        y.backward(inputs=[x])

    same_error(call)


def test_non_reentrant_works_with_autograd_grad_and_leaves_grad_alone():
    results = []
    for lib in (ng, torch):
        lin, x = linear(lib), leaf(lib, X)
        y = lib.utils.checkpoint.checkpoint(lambda a, lin=lin: lin(a).tanh(), x,
                                            use_reentrant=False)
        grads = lib.autograd.grad((y * y).sum(), [x, lin.weight])
        assert x.grad is None and lin.weight.grad is None
        results.append([arr(g) for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_reentrant_weights_are_not_inputs_of_its_node():
    """Reentrant: autograd.grad w.r.t. a weight used inside does not reach it (PyTorch's error)."""
    def call(lib):
        lin = linear(lib)
        y = lib.utils.checkpoint.checkpoint(lambda a: lin(a), leaf(lib, X), use_reentrant=True)
        lib.autograd.grad(y.sum(), lin.weight)

    same_error(call)


# ----- nesting, no_grad, retain_graph, double backward -------------------------------------------
@pytest.mark.parametrize("outer,inner", list(itertools.product([True, False], repeat=2)))
@pytest.mark.parametrize("how", ["backward", "grad"])
def test_nested_checkpoints(outer, inner, how):
    def call(lib):
        lin, x = linear(lib), leaf(lib, X)

        def f(a):
            return lib.utils.checkpoint.checkpoint(lambda b: lin(b).tanh(), a * 2,
                                                   use_reentrant=inner).sin()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reentrant outer: the inner sees no grad
            y = lib.utils.checkpoint.checkpoint(f, x, use_reentrant=outer).sum()
        if how == "grad":
            return [arr(g) for g in lib.autograd.grad(y, [x, lin.weight])]
        y.backward()
        return arr(x.grad), arr(lin.weight.grad)

    if how == "grad" and (outer or inner):
        same_error(call)
        return
    for a, b in zip(*both(call)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@REENTRANT
def test_under_no_grad_it_just_runs(use_reentrant):
    for lib in (ng, torch):
        x = leaf(lib, X)
        with lib.no_grad():
            y = lib.utils.checkpoint.checkpoint(lambda a: a.exp(), x, use_reentrant=use_reentrant)
        assert not y.requires_grad and y.grad_fn is None
        np.testing.assert_allclose(arr(y), np.exp(X), rtol=1e-15)


@REENTRANT
def test_backward_twice_with_retain_graph_recomputes(use_reentrant):
    def call(lib):
        x = leaf(lib, X)
        y = lib.utils.checkpoint.checkpoint(lambda a: (a ** 3).sum(), x,
                                            use_reentrant=use_reentrant)
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    ours, theirs = both(call)
    assert_same(ours, theirs)
    np.testing.assert_allclose(arr(ours), 6 * X ** 2, rtol=1e-12)


@REENTRANT
def test_an_input_edited_in_place_after_the_forward(use_reentrant):
    def call(lib):
        x = leaf(lib, X)
        z = x * 1
        y = lib.utils.checkpoint.checkpoint(lambda a: (a ** 2).sum(), z,
                                            use_reentrant=use_reentrant)
        with lib.no_grad():
            z.add_(1)
        with pytest.raises(RuntimeError) as e:
            y.backward()
        return str(e.value)

    ours, theirs = both(call)  # the same message, up to each library's hint
    assert ours.split(" Hint")[0] == theirs.split(" Hint")[0]
    assert "modified by an inplace operation" in ours


def test_non_reentrant_double_backward_through_leaves():
    def call(lib):
        x, w = leaf(lib, X), leaf(lib, W2[:, 0])
        y = lib.utils.checkpoint.checkpoint(lambda a: (a ** 3 * w).sum(), x, use_reentrant=False)
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        return [arr(t) for t in lib.autograd.grad((g * g).sum(), [x, w])]

    for a, b in zip(*both(call)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_non_reentrant_double_backward_through_a_computed_tensor_is_refused():
    x = leaf(ng, X)
    y = ng.utils.checkpoint.checkpoint(lambda a: (a ** 3).sum(), x * 1, use_reentrant=False)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        ng.autograd.grad(y, x, create_graph=True)


def test_closure_tensor_computed_from_another_closure_tensor():
    """w2 = 2w and w both read from outside: w gets its gradient once through each path."""
    def call(lib):
        w = leaf(lib, X[0])
        w2 = w * 2
        y = lib.utils.checkpoint.checkpoint(lambda a: (a * w * w2).sum(), leaf(lib, X),
                                            use_reentrant=False)
        y.backward()
        return w.grad

    ours, theirs = both(call)
    assert_same(ours, theirs)


# ----- random numbers ----------------------------------------------------------------------------
@REENTRANT
def test_recomputation_draws_the_forwards_random_numbers(use_reentrant):
    """Dropout inside: gradients bit-identical to no checkpoint, and the generator afterwards
    where it is without checkpointing; preserve_rng_state=False draws new masks."""
    lin = linear(ng)
    x = leaf(ng, X)

    def f(a):
        return ng.nn.functional.dropout(lin(a), 0.5, training=True).tanh()

    def step(other_generator_in_backward=False, **kwargs):
        x.grad = lin.weight.grad = None
        ng.manual_seed(3)
        y = ng.utils.checkpoint.checkpoint(f, x, use_reentrant=use_reentrant, **kwargs) \
            if kwargs else f(x)
        loss = (y * ng.tensor(X[:, :1])).sum()
        if other_generator_in_backward:  # the recomputation still replays the forward's one
            with ng.random.use_rng(ng.Generator()):
                loss.backward()
        else:
            loss.backward()
        return x.grad.numpy().copy(), lin.weight.grad.numpy().copy(), ng.rand(4).numpy()

    plain = step()
    for same in (step(preserve_rng_state=True), step(True, preserve_rng_state=True)):
        for a, b in zip(plain, same):
            assert np.array_equal(a, b)
    fresh = step(preserve_rng_state=False)
    assert not np.array_equal(plain[0], fresh[0])  # other masks in the recomputation
    assert not np.array_equal(plain[2], fresh[2])  # and the generator moved on


# ----- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    dict(use_reentrant=True, context_fn=lambda: None),
    dict(use_reentrant=True, debug=True),
    dict(use_reentrant=False, determinism_check="strict"),
    dict(use_reentrant=False, debug=True, context_fn=lambda: None),
])
def test_bad_arguments(kwargs):
    same_error(lambda lib: lib.utils.checkpoint.checkpoint(lambda a: a, leaf(lib, X), **kwargs))


@REENTRANT
def test_a_function_that_is_not_callable(use_reentrant):
    same_error(lambda lib: lib.utils.checkpoint.checkpoint(3, leaf(lib, X),
                                                           use_reentrant=use_reentrant))


def test_recomputation_with_other_shapes_is_a_checkpoint_error():
    calls = []

    def f(a):
        calls.append(1)
        return a[: 5 - len(calls)].sin()  # 4 rows in the forward, 3 in the recomputation

    for lib in (ng, torch):
        calls.clear()
        y = lib.utils.checkpoint.checkpoint(f, leaf(lib, X), use_reentrant=False)
        with pytest.raises(lib.utils.checkpoint.CheckpointError):
            y.sum().backward()
    assert issubclass(ng.utils.checkpoint.CheckpointError, RuntimeError)


def test_context_fn_wraps_the_forward_and_the_recomputation():
    seen = []

    class Mark:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            seen.append(self.name)

        def __exit__(self, *exc):
            return False

    y = ng.utils.checkpoint.checkpoint(lambda a: a.sin(), leaf(ng, X), use_reentrant=False,
                                       context_fn=lambda: (Mark("forward"), Mark("recompute")))
    assert seen == ["forward"]
    y.sum().backward()
    assert seen == ["forward", "recompute"]


# ----- checkpoint_sequential --------------------------------------------------------------------
@pytest.mark.parametrize("use_reentrant", [True, False, None])
@pytest.mark.parametrize("segments", [1, 2, 3])
@pytest.mark.parametrize("as_list", [False, True])
def test_checkpoint_sequential(use_reentrant, segments, as_list):
    def call(lib):
        layers = [linear(lib), lib.nn.Tanh(), linear(lib, W2, B[:3]), lib.nn.ReLU(),
                  lib.nn.Sigmoid()]
        model = layers if as_list else lib.nn.Sequential(*layers)
        x = leaf(lib, X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = lib.utils.checkpoint.checkpoint_sequential(model, segments, x,
                                                           use_reentrant=use_reentrant)
        (y * lib.tensor(X)).sum().backward()
        return [arr(t) for t in (y, x.grad, layers[0].weight.grad, layers[2].bias.grad)]

    for a, b in zip(*both(call)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("segments,kwargs", [(0, {}), (4, {}), (1, {"scale": 2})])
def test_checkpoint_sequential_errors(segments, kwargs):
    same_error(lambda lib: lib.utils.checkpoint.checkpoint_sequential(
        [lib.nn.Tanh()] * 2, segments, leaf(lib, X), use_reentrant=True, **kwargs))


# ----- the GPT -----------------------------------------------------------------------------------
class Checkpointed(ng.nn.Module):
    """A block whose activations are recomputed in backward."""

    def __init__(self, block, use_reentrant):
        super().__init__()
        self.block, self.use_reentrant = block, use_reentrant

    def forward(self, x):
        return ng.utils.checkpoint.checkpoint(self.block, x, use_reentrant=self.use_reentrant)


def gpt_step(model, idx, targets):
    """One training step's loss and gradients, the memory the forward left alive, and the
    generator's next draw afterwards."""
    model.zero_grad(set_to_none=True)
    ng.manual_seed(7)  # the same dropout masks in every run
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        _, loss = model(idx, targets)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    loss.backward()
    return loss.item(), [p.grad.numpy().copy() for p in model.parameters()], kept, ng.rand(3)


@REENTRANT
def test_checkpointed_gpt_blocks_give_the_same_step_and_keep_less(use_reentrant):
    cfg = GPTConfig(block_size=32, vocab_size=64, n_layer=3, n_head=2, n_embd=32, dropout=0.2)
    ng.manual_seed(0)
    model = GPT(cfg)
    model.train()
    idx, targets = ng.randint(0, 64, (4, 32)), ng.randint(0, 64, (4, 32))
    loss, grads, kept, after = gpt_step(model, idx, targets)

    blocks = model.transformer.h
    for i in range(len(blocks)):
        blocks[i] = Checkpointed(blocks[i], use_reentrant)
    ck_loss, ck_grads, ck_kept, ck_after = gpt_step(model, idx, targets)

    assert ck_loss == loss
    assert len(ck_grads) == len(grads)
    for a, b in zip(grads, ck_grads):
        assert np.array_equal(a, b)
    assert np.array_equal(after.numpy(), ck_after.numpy())  # the generator moved on the same
    # Plain: every block's activations (about 1.1 MB each here); checkpointed: one (B, T, C)
    # input per block plus the head (about 0.3 MB in all).
    assert ck_kept < 0.4 * kept, (ck_kept, kept)
