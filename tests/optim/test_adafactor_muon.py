"""Adafactor and Muon against PyTorch's: the same parameters and gradients on both sides,
parameters AND state compared after every step (float32 and float64), state dicts saved and
loaded mid-run, param groups, signatures, reprs and errors."""

import inspect

import numpy as np
import pytest
import torch as pt
from torch.optim._muon import _zeropower_via_newtonschulz as pt_newtonschulz
from torch_compare import same_error

import numpy2gpt as torch
from numpy2gpt import optim
from numpy2gpt.optim.muon import _round_to_bfloat16, _zeropower_via_newtonschulz

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
# Adafactor: matrices, a vector, a 3-D parameter (factored over its last two dimensions), 0-d
SHAPES = {"Adafactor": [(4, 3), (5,), (2, 3, 4), ()], "Muon": [(4, 3), (3, 5), (6, 6)]}

CASES = [
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.1, beta2_decay=-0.5, eps=(1e-6, 1e-2), d=2.0, weight_decay=0.1,
                       maximize=True)),
    ("Adafactor", dict(lr=0.5, d=1.0, eps=(None, 0.5))),  # lr > 1 / sqrt(t) from step 5 on
    ("Muon", dict()),
    ("Muon", dict(lr=0.02, weight_decay=0.01, momentum=0.5, nesterov=False,
                  adjust_lr_fn="match_rms_adamw")),
    ("Muon", dict(lr=0.05, ns_coefficients=(2.0, -1.5, 0.5), ns_steps=3, eps=1e-3,
                  adjust_lr_fn="original")),
]


def _grad(p, step, k):
    """A deterministic gradient that depends on the current parameter (like a real loss)."""
    noise = np.random.default_rng(1000 * step + k).standard_normal(p.shape)
    return (np.sin(3 * p) + 0.1 * p + 0.5 * noise).astype(p.dtype)


def _params(lib, name, dtype):
    return [lib.tensor(np.asarray(np.random.default_rng(i).standard_normal(s), dtype=dtype),
                       requires_grad=True) for i, s in enumerate(SHAPES[name])]


def _groups(params, groups):
    """The first parameter in a group of its own with the options `groups` (or one group)."""
    return params if groups is None else [{"params": params[:1], **groups},
                                          {"params": params[1:]}]


def _assert_same_state(ours, theirs, tol):
    """Same keys in the same order; tensors of the same dtype and shape, close values."""
    assert list(ours) == list(theirs)
    for key, want in theirs.items():
        got = ours[key]
        assert isinstance(got, torch.Tensor), key
        assert str(got.dtype) == str(want.dtype)[6:] and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), **tol, err_msg=key)


def _run(name, kwargs, dtype=np.float64, steps=8, groups=None, skip=None, split_at=None):
    """Run ours and PyTorch's side by side, comparing parameters and state after every step.

    skip(step, k): parameter k gets no gradient at that step; split_at: after that step both
    optimizers are rebuilt from their state dicts (ours must go on as PyTorch's does)."""
    tol = TOL[dtype]
    ours, theirs = _params(torch, name, dtype), _params(pt, name, dtype)
    o = getattr(optim, name)(_groups(ours, groups), **kwargs)
    t = getattr(pt.optim, name)(_groups(theirs, groups), **kwargs)
    for step in range(steps):
        for k, (a, b) in enumerate(zip(ours, theirs)):
            if skip is not None and skip(step, k):
                a.grad = b.grad = None
            else:
                a.grad = torch.tensor(_grad(a.detach().numpy(), step, k))
                b.grad = pt.tensor(_grad(b.detach().numpy(), step, k))
        o.step()
        t.step()
        if step == split_at:
            sd, tsd = o.state_dict(), t.state_dict()
            ours = [torch.tensor(a.detach().numpy().copy(), requires_grad=True) for a in ours]
            theirs = [pt.tensor(b.detach().numpy().copy(), requires_grad=True) for b in theirs]
            o = getattr(optim, name)(_groups(ours, groups), **kwargs)
            t = getattr(pt.optim, name)(_groups(theirs, groups), **kwargs)
            o.load_state_dict(sd)
            t.load_state_dict(tsd)
        for a, b in zip(ours, theirs):
            assert a.dtype == getattr(torch, str(b.dtype)[6:])
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol,
                                       err_msg=f"step {step}")
            assert (a in o.state) == (b in t.state)
            if b in t.state:
                _assert_same_state(o.state[a], t.state[b], tol)
    return o, t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_steps_match_pytorch(name, kwargs, dtype):
    _run(name, kwargs, dtype)


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[4]])
def test_param_groups_with_their_own_options(name, kwargs):
    _run(name, {}, groups=kwargs)
    _run(name, kwargs, groups=dict(lr=0.3))


