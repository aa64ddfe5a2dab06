"""Module backward hooks (full, pre, legacy, global) and state-dict hooks, against real PyTorch:
which hooks fire, in which order, with which gradients (values, dtypes, shapes, None-ness), the
final .grad after a hook replaces a gradient, and PyTorch's errors and warnings."""

import warnings
from importlib import import_module

import numpy as np
import pytest
import torch

import numpy2gpt as n2g

LIBS = pytest.mark.parametrize("lib", [n2g, torch], ids=["numpy2gpt", "torch"])


def arrays(grads):
    """A hook's gradient tuple as NumPy arrays (None stays None): comparable across libraries."""
    return tuple(None if g is None else g.detach().numpy().copy() for g in grads)


def assert_same_log(ours, theirs, rtol):
    """Two logs of (name, kind, gradient tuples...) entries: same order, shapes, dtypes, values."""
    assert [e[:2] for e in ours] == [e[:2] for e in theirs]
    for a, b in zip(ours, theirs):
        for xs, ys in zip(a[2:], b[2:]):
            if isinstance(xs, str):
                assert xs == ys
                continue
            assert len(xs) == len(ys), (a[:2], xs, ys)
            for x, y in zip(xs, ys):
                assert (x is None) == (y is None), (a[:2], x, y)
                if x is not None:
                    assert x.shape == y.shape and x.dtype == y.dtype, (a[:2], x, y)
                    np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol)


def nested_model(lib, dtype):
    """Outer(x, y) = tanh(lin(p)) + lin(q) with (p, q) = Two(x, y): nested modules, a module
    (lin) called twice in one graph, a module with two outputs, an input that needs no grad."""
    nn = lib.nn

    class Two(nn.Module):
        def forward(self, a, b, k=None):
            return a * b, a + 1

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.two, self.act = nn.Linear(3, 2), Two(), nn.Tanh()

        def forward(self, x, y):
            p, q = self.two(x, y)
            return self.act(self.lin(p)) + self.lin(q)

    m = Outer().to(dtype)
    with lib.no_grad():
        m.lin.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10))
        m.lin.bias.copy_(lib.tensor([0.1, -0.2]))
    return m


def run_nested(lib, dtype, replace):
    m = nested_model(lib, getattr(lib, dtype))
    log = []
    for name, mod in [("outer", m), ("lin", m.lin), ("two", m.two), ("act", m.act)]:
        mod.register_full_backward_pre_hook(
            lambda mod, go, name=name: log.append((name, "pre", arrays(go))))
        mod.register_full_backward_hook(
            lambda mod, gi, go, name=name: log.append((name, "full", arrays(gi), arrays(go))))
    if replace:
        m.two.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2, None))
        m.act.register_full_backward_pre_hook(lambda mod, go: (go[0] * -3,), prepend=True)
    dt = getattr(lib, dtype)
    x = lib.tensor([[1.0, 2, 3], [4, 5, 6]], dtype=dt, requires_grad=True)
    y = lib.tensor([[1.0, -1, 2], [0.5, 1, 1]], dtype=dt)
    out = m(x, y)
    out.backward(lib.tensor([[1.0, 2], [3, 4]], dtype=dt), retain_graph=True)
    log.append(("grads", "1", arrays([x.grad, m.lin.weight.grad, m.lin.bias.grad])))
    out.sum().backward()  # the same graph again: the hooks fire again
    log.append(("grads", "2", arrays([x.grad, m.lin.weight.grad, m.lin.bias.grad])))
    return log


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("replace", [False, True], ids=["observe", "replace"])
def test_nested_modules_fire_in_pytorchs_order_with_its_gradients(dtype, replace):
    ours, theirs = run_nested(n2g, dtype, replace), run_nested(torch, dtype, replace)
    assert_same_log(ours, theirs, rtol=1e-5 if dtype == "float32" else 1e-10)
    kinds = [e[:2] for e in ours]
    # outer's pre-hook first, its full hook last; lin (called twice) fires once per call
    assert kinds[0] == ("outer", "pre") and kinds[9] == ("outer", "full")
    assert kinds[:10].count(("lin", "full")) == 2 and len(ours) == 22


