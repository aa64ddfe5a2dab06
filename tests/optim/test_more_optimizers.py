"""RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD and LBFGS against PyTorch's:
the same parameters and gradients on both sides, parameters AND state compared after every step,
state dicts, reprs, signatures and errors."""

import inspect

import numpy as np
import pytest
import torch as pt
from torch_compare import same_error

import numpy2gpt as torch
from numpy2gpt import optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}

CASES = [
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, maximize=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                     eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.9), eps=1e-4, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),  # rectified from step 6 on
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.8), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1, maximize=True)),
]
NAMES = sorted({name for name, _ in CASES})


def _grad(p, step, k):
    """A deterministic gradient that depends on the current parameter (like a real loss)."""
    noise = np.random.default_rng(1000 * step + k).standard_normal(p.shape)
    return (np.sin(3 * p) + 0.1 * p + 0.5 * noise).astype(p.dtype)


def _assert_close(a, b, tol, what):
    """np.testing.assert_allclose, with a fast path when the arrays are close (a run makes
    hundreds of these checks)."""
    if a.shape != b.shape or not np.all(np.abs(a - b) <= tol["atol"] + tol["rtol"] * np.abs(b)):
        np.testing.assert_allclose(a, b, **tol, err_msg=what)


def _assert_same_state(ours, theirs, tol):
    """Same keys in the same order; tensors of the same dtype and shape, close values."""
    assert list(ours) == list(theirs)
    for key, want in theirs.items():
        got = ours[key]
        assert isinstance(got, torch.Tensor), key
        assert str(got.dtype) == str(want.dtype)[6:] and tuple(got.shape) == tuple(want.shape)
        _assert_close(got.numpy(), want.numpy(), tol, key)


def _params(lib, dtype):
    return [lib.tensor(np.random.default_rng(i).standard_normal(s).astype(dtype),
                       requires_grad=True) for i, s in enumerate(SHAPES)]


def _groups(params, groups):
    """The first parameter in a group of its own with the options `groups` (or one group)."""
    return params if groups is None else [{"params": params[:1], **groups},
                                          {"params": params[1:]}]


def _run(name, kwargs, dtype=np.float64, steps=20, groups=None, skip=None, split_at=None,
         scheduler=None):
    """Run ours and PyTorch's side by side, comparing parameters and state after every step.

    skip(step, k): parameter k gets no gradient (None) at that step; split_at: after that step
    both optimizers are rebuilt from their state dicts (ours must go on as PyTorch's does);
    scheduler: a function (lib, optimizer) -> lr scheduler, stepped after each step."""
    tol = TOL[dtype]
    ours, theirs = _params(torch, dtype), _params(pt, dtype)
    o = getattr(optim, name)(_groups(ours, groups), **kwargs)
    t = getattr(pt.optim, name)(_groups(theirs, groups), **kwargs)
    schedulers = [scheduler(torch, o), scheduler(pt, t)] if scheduler else []
    for step in range(steps):
        for k, (a, b) in enumerate(zip(ours, theirs)):
            if skip is not None and skip(step, k):
                a.grad = b.grad = None
            else:
                a.grad = torch.tensor(_grad(a.detach().numpy(), step, k))
                b.grad = pt.tensor(_grad(b.detach().numpy(), step, k))
        o.step()
        t.step()
        for s in schedulers:
            s.step()
        if step == split_at:  # both rebuilt from their state dicts (which casts floating state
            # to the parameters' dtype: NAdam's mu_product, ASGD's eta and mu become float64)
            sd, tsd = o.state_dict(), t.state_dict()
            ours = [torch.tensor(a.detach().numpy().copy(), requires_grad=True) for a in ours]
            theirs = [pt.tensor(b.detach().numpy().copy(), requires_grad=True) for b in theirs]
            o = getattr(optim, name)(_groups(ours, groups), **kwargs)
            t = getattr(pt.optim, name)(_groups(theirs, groups), **kwargs)
            o.load_state_dict(sd)
            t.load_state_dict(tsd)
        for a, b in zip(ours, theirs):
            assert a.dtype == getattr(torch, b.dtype.__str__()[6:])
            _assert_close(a.detach().numpy(), b.detach().numpy(), tol, f"step {step}")
            assert (a in o.state) == (b in t.state)
            if b in t.state:
                _assert_same_state(o.state[a], t.state[b], tol)
        assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in t.param_groups]
    return o, t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_20_steps_match_pytorch(name, kwargs, dtype):
    _run(name, kwargs, dtype)