@pytest.mark.parametrize("name,kwargs", [CASES[0], CASES[3]])
def test_parameters_without_grad_are_skipped(name, kwargs):
    _run(name, kwargs, skip=lambda step, k: (step + k) % 3 == 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[4]])
def test_state_dict_resume_as_pytorchs(name, kwargs, dtype):
    _run(name, kwargs, dtype, split_at=3)


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_state_dict_is_pytorchs(name):
    o, t = _run(name, {}, steps=2)
    sd, tsd = o.state_dict(), t.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert list(sd["state"]) == list(tsd["state"])
    for i, entry in tsd["state"].items():
        _assert_same_state(sd["state"][i], entry, TOL[np.float64])


def test_adafactor_float32_state_and_mixed_dtypes():
    """float32 stays float32 (step counter included); eps1=None is the machine epsilon of the
    group's first parameter, also for a float64 parameter after a float32 one (PyTorch's)."""
    def run(lib):
        a = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
        b = lib.tensor(np.linspace(0.5, 2, 4), requires_grad=True)
        o = lib.optim.Adafactor([a, b], lr=0.1)
        for s in range(3):
            a.grad = lib.tensor(np.full((2, 3), 1e-5 * (s + 1), dtype=np.float32))
            b.grad = lib.tensor(np.full(4, 1e-9 * (s + 1)))  # tiny: eps1 decides the update
            o.step()
        return a, b, o.state[a]
    (a, b, state), (ta, tb, tstate) = run(torch), run(pt)
    assert a.dtype == torch.float32 and b.dtype == torch.float64
    np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-12)
    _assert_same_state(state, tstate, TOL[np.float32])


def test_adafactor_tensor_lr_and_grads_kept():
    """A 1-element tensor lr works as the float; maximize leaves p.grad as it is."""
    def run(lib):
        p = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        o = lib.optim.Adafactor([p], lr=lib.tensor(0.2), maximize=True)
        p.grad = lib.tensor([[0.1, 0.2], [-0.3, 0.4]])
        o.step()
        o.step()
        return p.detach().numpy(), p.grad.numpy()
    (p, g), (tp, tg) = run(torch), run(pt)
    np.testing.assert_allclose(p, tp, rtol=1e-12)
    np.testing.assert_array_equal(g, tg)


def test_round_to_bfloat16_is_pytorchs():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(2000).astype(np.float32),
                        (rng.standard_normal(200) * 1e-39).astype(np.float32),  # subnormals
                        np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.4e38, -3.4e38,
                                  np.inf, -np.inf, 0.0, -0.0], dtype=np.float32)])  # ties
    want = pt.tensor(x).bfloat16().float().numpy()
    got = _round_to_bfloat16(x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert np.isnan(_round_to_bfloat16(np.array([np.nan], dtype=np.float32))).all()


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 6)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_newton_schulz_is_pytorchs(shape, dtype):
    g = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    coefficients = (3.4445, -4.7750, 2.0315)
    want = pt_newtonschulz(pt.tensor(g), coefficients, 5, 1e-7).float().numpy()
    got = _zeropower_via_newtonschulz(g, coefficients, 5, 1e-7)
    np.testing.assert_array_equal(got, want)
    # orthogonalised: the singular values are near 1 (the quintic stops short of exactly 1)
    assert np.all(np.abs(np.linalg.svd(got.astype(np.float64), compute_uv=False) - 1) < 0.35)


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_signature_defaults_and_repr_are_pytorchs(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(pt.optim, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    o = getattr(optim, name)([torch.ones(2, 2, requires_grad=True)])
    t = getattr(pt.optim, name)([pt.ones(2, 2, requires_grad=True)])
    assert repr(o) == repr(t)


BAD = [
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1, 1e-3))), ("Adafactor", dict(eps=(None, -1))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1)),
    ("Muon", dict(lr=-1)), ("Muon", dict(momentum=-1)), ("Muon", dict(weight_decay=-1)),
    ("Muon", dict(adjust_lr_fn="linear")),
]