def test_grad_input_none_for_non_tensors_zeros_for_tensors_without_grad():
    def run(lib):
        class M(lib.nn.Module):
            def forward(self, a, b, n, k, i):
                return a * b * k, b.sum(), lib.ones(2), 5  # outputs 1-3 get no gradient

        log = []
        m = M()
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("m", "pre", arrays(go))))
        m.register_full_backward_hook(
            lambda mod, gi, go: log.append(("m", "full", arrays(gi), arrays(go))))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0])  # needs no grad: zeros in grad_input
        i = lib.tensor([1, 2])  # integer: zeros of its dtype
        out = m(a, b, "name", 2.0, i)
        assert out[2].requires_grad is False and out[3] == 5
        assert out[1].requires_grad is False
        out[0].sum().backward()
        log.append(("a", "grad", arrays([a.grad])))
        return log

    assert_same_log(run(n2g), run(torch), rtol=0)


@LIBS
def test_hook_returning_new_grads_sets_the_final_grad(lib):
    class Two(lib.nn.Module):
        def forward(self, a, b):
            return a * b

    def grads(full=None, pre=None):
        m = Two()
        if full:
            m.register_full_backward_hook(full)
        if pre:
            m.register_full_backward_pre_hook(pre)
        a = lib.ones(2, 3, requires_grad=True)
        b = lib.full((2, 3), 2.0, requires_grad=True)
        m(a, b).sum().backward()
        return [None if t.grad is None else t.grad.tolist() for t in (a, b)]

    twos, fives, tens = [[2.0] * 3] * 2, [[5.0] * 3] * 2, [[10.0] * 3] * 2
    assert grads(full=lambda m, gi, go: [gi[0] * 3, gi[1] * 5]) == [[[6.0] * 3] * 2, fives]
    assert grads(full=lambda m, gi, go: (None, gi[1])) == [None, [[1.0] * 3] * 2]
    assert grads(pre=lambda m, go: [go[0] * 5]) == [tens, fives]
    assert grads(pre=lambda m, go: None, full=lambda m, gi, go: None) == [twos, [[1.0] * 3] * 2]


@pytest.mark.parametrize("case", range(6))
def test_bad_hook_results_raise_pytorchs_errors(case):
    full, pre = [
        (lambda lib: lambda m, gi, go: (gi[0],), None),
        (lambda lib: lambda m, gi, go: (lib.ones(3), gi[1]), None),
        (lambda lib: lambda m, gi, go: (gi[0].double(), gi[1]), None),
        (lambda lib: lambda m, gi, go: (3, gi[1]), None),
        (None, lambda lib: lambda m, go: (go[0], go[0])),
        (None, lambda lib: lambda m, go: (lib.ones(3),)),
    ][case]

    def run(lib):
        class Two(lib.nn.Module):
            def forward(self, a, b):
                return a * b

        m = Two()
        if full:
            m.register_full_backward_hook(full(lib))
        if pre:
            m.register_full_backward_pre_hook(pre(lib))
        a, b = lib.ones(2, 3, requires_grad=True), lib.ones(2, 3, requires_grad=True)
        with pytest.raises((RuntimeError, TypeError)) as info:
            m(a, b).sum().backward()
        return info.type, str(info.value).replace("torch.", "numpy2gpt.")

    assert run(n2g) == run(torch)


@LIBS
def test_no_input_requires_grad_fires_at_the_outputs_with_a_warning(lib):
    class Scale(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))

        def forward(self, x, k):
            return x * self.w * k

    m, log = Scale(), []
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", go[0].tolist())))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", gi, go[0].tolist())))
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                         "computed with respect to module outputs since no "
                                         "inputs require gradients"):
        m(lib.ones(3), 2.0).sum().backward()
    assert log == [("pre", [1.0, 1.0, 1.0]), ("full", (None, None), [1.0, 1.0, 1.0])]
    assert m.w.grad.tolist() == [2.0, 2.0, 2.0]
    m.register_full_backward_hook(lambda mod, gi, go: (lib.ones(3), None))
    with pytest.raises(RuntimeError, match="Backward hook for Modules where no input requires "
                                           "gradient should always return None or None for all "
                                           "gradients."), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m(lib.ones(3), 2.0).sum().backward()