@pytest.mark.parametrize("name,kwargs", CASES[1::2])
def test_param_groups_with_their_own_options(name, kwargs):
    group = {"lr": 0.03, "maximize": not kwargs.get("maximize", False)}
    group.update({"RMSprop": dict(centered=True, momentum=0.3), "Adagrad": dict(lr_decay=0.1),
                  "Adadelta": dict(rho=0.7), "Adamax": dict(betas=(0.5, 0.5)),
                  "NAdam": dict(decoupled_weight_decay=False, momentum_decay=0.1),
                  "RAdam": dict(weight_decay=0.0), "Rprop": dict(etas=(0.1, 2.0)),
                  "ASGD": dict(t0=2, lambd=0.1)}[name])
    o, _ = _run(name, kwargs, groups=group, steps=10)
    assert o.param_groups[0]["lr"] == 0.03 and o.param_groups[1]["lr"] == kwargs.get(
        "lr", o.defaults["lr"])


@pytest.mark.parametrize("name,kwargs", CASES[1::2])
def test_parameters_without_grad_are_skipped(name, kwargs):
    """A parameter whose grad is None (zero_grad's set_to_none) takes no step: no state before
    its first gradient, and its step count does not advance (but Adagrad's state exists from
    the constructor on, as in PyTorch)."""
    o, _ = _run(name, kwargs, steps=8, skip=lambda step, k: (k == 0 and step < 3)
                or (k == 1 and step % 2 == 1) or k == 2)
    assert int(o.state[o.param_groups[0]["params"][1]]["step"]) == 4


@pytest.mark.parametrize("name", NAMES)
def test_zero_grad_keeps_or_drops_the_gradients(name):
    """zero_grad(set_to_none=False): zero gradients, which still count as a step (and move
    Rprop / weight decay); zero_grad(): None, which skip the parameter."""
    def run(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
        o = getattr(lib.optim, name)([p], lr=0.1, weight_decay=0.1) if name != "Rprop" else \
            lib.optim.Rprop([p], lr=0.1)
        p.grad = lib.tensor([0.5, -0.5, 1.0])
        o.step()
        o.zero_grad(set_to_none=False)
        zeros = p.grad.tolist()
        o.step()
        after_zero_step = (p.tolist(), float(o.state[p]["step"]))
        o.zero_grad()
        none = p.grad
        o.step()
        return zeros, none, after_zero_step, (p.tolist(), float(o.state[p]["step"]))

    ours, theirs = run(torch), run(pt)
    assert ours[0] == [0.0, 0.0, 0.0] and ours[1] is None and theirs[1] is None
    np.testing.assert_allclose(ours[2][0], theirs[2][0], rtol=1e-6)
    np.testing.assert_allclose(ours[3][0], theirs[3][0], rtol=1e-6)
    assert ours[2][1] == theirs[2][1] == 2.0 and ours[3][1] == theirs[3][1] == 2.0


@pytest.mark.parametrize("name,kwargs", CASES[1::2])
def test_state_dict_resume_as_pytorchs(name, kwargs):
    _run(name, kwargs, steps=12, split_at=5)


@pytest.mark.parametrize("name,kwargs", CASES[1::2])
def test_state_dict_is_pytorchs(name, kwargs):
    """The same structure and values: state per parameter index (tensors of the same dtypes
    and shapes), param groups with the same keys and values."""
    o, t = _run(name, kwargs, steps=3, groups={"lr": 0.5})
    ours, theirs = o.state_dict(), t.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert sorted(ours["state"]) == sorted(theirs["state"]) == [0, 1, 2]
    for i, entry in theirs["state"].items():
        _assert_same_state(ours["state"][i], entry, TOL[np.float64])
    # what was saved does not change with the run
    saved = {k: v.numpy().copy() for k, v in ours["state"][0].items()}
    for p in o.param_groups[0]["params"]:
        p.grad = torch.ones_like(p)
    o.step()
    for k, v in ours["state"][0].items():
        np.testing.assert_array_equal(v.numpy(), saved[k])


@pytest.mark.parametrize("name", NAMES)
def test_works_with_an_lr_scheduler(name):
    kwargs = dict(CASES[[n for n, _ in CASES].index(name) + 1][1])
    _run(name, kwargs, steps=12, scheduler=lambda lib, o: lib.optim.lr_scheduler.StepLR(
        o, step_size=3, gamma=0.5))


@pytest.mark.parametrize("name", NAMES + ["LBFGS"])
def test_signature_defaults_and_repr_are_pytorchs(name):
    def params(p):
        return [(q.name, q.kind, q.default) for q in p.parameters.values()]

    assert params(inspect.signature(getattr(optim, name))) == params(
        inspect.signature(getattr(pt.optim, name)))

    def make(lib):
        a, b = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))
        if name == "LBFGS":
            return lib.optim.LBFGS([a, b], lr=0.5, line_search_fn="strong_wolfe")
        return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)

    ours, theirs = make(torch), make(pt)
    assert ours.defaults == theirs.defaults and list(ours.defaults) == list(theirs.defaults)
    assert repr(ours) == repr(theirs)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