@pytest.mark.parametrize("name,kwargs", BAD)
def test_bad_hyper_parameters_are_pytorchs_errors(name, kwargs):
    same_error(lambda lib: getattr(lib.optim, name)([lib.ones(2, 2, requires_grad=True)],
                                                    **kwargs))


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_a_tensor_lr_must_have_one_element(name):
    same_error(lambda lib: getattr(lib.optim, name)([lib.ones(2, 2, requires_grad=True)],
                                                    lr=lib.tensor([0.1, 0.2])))


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2), ()])
def test_muon_takes_2d_parameters_only(shape):
    same_error(lambda lib: lib.optim.Muon([lib.ones(2, 2, requires_grad=True),
                                           lib.ones(shape, requires_grad=True)]))


def test_muon_errors_at_step_are_pytorchs():
    def step(lib, shape=(2, 2), **kwargs):
        p = lib.ones(2, 2, requires_grad=True)
        o = lib.optim.Muon([p], **kwargs)
        if shape != (2, 2):  # a group added later is not checked until its step
            q = lib.ones(shape, requires_grad=True)
            o.add_param_group({"params": [q]})
            q.grad = lib.ones(shape)
        p.grad = lib.ones(2, 2)
        o.step()
    same_error(lambda lib: step(lib, ns_steps=100))
    same_error(lambda lib: step(lib, ns_coefficients=(1.0, 2.0)))
    same_error(lambda lib: step(lib, shape=(3,)))


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_sparse_gradients_are_refused(name):
    def step(lib):
        emb = lib.nn.Embedding(4, 3, sparse=True)
        o = getattr(lib.optim, name)(emb.parameters())
        emb(lib.tensor([0, 2])).sum().backward()
        o.step()
    same_error(step)


def test_adafactor_state_from_another_model_is_refused():
    """A row factor of the wrong shape: a clear ValueError, and the optimizer is left as it
    was (PyTorch loads it and fails later, in a broadcast)."""
    p = torch.ones(3, 4, requires_grad=True)
    o = optim.Adafactor([p])
    p.grad = torch.ones(3, 4)
    o.step()
    sd = o.state_dict()
    sd["state"][0]["row_var"] = torch.zeros(5, 1)
    with pytest.raises(ValueError, match="'row_var' of shape \\[5, 1\\]"):
        optim.Adafactor([p]).load_state_dict(sd)
    fresh = optim.Adafactor([p], lr=0.5)
    sd["param_groups"][0]["lr"] = 0.01
    with pytest.raises(ValueError):
        fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.5 and not fresh.state


@pytest.mark.parametrize("shape", [(3, 4), (4,)])
def test_adafactor_state_without_its_buffers_is_pytorchs_error(shape):
    """Adam's state (no factors, no variance) under Adafactor's groups: PyTorch's error at
    step."""
    def step(lib):
        q = lib.ones(shape, requires_grad=True)
        adam = lib.optim.Adam([q])
        q.grad = lib.ones(shape)
        adam.step()
        o = lib.optim.Adafactor([q])
        o.load_state_dict({"state": adam.state_dict()["state"],
                           "param_groups": o.state_dict()["param_groups"]})
        o.step()
    same_error(step)