@LIBS
def test_no_grad_and_outputs_without_grad_fire_nothing(lib):
    log = []
    m = lib.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda *a: log.append("full"))
    m.register_full_backward_pre_hook(lambda *a: log.append("pre"))
    x = lib.ones(1, 2, requires_grad=True)
    with lib.no_grad():
        y = m(x)
    assert not y.requires_grad and y.grad_fn is None
    m.requires_grad_(False)
    assert not m(lib.ones(1, 2)).requires_grad
    m(x).sum().backward()  # grad mode, an input requiring grad: the hooks fire again
    assert log == ["pre", "full"]


@LIBS
def test_hooks_seen_at_forward_time_are_the_ones_that_run(lib):
    log = []
    m = lib.nn.Tanh()
    h = m.register_full_backward_hook(lambda *a: log.append("a"))
    x = lib.ones(2, requires_grad=True)
    y = m(x)
    h.remove()  # removed after forward: still runs for this graph
    with m.register_full_backward_hook(lambda *a: log.append("b")):
        y.sum().backward()
        m(x).sum().backward()
    m(x).sum().backward()
    assert log == ["a", "b"]
    assert m(x).grad_fn.name() == "TanhBackward0"  # no hook left: nothing is wrapped

    def twice(*args):
        log.append("twice")

    first = m.register_full_backward_pre_hook(twice)
    second = m.register_full_backward_pre_hook(twice, prepend=True)
    second.remove()
    second.remove()  # a handle removes its own registration only, once
    m(x).sum().backward()
    first.remove()
    m(x).sum().backward()
    assert log == ["a", "b", "twice"]


@LIBS
def test_forward_hooks_see_the_wrapped_inputs_and_may_replace_the_output(lib):
    log = []
    m = lib.nn.Linear(2, 2)
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_hook(
        lambda mod, args, out: log.append(type(args[0].grad_fn).__name__) or out * 10)
    m.register_full_backward_hook(lambda mod, gi, go: log.append(gi[0].tolist()))
    m.register_full_backward_pre_hook(lambda mod, go: log.append(go[0].tolist()))
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
    x = lib.ones(1, 2, requires_grad=True)
    m(x).sum().backward()
    assert log[0].startswith("BackwardHookFunction")
    assert log[1:] == [[[1.0, 1.0]], [[40.0, 60.0]]]  # the output hook saw the output x10
    assert x.grad.tolist() == [[80.0, 120.0]]


@LIBS
def test_non_tensor_output_warns_and_skips_the_hooks(lib):
    class Dict(lib.nn.Module):
        def forward(self, x):
            return {"a": x * 2}

    log, m = [], Dict()
    m.register_full_backward_hook(lambda *a: log.append(1))
    with pytest.warns(UserWarning, match="For backward hooks to be called, module output should "
                                         "be a Tensor or a tuple of Tensors but received "
                                         "<class 'dict'>"):
        out = m(lib.ones(2, requires_grad=True))
    out["a"].sum().backward()
    assert log == []


@LIBS
def test_in_place_edits_of_hooked_inputs_and_outputs_are_refused(lib):
    head = "Output 0 of BackwardHookFunction is a view and is being modified inplace"
    relu = lib.nn.ReLU(inplace=True)
    relu.register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match=head):
        relu(lib.randn(3, requires_grad=True) * 1)
    lin = lib.nn.Linear(3, 3)
    lin.register_full_backward_pre_hook(lambda *a: None)
    y = lin(lib.randn(3, requires_grad=True))
    with pytest.raises(RuntimeError, match=head):
        y.add_(1)
    with lib.no_grad():  # nothing is wrapped under no_grad, nor when nothing requires grad
        relu(lib.randn(3, requires_grad=True) * 1)
    assert relu(lib.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]