def test_adagrad_creates_its_state_in_the_constructor():
    """Every parameter has "step" and "sum" (initial_accumulator_value, from the constructor's
    argument even for a group that sets its own) before any step, as in PyTorch."""
    def state(lib):
        a, b = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3, dtype=lib.float64))
        o = lib.optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 2.0}],
                              initial_accumulator_value=0.5)
        return {i: {k: (str(v.dtype)[-7:], v.tolist()) for k, v in entry.items()}
                for i, entry in o.state_dict()["state"].items()}

    ours, theirs = state(torch), state(pt)
    assert ours == theirs
    assert ours[1]["sum"] == ("float64", [0.5, 0.5, 0.5])


@pytest.mark.parametrize("name", ["RMSprop", "NAdam", "ASGD"])
def test_counters_follow_the_default_dtype(name):
    """"step" (and NAdam's mu_product, ASGD's eta and mu) are float64 under a float64 default
    dtype, as PyTorch's."""
    def state(lib):
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.nn.Parameter(lib.ones(2, dtype=lib.float32))
            o = getattr(lib.optim, name)([p], lr=0.1)
            p.grad = lib.full((2,), 0.5, dtype=lib.float32)
            o.step()
            return {k: str(v.dtype)[-7:] for k, v in o.state[p].items()}
        finally:
            lib.set_default_dtype(lib.float32)

    ours, theirs = state(torch), state(pt)
    assert ours == theirs and ours["step"] == "float64"


BAD = [
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(eps=-1e-3)), ("RMSprop", dict(momentum=-0.5)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-0.1)),
    ("Adagrad", dict(lr=-0.5)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(weight_decay=-0.1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-1)), ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(eps=-1)),
    ("NAdam", dict(weight_decay=-1)), ("NAdam", dict(momentum_decay=-1)),
    ("RAdam", dict(lr=-1)), ("RAdam", dict(betas=(-0.1, 0.9))), ("RAdam", dict(eps=-1)),
    ("RAdam", dict(weight_decay=-1)),
    ("Rprop", dict(lr=-1)), ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)),
    ("LBFGS", dict(lr=-1)),
]


@pytest.mark.parametrize("name,kwargs", BAD)
def test_bad_hyper_parameters_are_pytorchs_errors(name, kwargs):
    same_error(lambda lib: getattr(lib.optim, name)([lib.ones(2, requires_grad=True)], **kwargs))


@pytest.mark.parametrize("name", NAMES)
def test_implementations_not_provided_are_refused(name):
    p = torch.ones(2, requires_grad=True)
    flags = inspect.signature(getattr(pt.optim, name)).parameters
    for flag in ("differentiable", "capturable", "fused"):
        if flag in flags:
            with pytest.raises(ValueError, match=rf"^{name}: `{flag}=True` is not supported"):
                getattr(optim, name)([p], **{flag: True})
    # accepted when they ask for nothing special, and recorded in the param groups
    o = getattr(optim, name)([p], foreach=True, differentiable=False)
    assert o.param_groups[0]["foreach"] is True
    if name == "Adagrad":
        for kwargs in (dict(fused=True, foreach=True), dict(fused=True, differentiable=True)):
            same_error(lambda lib, kwargs=kwargs: lib.optim.Adagrad(
                [lib.ones(2, requires_grad=True)], **kwargs))


