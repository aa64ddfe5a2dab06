"""torch.func (numpy2gpt.func) against PyTorch's: grad, grad_and_value, vjp, jvp, jacrev,
jacfwd, hessian, vmap, functional_call, stack_module_state - values, shapes, pytrees, nesting,
which results keep a graph (requires_grad), the per-sample-gradient and ensembling recipes of
PyTorch's tutorials, and PyTorch's errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.func as tf
import torch.utils._pytree as pytree
from torch_compare import same_error

import numpy2gpt as ng
import numpy2gpt.func as nf

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((3, 4)), RNG.standard_normal((5, 4))


def _closure_requiring_grad(T, F):
    w = T.tensor(Y[:3], requires_grad=True)  # f closes over w: grad(f)(x) is a function of w
    g = F.grad(lambda x: (x * w).sin().sum())(T.tensor(X))
    g.sum().backward()
    return g, w.grad


def _only_through_the_argument(T, F):
    x = T.tensor(X, requires_grad=True)  # x is also closed over: only the argument counts
    g = F.grad(lambda y: (y * x).sum())(x)
    g.sum().backward()
    return g, x.grad


def _per_sample_gradients(T, F):
    T.manual_seed(0)
    model = T.nn.Linear(4, 2).double()
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):
        out = F.functional_call(model, p, (x.unsqueeze(0),))
        return T.nn.functional.cross_entropy(out, y.unsqueeze(0))
    return F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, T.tensor(X), T.tensor([0, 1, 1]))


def _functional_call(T, F):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(4, 3), T.nn.ReLU(), T.nn.Linear(3, 1)).double()
    doubled = {k: v * 2 for k, v in model.named_parameters()}
    return F.functional_call(model, doubled, T.tensor(X)), model(T.tensor(X))


def _tied_weights(T, F):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(4, 4, bias=False), T.nn.Linear(4, 4, bias=False))
    model = model.double()
    model[1].weight = model[0].weight
    new = {"0.weight": T.tensor(np.eye(4) * 3)}
    return (F.functional_call(model, new, T.tensor(X)),
            F.functional_call(model, new, T.tensor(X), tie_weights=False))


def _ensemble(T, F):
    T.manual_seed(0)
    models = [T.nn.Linear(4, 2).double() for _ in range(3)]
    params, buffers = F.stack_module_state(models)

    def run(p, b, x):
        return F.functional_call(models[0], (p, b), (x,))
    return params, F.vmap(run, in_dims=(0, 0, None))(params, buffers, T.tensor(X))


def _maml_step(T, F):
    """A MAML inner step: the adapted weights are a function of the meta-parameters."""
    T.manual_seed(0)
    model = T.nn.Linear(4, 1).double()
    params = dict(model.named_parameters())

    def loss(p, x):
        return F.functional_call(model, p, (x,)).pow(2).mean()
    g = F.grad(loss)(params, T.tensor(X))
    adapted = {k: params[k] - 0.1 * g[k] for k in params}
    loss(adapted, T.tensor(Y)).backward()
    return [p.grad for p in model.parameters()]


CASES = {
    "grad": lambda T, F: F.grad(lambda x: (x.sin() * x).sum())(T.tensor(X)),
    "grad argnums tuple": lambda T, F: F.grad(lambda x, y: (x @ y.T).tanh().sum(),
                                              argnums=(0, 1))(T.tensor(X), T.tensor(Y)),
    "grad argnums 1": lambda T, F: F.grad(lambda x, y: (x @ y.T).tanh().sum(),
                                          argnums=1)(T.tensor(X), T.tensor(Y)),
    "grad negative argnum": lambda T, F: F.grad(lambda x, y: (x * y[:3]).sum(),
                                                argnums=-1)(T.tensor(X), T.tensor(Y)),
    "grad of a dict": lambda T, F: F.grad(lambda p, x: (x @ p["w"].T + p["b"]).pow(2).sum())(
        {"w": T.tensor(Y), "b": T.tensor(Y[:, 0])}, T.tensor(X)),
    "grad unused input": lambda T, F: F.grad(lambda x, y: x.sum(), argnums=(0, 1))(
        T.tensor(X), T.tensor(Y)),
    "grad has_aux": lambda T, F: F.grad(lambda x: ((x ** 3).sum(), x.cos()), has_aux=True)(
        T.tensor(X)),
    "grad_and_value": lambda T, F: F.grad_and_value(lambda x: x.exp().sum())(T.tensor(X)),
    "grad_and_value has_aux": lambda T, F: F.grad_and_value(
        lambda x: (x.exp().sum(), {"a": x * 2}), has_aux=True)(T.tensor(X)),
    "grad of grad": lambda T, F: F.grad(lambda x: F.grad(lambda y: (y.sin() ** 2).sum())(x)
                                        .sum())(T.tensor(X)),
    "grad closure constant": lambda T, F: F.grad(lambda x: (x * T.tensor(Y[:3])).sum())(
        T.tensor(X)),
    "grad closure requiring grad": _closure_requiring_grad,
    "grad only through the argument": _only_through_the_argument,
    "vjp": lambda T, F: (lambda o: (o[0], o[1](T.ones(3, 4, dtype=T.float64))))(
        F.vjp(lambda x: x.sin() * 2, T.tensor(X))),
    "vjp tuple": lambda T, F: (lambda o: (o[0], o[1]((T.ones(3, 4, dtype=T.float64),
                                                      T.ones(3, dtype=T.float64)))))(
        F.vjp(lambda x, y: (x.sin(), (x @ y.T).sum(1)), T.tensor(X), T.tensor(Y))),
    "vjp has_aux": lambda T, F: (lambda o: (o[0], o[1](T.ones(3, dtype=T.float64)), o[2]))(
        F.vjp(lambda x: (x.sum(1), x.max()), T.tensor(X), has_aux=True)),
    "jvp": lambda T, F: F.jvp(lambda x: x.sin() * x, (T.tensor(X),),
                              (T.ones(3, 4, dtype=T.float64),)),
    "jvp two primals": lambda T, F: F.jvp(lambda x, y: x @ y.T, (T.tensor(X), T.tensor(Y)),
                                          (T.ones(3, 4, dtype=T.float64), T.tensor(Y))),
    "jacrev": lambda T, F: F.jacrev(lambda x: x.sin().sum(0))(T.tensor(X)),
    "jacrev argnums": lambda T, F: F.jacrev(lambda x, y: x @ y.T, argnums=(0, 1))(
        T.tensor(X[:2]), T.tensor(Y[:2])),
    "jacrev tuple output": lambda T, F: F.jacrev(lambda x: (x.sum(), x.exp()))(T.tensor(X[0])),
    "jacfwd": lambda T, F: F.jacfwd(lambda x: x.tanh() * 3)(T.tensor(X[0])),
    "hessian": lambda T, F: F.hessian(lambda x: (x.sin() * x.prod()).sum())(T.tensor(X[0])),
    "vmap": lambda T, F: F.vmap(lambda x: x.sin().sum())(T.tensor(X)),
    "vmap in_dims": lambda T, F: F.vmap(lambda x, y: x @ y, in_dims=(0, None))(
        T.tensor(X), T.tensor(Y.T)),
    "vmap in_dims=1": lambda T, F: F.vmap(lambda x: x * 2, in_dims=1)(T.tensor(X)),
    "vmap out_dims=1": lambda T, F: F.vmap(lambda x: x * 2, out_dims=1)(T.tensor(X)),
    "vmap tuple output": lambda T, F: F.vmap(lambda x: (x.sum(), x.max()))(T.tensor(X)),
    "vmap of vmap": lambda T, F: F.vmap(F.vmap(lambda a, b: a * b))(T.tensor(X), T.tensor(X)),
    "vmap randomness same": lambda T, F: F.vmap(lambda x: x + T.zeros(2).normal_(),
                                                randomness="same")(T.tensor(X[:, :2])),
    "per-sample gradients": _per_sample_gradients,
    "functional_call": _functional_call,
    "functional_call tied weights": _tied_weights,
    "stack_module_state and an ensemble": _ensemble,
    "MAML inner step": _maml_step,
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_like_torch_func(case):
    """The same values, shapes, structure and requires_grad as torch.func."""
    results = []
    for lib, func in ((ng, nf), (torch, tf)):
        lib.manual_seed(0)
        results.append(CASES[case](lib, func))
    ours, spec = nf._flatten(results[0])
    theirs, their_spec = pytree.tree_flatten(results[1])
    assert len(ours) == len(theirs)
    for x, y in zip(ours, theirs, strict=True):
        assert tuple(x.shape) == tuple(y.shape) and x.requires_grad == y.requires_grad
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert nf._spec_str(spec) == str(their_spec.num_leaves and _spec_str_torch(their_spec))


def _spec_str_torch(spec):
    """torch's TreeSpec in numpy2gpt.func's notation, to compare the structures."""
    if spec.is_leaf():
        return "*"
    children = [_spec_str_torch(c) for c in spec.children()]
    if spec.type is dict:
        return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(spec.context, children)) + "}"
    inner = ", ".join(children)
    if spec.type is list:
        return f"[{inner}]"
    return f"({inner},)" if len(children) == 1 else f"({inner})"


ERRORS = {
    "grad of a non-scalar": lambda T, F: F.grad(lambda x: x)(T.ones(2)),
    "grad of an int tensor": lambda T, F: F.grad(lambda x: x.sum())(T.ones(2, dtype=T.int64)),
    "argnum out of range": lambda T, F: F.grad(lambda x: x.sum(), argnums=2)(T.ones(2)),
    "argnums empty": lambda T, F: F.grad(lambda x: x.sum(), argnums=())(T.ones(2)),
    "argnums float": lambda T, F: F.grad(lambda x: x.sum(), argnums=1.5)(T.ones(2)),
    "vjp cotangent structure": lambda T, F: F.vjp(lambda x: x.sin(), T.ones(3))[1](
        (T.ones(3),)),
    "jvp primals not a tuple": lambda T, F: F.jvp(lambda x: x, T.ones(2), (T.ones(2),)),
    "vmap sizes differ": lambda T, F: F.vmap(lambda x, y: x + y)(T.ones(2), T.ones(3)),
    "vmap random op": lambda T, F: F.vmap(lambda x: T.rand(1))(T.ones(2)),
    "vmap non-tensor output": lambda T, F: F.vmap(lambda x: 1.0)(T.ones(2)),
    "vmap in_dim out of range": lambda T, F: F.vmap(lambda x: x, in_dims=2)(T.ones(2, 2)),
    "functional_call strict": lambda T, F: F.functional_call(
        T.nn.Linear(2, 2), {"weight": T.ones(2, 2)}, T.ones(2), strict=True),
    "functional_call twice the same key": lambda T, F: F.functional_call(
        T.nn.Linear(2, 2), ({"bias": T.ones(2)}, {"bias": T.ones(2)}), T.ones(2)),
}


@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_errors_like_torch_func(case):
    same_error(lambda lib: ERRORS[case](lib, nf if lib is ng else tf))


def test_the_module_is_left_as_it_was_and_the_old_home_warns():
    model = ng.nn.Linear(2, 2)
    weight = model.weight
    nf.functional_call(model, {"weight": ng.ones(2, 2)}, (ng.ones(2),), {})
    assert model.weight is weight and list(model._parameters) == ["weight", "bias"]
    with pytest.raises(RuntimeError):  # an error inside the call still restores the module
        nf.functional_call(model, {"weight": ng.ones(3, 3)}, ng.ones(2))
    assert model.weight is weight
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = ng.nn.utils.stateless.functional_call(model, {"bias": ng.zeros(2)}, ng.ones(2))
    assert [w.category for w in caught] == [FutureWarning]
    np.testing.assert_allclose(y.detach().numpy(), model.weight.detach().numpy().sum(1),
                               rtol=1e-6)
    assert ng.func.grad is nf.grad