@LIBS
def test_double_backward_through_a_hooked_module(lib):
    log = []
    m = lib.nn.Tanh()
    m.register_full_backward_hook(
        lambda mod, gi, go: log.append(round(float(gi[0].detach().sum()), 5)))
    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    g, = lib.autograd.grad(m(x).sum(), x, create_graph=True)
    g.sum().backward()
    assert log == [1.27707]
    np.testing.assert_allclose(x.grad.tolist(), [-0.72686, 0.6397, -0.13622], atol=1e-5)


@LIBS
def test_gradient_reaching_the_inputs_but_not_through_the_output_fires_nothing(lib):
    class Keep(lib.nn.Module):
        def forward(self, x):
            self.kept = x  # the wrapped input, used again outside the module
            return x * 2

    log, m = [], Keep()
    m.register_full_backward_hook(lambda mod, gi, go: log.append(gi[0].tolist()))
    x = lib.ones(2, requires_grad=True)
    y = m(x)
    (m.kept * 3).sum().backward()  # no grad_output yet: the hook stays silent
    y.sum().backward()
    (m.kept * 3).sum().backward()  # (nor does a grad_output linger from the pass before)
    assert log == [[2.0, 2.0]] and x.grad.tolist() == [8.0, 8.0]


@LIBS
def test_global_hooks_fire_first_and_refuse_mixing(lib):
    mm = import_module(lib.__name__ + ".nn.modules.module")
    log = []
    h1 = mm.register_module_full_backward_hook(lambda m, gi, go: log.append(("g", type(m))))
    h2 = mm.register_module_full_backward_pre_hook(lambda m, go: log.append(("gpre", type(m))))
    try:
        s = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh())
        s[1].register_full_backward_hook(lambda m, gi, go: log.append(("own", type(m))))
        s[1].register_full_backward_pre_hook(lambda m, go: log.append(("ownpre", type(m))))
        x = lib.ones(1, 2, requires_grad=True)
        s(x).sum().backward()
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full "
                                               "backward hooks as a global Module hook"):
            mm.register_module_backward_hook(lambda *a: None)
    finally:
        h1.remove()
        h2.remove()
    s(x).sum().backward()
    nn = lib.nn
    assert [(k, t.__name__) for k, t in log] == [
        ("gpre", "Sequential"), ("gpre", "Tanh"), ("ownpre", "Tanh"), ("g", "Tanh"),
        ("own", "Tanh"), ("gpre", "Linear"), ("g", "Linear"), ("g", "Sequential"),
        ("ownpre", "Tanh"), ("own", "Tanh")]
    assert nn.Linear(1, 1)(lib.ones(1, requires_grad=True)).grad_fn.name() != \
        "BackwardHookFunctionBackward"


@LIBS
def test_legacy_backward_hook_on_a_single_op_module(lib):
    log = []
    m = lib.nn.Tanh()
    m.register_backward_hook(
        lambda mod, gi, go: log.append((gi[0].tolist(), go[0].tolist())) or (gi[0] * 3,))
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(FutureWarning, match="Using a non-full backward hook when the forward "
                                           "contains multiple autograd Nodes"):
        y = m(x)
    y.backward(lib.tensor([1.0, 2.0]))
    d = 1 - np.tanh(1.0) ** 2
    np.testing.assert_allclose(log[0][0], [1.0, 2 * d], rtol=1e-6)
    assert log[0][1] == [1.0, 2.0]
    np.testing.assert_allclose(x.grad.tolist(), [3.0, 6 * d], rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a non-leaf input: the one op is the whole forward
        m(x * 1)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full "
                                           "backward hooks on a single Module"):
        m.register_full_backward_hook(lambda *a: None)
    full = lib.nn.Tanh()
    full.register_full_backward_hook(lambda *a: None).remove()
    with pytest.raises(RuntimeError, match="Cannot use both regular"):
        full.register_backward_hook(lambda *a: None)


@pytest.mark.parametrize("case", ["len", "tensor", "shape"])
def test_legacy_backward_hook_errors(case):
    def run(lib):
        ret = {"len": lambda gi: (gi[0], gi[0]), "tensor": lambda gi: gi[0],
               "shape": lambda gi: (gi[0][:1],)}[case]
        m = lib.nn.Tanh()
        m.register_backward_hook(lambda mod, gi, go: ret(gi))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = m(lib.ones(2, requires_grad=True))
        with pytest.raises((RuntimeError, TypeError)) as info:
            y.sum().backward()
        return info.type, str(info.value)

    assert run(n2g) == run(torch)