def test_a_tensor_lr_must_have_one_element():
    same_error(lambda lib: lib.optim.RMSprop([lib.ones(2, requires_grad=True)],
                                             lr=lib.tensor([0.1, 0.2])))


# ----- LBFGS -----------------------------------------------------------------------------------
def _lbfgs_problem(lib, dtype):
    """A small least-squares problem plus a non-quadratic term, and its closure."""
    rng = np.random.default_rng(0)
    A, y = lib.tensor(rng.standard_normal((6, 4)).astype(dtype)), lib.tensor(
        rng.standard_normal(6).astype(dtype))
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal(4).astype(dtype)))
    b = lib.nn.Parameter(lib.zeros(1, dtype=getattr(lib, np.dtype(dtype).name)))

    def make_closure(o):
        def closure():
            o.zero_grad()
            r = A @ w + b - y
            loss = (r * r).sum() + 0.1 * (w ** 4).sum() + lib.sin(w).sum()
            loss.backward()
            return loss
        return closure

    return [w, b], make_closure


def _lbfgs_run(lib, kwargs, dtype, calls=3, split_at=None):
    params, make_closure = _lbfgs_problem(lib, dtype)
    o = lib.optim.LBFGS(params, **kwargs)
    trace = []
    for call in range(calls):
        loss = o.step(make_closure(o))
        assert isinstance(loss, lib.Tensor)
        state = o.state[params[0]]
        trace.append((loss.item(), [p.detach().numpy().copy() for p in params],
                      state["func_evals"], state["n_iter"]))
        if call == split_at:
            sd = o.state_dict()
            o = lib.optim.LBFGS(params, **kwargs)
            o.load_state_dict(sd)
    return trace, o


LBFGS_CASES = [dict(), dict(lr=0.5, max_iter=5, history_size=3),
               dict(line_search_fn="strong_wolfe"),
               dict(line_search_fn="strong_wolfe", max_iter=4, history_size=2, lr=0.8),
               dict(max_iter=3, max_eval=2, tolerance_change=1e-3),
               dict(line_search_fn="strong_wolfe", lr=10),  # too long: zooms in
               dict(line_search_fn="strong_wolfe", lr=0.01, max_iter=4),  # too short: extrapolates
               dict(line_search_fn="strong_wolfe", lr=10, max_iter=3, max_eval=4)]  # cut short


@pytest.mark.parametrize("kwargs", LBFGS_CASES)
def test_lbfgs_matches_pytorch_float64(kwargs):
    (ours, o), (theirs, t) = _lbfgs_run(torch, kwargs, np.float64), _lbfgs_run(pt, kwargs,
                                                                             np.float64)
    for (loss, params, evals, iters), (loss_t, params_t, evals_t, iters_t) in zip(ours, theirs):
        assert (evals, iters) == (evals_t, iters_t)
        np.testing.assert_allclose(loss, loss_t, rtol=1e-12)
        for a, b in zip(params, params_t):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # the state: the same keys, with tensors (and lists of them) where PyTorch has tensors
    # (atol: near the minimum, "al" holds differences of tiny gradients)
    mine, want = o.state[o.param_groups[0]["params"][0]], t.state[t.param_groups[0]["params"][0]]
    assert list(mine) == list(want)
    for key, v in want.items():
        got = mine[key]
        if isinstance(v, list):
            assert len(got) == len(v)
            pairs = list(zip(got, v))
        else:
            pairs = [(got, v)]
        for a, b in pairs:
            if isinstance(b, pt.Tensor):
                assert isinstance(a, torch.Tensor) and a.shape == tuple(b.shape), key
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-9)
            else:
                assert type(a) is type(b) and (a == b if b is None or isinstance(b, int)
                                                else np.isclose(a, b, rtol=1e-12)), key


@pytest.mark.parametrize("kwargs", [dict(max_iter=4), dict(line_search_fn="strong_wolfe",
                                                           max_iter=4)])
