"""torch.autograd.functional (vjp, jvp, jacobian, hessian, vhp, hvp) against PyTorch.

Each function runs on both libraries on the same functions (elementwise, matmul-based, several
inputs and outputs, a tiny MLP's loss w.r.t. its parameters), and the results must agree in
structure (Tensor or tuple, nested as PyTorch nests them), shape, dtype, `requires_grad` and
value. With create_graph=True the results are also backpropagated into the inputs, and those
gradients must agree too. Then strict mode, the other options and PyTorch's errors.
"""

import inspect

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF
from torch_compare import assert_close, same_error

import numpy2gpt as ng
import numpy2gpt.autograd.functional as NF

NAMES = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _r(*shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _mlp_loss(lib):
    """The mean squared error of a tiny tanh MLP, as a function of its four parameters."""
    X, y = lib.tensor(_r(5, 3, seed=10)), lib.tensor(_r(5, 1, seed=11))

    def loss(w1, b1, w2, b2):
        hidden = lib.tanh(X.to(w1.dtype) @ w1 + b1)
        return ((hidden @ w2 + b2 - y.to(w1.dtype)) ** 2).mean()
    return loss


# name -> (lib -> function, input arrays, does it return one single-element tensor)
FUNCS = {
    "elementwise": (lambda lib: lambda x: (x * x.exp()).sin(), [_r(2, 3, seed=0)], False),
    "matmul": (lambda lib: lambda x, w: (x @ w).tanh(), [_r(2, 3, seed=1), _r(3, 2, seed=2)],
               False),
    "multi_out": (lambda lib: lambda x, w: ((x @ w).sum() * w, (x ** 3).sum()),
                  [_r(2, 3, seed=3), _r(3, seed=4)], False),
    "scalar": (lambda lib: lambda x, w: ((x @ w) ** 2).sum() + x.exp().sum(),
               [_r(2, 3, seed=5), _r(3, seed=6)], True),
    "one_input_scalar": (lambda lib: lambda x: (x.sin() * x).sum(), [_r(4, seed=7)], True),
    "mlp_loss": (_mlp_loss, [_r(3, 4, seed=12), _r(4, seed=13), _r(4, 1, seed=14),
                             _r(1, seed=15)], True),
}


def _pack(tensors):
    """One Tensor for one, else a tuple: how the functions take `inputs` and `v`."""
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def _call(lib, name, fname, dtype, requires_grad=False, **kw):
    """Run autograd.functional.<name> on `fname` in `lib`. Returns (result, input leaves)."""
    make_func, arrays, _ = FUNCS[fname]
    func = make_func(lib)
    inputs = [lib.tensor(a.astype(dtype), requires_grad=requires_grad) for a in arrays]
    args = {}
    if name == "vjp":  # v is shaped like the outputs
        outs = func(*[lib.tensor(a.astype(dtype)) for a in arrays])
        outs = outs if isinstance(outs, tuple) else (outs,)
        args["v"] = _pack([lib.tensor(_r(*o.shape, seed=20 + i).astype(dtype))
                           for i, o in enumerate(outs)])
    elif name in ("jvp", "vhp", "hvp"):  # v is shaped like the inputs
        args["v"] = _pack([lib.tensor(_r(*a.shape, seed=30 + i).astype(dtype))
                           for i, a in enumerate(arrays)])
    module = NF if lib is ng else TF
    return getattr(module, name)(func, _pack(inputs), **args, **kw), inputs


def _flat(ours, theirs, where="result"):
    """Check that both results nest alike; yield the pairs of tensors in them."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ng.Tensor), f"{where}: a {type(ours).__name__}, not a Tensor"
        yield where, ours, theirs
        return
    assert type(ours) is tuple and type(theirs) is tuple, f"{where}: {type(ours).__name__}"
    assert len(ours) == len(theirs), f"{where}: {len(ours)} items, PyTorch has {len(theirs)}"
    for i, (o, t) in enumerate(zip(ours, theirs)):
        yield from _flat(o, t, f"{where}[{i}]")


def _rtol(dtype):
    return 1e-10 if dtype == np.float64 else 2e-5


def _assert_same(ours, theirs, dtype):
    pairs = list(_flat(ours, theirs))
    for where, o, t in pairs:
        assert o.requires_grad == t.requires_grad, f"{where}: requires_grad differs"
        assert_close(o, t, rtol=_rtol(dtype), what=where)
    return pairs


CASES = [(name, fname) for name in NAMES for fname, (_, _, scalar) in FUNCS.items()
         if scalar or name not in ("hessian", "vhp", "hvp")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, fname", CASES)
def test_matches_torch(name, fname, dtype):
    (ours, _), (theirs, _) = (_call(lib, name, fname, dtype) for lib in (ng, torch))
    pairs = _assert_same(ours, theirs, dtype)
    assert all(o.dtype == (ng.float32 if dtype == np.float32 else ng.float64)
               for _, o, _ in pairs)  # float32 stays float32


@pytest.mark.parametrize("name, fname", CASES)
def test_create_graph_backpropagates_into_the_inputs(name, fname):
    """create_graph=True: the results carry a graph back to the inputs that require grad, and
    its gradients (one derivative order higher) match PyTorch's."""
    runs = [_call(lib, name, fname, np.float64, requires_grad=True, create_graph=True)
            for lib in (ng, torch)]
    (ours, ours_in), (theirs, theirs_in) = runs
    pairs = _assert_same(ours, theirs, np.float64)
    wanted = [(o, t, _r(*t.shape, seed=40 + k)) for k, (_, o, t) in enumerate(pairs)
              if t.requires_grad]
    assert wanted, "nothing requires grad: the test would check nothing"
    sum(((o * ng.tensor(w)).sum() for o, _, w in wanted), ng.tensor(0.0)).backward()
    sum(((t * torch.tensor(w)).sum() for _, t, w in wanted), torch.tensor(0.0)).backward()
    for i, (x, tx) in enumerate(zip(ours_in, theirs_in)):
        if tx.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {i}"
        else:
            assert_close(x.grad, tx.grad, rtol=1e-8, what=f"gradient of input {i}")


@pytest.mark.parametrize("name", ["vjp", "jacobian", "vhp"])
def test_no_graph_without_create_graph(name):
    """Without create_graph the results are detached, even from inputs that require grad, and
    the functions also run under no_grad."""
    for lib in (ng, torch):
        with lib.no_grad():
            res, inputs = _call(lib, name, "scalar", np.float64, requires_grad=True)
        flat = res if name == "jacobian" else res[0:1] + res[1]
        assert all(not t.requires_grad for t in flat)
        assert all(x.grad is None for x in inputs)
    (ours, _), (theirs, _) = (_call(lib, name, "scalar", np.float64) for lib in (ng, torch))
    _assert_same(ours, theirs, np.float64)


def test_results_keep_pytorch_shapes():
    x, w = _r(2, 3, seed=0), _r(3, seed=1)
    f = lambda lib: lambda x, w: (x @ w, (x * x).sum())  # noqa: E731
    ours, theirs = (m.jacobian(f(lib), (lib.tensor(x), lib.tensor(w)))
                    for lib, m in ((ng, NF), (torch, TF)))
    assert [[tuple(j.shape) for j in row] for row in ours] == [[(2, 2, 3), (2, 3)], [(2, 3), (3,)]]
    _assert_same(ours, theirs, np.float64)
    # a one-element (1,) output is squeezed: the Hessian of x is x.shape + x.shape
    ours, theirs = (m.hessian(lambda x: (x ** 3).sum().reshape(1), lib.tensor(w))
                    for lib, m in ((ng, NF), (torch, TF)))
    assert tuple(ours.shape) == (3, 3)
    _assert_same(ours, theirs, np.float64)


@pytest.mark.parametrize("name, f, arg", [
    ("vjp", lambda x: (x ** 3).sum(), [1.5, -0.5]),  # one single-element output
    ("jvp", lambda x: x ** 3, 1.5),  # one single-element input (also for vhp and hvp)
    ("vhp", lambda x: x ** 3, [1.5]),
    ("hvp", lambda x: x ** 3, 1.5),
])
def test_v_may_be_omitted_for_one_element(name, f, arg):
    ours, theirs = (getattr(m, name)(f, lib.tensor(arg)) for lib, m in ((ng, NF), (torch, TF)))
    _assert_same(ours, theirs, np.float32)


def test_inputs_are_fresh_tensors():
    """A tensor the function reads from a closure is a constant, not the input itself."""
    for lib, m in ((ng, NF), (torch, TF)):
        c = lib.tensor([1.0, 2.0, 3.0])
        jac = m.jacobian(lambda y, c=c: y * c, c)
        np.testing.assert_array_equal(jac.numpy(), np.diag([1.0, 2.0, 3.0]))


X3, Y2 = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0])
# y is unused and one output is a constant: their results are zeros of their shapes. (Both the
# inputs and the outputs have shapes (3,) and (2,), so v fits either.) name -> (func, takes v)
INDEPENDENT = {
    "vjp": (lambda x, y: (x * 2, x.detach()[:2] + 1), True),
    "jvp": (lambda x, y: (x * 2, x.detach()[:2] + 1), True),
    "jacobian": (lambda x, y: (x * 2, x.detach()[:2] + 1), False),
    "hessian": (lambda x, y: (x * x).sum(), False),
    "vhp": (lambda x, y: (x * x).sum(), True),
    "hvp": (lambda x, y: (x * x).sum(), True),
}