def test_legacy_backward_hook_sees_the_last_op_of_a_composite_forward():
    def run(lib):
        class Sig2(lib.nn.Module):
            def forward(self, x):
                return lib.sigmoid(x) * 2

        log = []
        m = Sig2()
        m.register_backward_hook(lambda mod, gi, go: log.append(("m", "legacy", arrays(gi),
                                                                 arrays(go))))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m(lib.tensor([0.5, -1.0], requires_grad=True)).sum().backward()
        return log, [str(w.message) for w in caught]

    (ours, our_warnings), (theirs, their_warnings) = run(n2g), run(torch)
    assert_same_log(ours, theirs, rtol=1e-6)  # grad_input (d/dsigmoid, None for the 2)
    assert our_warnings == their_warnings and len(our_warnings) == 1


# ----- state-dict hooks --------------------------------------------------------------------------
def state_dict_hook_log(lib):
    log = []
    nn = lib.nn
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1)))
    for name, mod in m.named_modules():
        mod.register_state_dict_pre_hook(
            lambda mo, prefix, kv, name=name: log.append(("pre", name, prefix, kv)))
        mod.register_state_dict_post_hook(lambda mo, sd, prefix, md, name=name: log.append(
            ("post", name, prefix, list(sd), md)))
        mod.register_load_state_dict_pre_hook(
            lambda mo, sd, prefix, md, strict, mk, uk, em, name=name: log.append(
                ("load_pre", name, prefix, sorted(sd), strict, list(mk), list(uk))))
        mod.register_load_state_dict_post_hook(lambda mo, ik, name=name: log.append(
            ("load_post", name, list(ik.missing_keys), list(ik.unexpected_keys),
             [bool((p == 1).all()) for p in mo.parameters()])))  # loaded by then?
    sd = {k: lib.ones(v.shape) for k, v in m.state_dict().items()}
    del sd["1.0.bias"]
    sd["1.5.w"] = sd["0.bias"]
    result = m.load_state_dict(sd, strict=False)
    log.append(("result", result.missing_keys, result.unexpected_keys, m[0].weight.tolist()))
    return log


def test_state_dict_hooks_order_and_arguments_match_pytorch():
    ours, theirs = state_dict_hook_log(n2g), state_dict_hook_log(torch)
    assert ours == theirs
    assert ours[0] == ("pre", "", "", False) and ours[2][0] == "post"
    assert ("load_post", "0", [], [], [True, True]) in ours  # a child's: only its keys so far


@LIBS
def test_load_state_dict_hooks_rename_keys_and_edit_incompatible_keys(lib):
    m = lib.nn.Linear(2, 1)

    def rename(mod, sd, prefix, *rest):
        if prefix + "w" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "w")

    m.register_load_state_dict_pre_hook(rename)
    m.register_load_state_dict_post_hook(lambda mod, ik: ik.missing_keys.clear())
    source = {"w": lib.full((1, 2), 3.0)}
    assert m.load_state_dict(source).missing_keys == []  # strict, but the hook forgave "bias"
    assert m.weight.tolist() == [[3.0, 3.0]] and list(source) == ["w"]
    m2 = lib.nn.Linear(2, 1)
    m2.register_load_state_dict_post_hook(lambda mod, ik: ik.unexpected_keys.append("zz"))
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "zz"'):
        m2.load_state_dict({"weight": lib.ones(1, 2) * 4, "bias": lib.ones(1)})
    assert m2.weight.tolist() == [[4.0, 4.0]]  # (already loaded when the post-hook ran)
    m2.register_load_state_dict_post_hook(lambda mod, ik: 1)
    with pytest.raises(AssertionError, match="are not expected to return new values"):
        m2.load_state_dict(m2.state_dict(), strict=False)
    h = m.register_state_dict_post_hook(lambda mod, sd, prefix, md: sd)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()
    h.remove()
    assert list(m.state_dict()) == ["weight", "bias"]