def test_lbfgs_float32(kwargs):
    (ours, o), (theirs, _) = _lbfgs_run(torch, kwargs, np.float32), _lbfgs_run(pt, kwargs,
                                                                              np.float32)
    for (loss, params, evals, _), (loss_t, params_t, evals_t, _) in zip(ours, theirs):
        assert evals == evals_t
        np.testing.assert_allclose(loss, loss_t, rtol=1e-5)
        for a, b in zip(params, params_t):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert o.state[o.param_groups[0]["params"][0]]["d"].dtype == torch.float32


@pytest.mark.parametrize("kwargs", [dict(max_iter=3, history_size=2),
                                    dict(line_search_fn="strong_wolfe", max_iter=3)])
def test_lbfgs_state_dict_resume_equals_an_uninterrupted_run(kwargs):
    uninterrupted, _ = _lbfgs_run(torch, kwargs, np.float64, calls=4)
    resumed, o = _lbfgs_run(torch, kwargs, np.float64, calls=4, split_at=1)
    theirs, _ = _lbfgs_run(pt, kwargs, np.float64, calls=4)
    for a, b, c in zip(uninterrupted, resumed, theirs):
        assert a[0] == b[0] and a[2:] == b[2:] == c[2:]
        for x, y in zip(a[1], b[1]):
            np.testing.assert_array_equal(x, y)
    # saving copies the histories: a later step leaves a saved state dict as it was
    sd = o.state_dict()
    saved = [d.numpy().copy() for d in sd["state"][0]["old_dirs"]]
    o.step(lambda: (o.zero_grad(), sum((p * p).sum() for p in o.param_groups[0]["params"]))[1])
    assert [d.numpy().tolist() for d in sd["state"][0]["old_dirs"]] == [s.tolist() for s in saved]


def test_lbfgs_errors_are_pytorchs():
    same_error(lambda lib: lib.optim.LBFGS([{"params": [lib.ones(2, requires_grad=True)]},
                                            {"params": [lib.ones(2, requires_grad=True)]}]))

    def bad_line_search(lib):
        p = lib.nn.Parameter(lib.ones(2))
        o = lib.optim.LBFGS([p], line_search_fn="wolfe")

        def closure():
            o.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss

        o.step(closure)

    same_error(bad_line_search)
    same_error(lambda lib: lib.optim.LBFGS([lib.nn.Parameter(lib.ones(2))]).step(),
               same_message=False)  # (the message names the class's module)


def test_lbfgs_stops_at_once_at_a_minimum():
    """A zero gradient: one closure call, the parameters untouched, the loss returned."""
    p = torch.nn.Parameter(torch.zeros(3))
    o = optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        o.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert o.step(closure).item() == 0.0 and len(calls) == 1 and p.tolist() == [0.0] * 3
    assert o.state[p] == {"func_evals": 1, "n_iter": 0}


@pytest.mark.parametrize("function,start,kwargs", [
    ("rosenbrock", [-1.2, 1.0, -0.5, 0.8], dict(lr=1)),  # brackets on a loss that rises again
    ("rosenbrock", [-1.2, 1.0, -0.5, 0.8], dict(lr=0.01)),  # extrapolates
    ("bumpy", [2.0, -2.0, 1.5], dict(lr=50, max_iter=5)),  # zooms, with too little progress
])
def test_lbfgs_strong_wolfe_on_harder_functions(function, start, kwargs):
    """The line search's branches, on Rosenbrock's valley and on a loss with many minima."""
    def run(lib):
        x = lib.nn.Parameter(lib.tensor(np.array(start)))
        o = lib.optim.LBFGS([x], line_search_fn="strong_wolfe", **kwargs)

        def closure():
            o.zero_grad()
            if function == "rosenbrock":
                loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
            else:
                loss = (x * x).sum() + 3 * lib.sin(3 * x).sum()
            loss.backward()
            return loss

        losses = [o.step(closure).item() for _ in range(3)]
        return losses, x.detach().numpy(), o.state[x]["func_evals"], o.state[x]["n_iter"]

    ours, theirs = run(torch), run(pt)
    assert ours[2:] == theirs[2:]  # the same path: the same numbers of evaluations
    # (Rosenbrock's valley is ill-conditioned: rounding differences grow there)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-8)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8, atol=1e-10)