@pytest.mark.parametrize("name", INDEPENDENT)
def test_independent_input_gets_zeros(name):
    f, has_v = INDEPENDENT[name]
    results = []
    for lib, m in ((ng, NF), (torch, TF)):
        inputs = (lib.tensor(X3), lib.tensor(Y2))
        kw = {"v": (lib.tensor(X3), lib.tensor(Y2))} if has_v else {}
        results.append(getattr(m, name)(f, inputs, **kw))
    _assert_same(*results, np.float64)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # (torch's vmap)
def test_vectorize_and_forward_mode_give_the_same_jacobian():
    x = _r(3, seed=0)
    f = lambda x: ((x * x).exp(), x.double().sum())  # noqa: E731
    for kw in ({"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}):
        ours, theirs = (m.jacobian(f, lib.tensor(x.astype(np.float32)), **kw)
                        for lib, m in ((ng, NF), (torch, TF)))
        _assert_same(ours, theirs, np.float32)  # forward mode: the outputs' dtypes
    ours, theirs = (m.hessian(lambda x: (x ** 3).sum(), lib.tensor(x), vectorize=True)
                    for lib, m in ((ng, NF), (torch, TF)))
    _assert_same(ours, theirs, np.float64)


def test_signatures_match_torch():
    for name in NAMES:
        assert inspect.signature(getattr(NF, name)) == inspect.signature(getattr(TF, name))
    assert sorted(NF.__all__) == sorted(TF.__all__)
    assert ng.autograd.functional is NF


# ---- strict mode and errors -------------------------------------------------------------------

def _x(lib):
    return lib.tensor([1.0, 2.0, 3.0])


def _m(lib):
    return NF if lib is ng else TF


STRICT = {
    "vjp: an output that needs no grad": lambda lib: _m(lib).vjp(
        lambda x: x.detach(), _x(lib), _x(lib), strict=True),
    "vjp: an unused input": lambda lib: _m(lib).vjp(
        lambda x, y: x * 2, (_x(lib), _x(lib)), _x(lib), strict=True),
    "vjp: create_graph, a constant gradient": lambda lib: _m(lib).vjp(
        lambda x: x * 2, _x(lib), _x(lib), strict=True, create_graph=True),
    "jvp: an unused input": lambda lib: _m(lib).jvp(
        lambda x, y: x * 2, (_x(lib), _x(lib)), (_x(lib), _x(lib)), strict=True),
    "jvp: a constant output": lambda lib: _m(lib).jvp(
        lambda x: (x * 2, x.detach() + 1), _x(lib), _x(lib), strict=True),
    "jvp: create_graph, linear": lambda lib: _m(lib).jvp(
        lambda x: x * 2, _x(lib), _x(lib), strict=True, create_graph=True),
    "jacobian: an unused input": lambda lib: _m(lib).jacobian(
        lambda x, y: x * 2, (_x(lib), _x(lib)), strict=True),
    "jacobian: create_graph, linear": lambda lib: _m(lib).jacobian(
        lambda x: x * 2, _x(lib), strict=True, create_graph=True),
    "hessian: linear": lambda lib: _m(lib).hessian(
        lambda x: (x * 2).sum(), _x(lib), strict=True),
    "hessian: create_graph, quadratic": lambda lib: _m(lib).hessian(
        lambda x: (x * x).sum(), _x(lib), strict=True, create_graph=True),
    "vhp: linear": lambda lib: _m(lib).vhp(
        lambda x: (x * 2).sum(), _x(lib), _x(lib), strict=True),
    "vhp: an unused input": lambda lib: _m(lib).vhp(
        lambda x, y: (x * x).sum(), (_x(lib), _x(lib)), (_x(lib), _x(lib)), strict=True),
    "vhp: create_graph, quadratic": lambda lib: _m(lib).vhp(
        lambda x: (x * x).sum(), _x(lib), _x(lib), strict=True, create_graph=True),
    "hvp: a constant output": lambda lib: _m(lib).hvp(
        lambda x: x.sum().detach(), _x(lib), _x(lib), strict=True),
    "hvp: an unused input": lambda lib: _m(lib).hvp(
        lambda x, y: (x * x).sum(), (_x(lib), _x(lib)), (_x(lib), _x(lib)), strict=True),
}


@pytest.mark.parametrize("case", STRICT)
def test_strict_errors(case):
    same_error(STRICT[case])


def test_strict_message_names_output_and_input():
    with pytest.raises(RuntimeError, match="^Output 0 of the user-provided function is "
                       "independent of input 1. This is not allowed in strict mode.$"):
        NF.jacobian(lambda x, y: x * 2, (_x(ng), _x(ng)), strict=True)


def test_strict_passes_when_everything_depends():
    for lib in (ng, torch):
        m = _m(lib)
        m.vjp(lambda x: (x ** 3).sum(), _x(lib), strict=True)
        m.jvp(lambda x: x ** 3, _x(lib), _x(lib), strict=True, create_graph=True)
        m.hessian(lambda x: (x ** 3).sum(), _x(lib), strict=True, create_graph=True)
        m.hvp(lambda x: (x ** 3).sum(), _x(lib), _x(lib), strict=True)


ERRORS = {
    "inputs a list": lambda lib: _m(lib).vjp(lambda x: x * 2, [_x(lib)], _x(lib)),
    "inputs hold a number": lambda lib: _m(lib).jvp(lambda x, y: x, (_x(lib), 3), _x(lib)),
    "output a float": lambda lib: _m(lib).vjp(lambda x: 3.0, _x(lib), _x(lib)),
    "output a list": lambda lib: _m(lib).jacobian(lambda x: [x], _x(lib)),
    "v a number": lambda lib: _m(lib).vjp(lambda x: x * 2, _x(lib), 5),
    "v missing, vjp": lambda lib: _m(lib).vjp(lambda x: x * 2, _x(lib)),
    "v missing, jvp": lambda lib: _m(lib).jvp(lambda x: x * 2, _x(lib)),
    "v missing, vhp": lambda lib: _m(lib).vhp(lambda x: x.sum(), _x(lib)),
    "v missing, hvp": lambda lib: _m(lib).hvp(lambda x: x.sum(), _x(lib)),
    "v too short": lambda lib: _m(lib).vjp(lambda x: (x, x), _x(lib), (_x(lib),)),
    "v a tuple for one": lambda lib: _m(lib).jvp(lambda x: x, _x(lib), (_x(lib), _x(lib))),
    "integer input": lambda lib: _m(lib).jacobian(lambda x: x * 2, lib.tensor([1, 2])),
    "empty output": lambda lib: _m(lib).jacobian(lambda x: x[:0], _x(lib)),
    "hessian of a vector": lambda lib: _m(lib).hessian(lambda x: x ** 3, _x(lib)),
    "hessian of a tuple": lambda lib: _m(lib).hessian(lambda x: ((x ** 3).sum(),), _x(lib)),
    "vhp of a vector": lambda lib: _m(lib).vhp(lambda x: x ** 3, _x(lib), _x(lib)),
    "hvp of a tuple": lambda lib: _m(lib).hvp(lambda x: ((x ** 3).sum(),), _x(lib), _x(lib)),
    "unknown strategy": lambda lib: _m(lib).jacobian(lambda x: x, _x(lib), strategy="fwd"),
    "unknown outer strategy": lambda lib: _m(lib).hessian(
        lambda x: x.sum(), _x(lib), outer_jacobian_strategy="fwd"),
    "forward mode, not vectorized": lambda lib: _m(lib).jacobian(
        lambda x: x, _x(lib), strategy="forward-mode"),
    "forward mode, create_graph": lambda lib: _m(lib).jacobian(
        lambda x: x, _x(lib), strategy="forward-mode", create_graph=True, vectorize=True),
    "forward mode, strict": lambda lib: _m(lib).jacobian(
        lambda x: x, _x(lib), strategy="forward-mode", strict=True, vectorize=True),
    "forward-over-reverse hessian, not vectorized": lambda lib: _m(lib).hessian(
        lambda x: x.sum(), _x(lib), outer_jacobian_strategy="forward-mode"),
    "vectorize and strict": lambda lib: _m(lib).jacobian(
        lambda x: x * x, _x(lib), vectorize=True, strict=True),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors(case):
    same_error(ERRORS[case], same_message=case != "integer input")


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_v_of_the_wrong_size(name):
    """PyTorch's message, with numpy2gpt.Size where PyTorch prints torch.Size."""
    messages = []
    for lib in (ng, torch):
        x = _x(lib)
        with pytest.raises(RuntimeError) as e:
            getattr(_m(lib), name)(lambda x, y: (x, y), (x, x), (x, lib.ones(2)))
        messages.append(str(e.value).replace("torch.Size", "numpy2gpt.Size"))
    assert messages[0] == messages[1]
    assert messages[0].startswith("Entry 1 in v has invalid size")
