"""nn.utils.parametrize and nn.utils.parametrizations (weight_norm, spectral_norm) against
PyTorch: the parametrized weight and the gradients that reach `original` on a Linear and a Conv2d,
state_dict keys and round trips, chaining, right_inverse on assignment, cached(), removal with and
without leave_parametrized, and PyTorch's errors."""

import copy
import importlib
import pickle
from contextlib import nullcontext

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as tpz
import torch.nn.utils.parametrize as tp
from torch_compare import assert_close

import numpy2gpt as ng
import numpy2gpt.nn.utils.parametrizations as npz
import numpy2gpt.nn.utils.parametrize as npp

# the legacy modules (their names are also the functions nn.utils exports, as in PyTorch)
legacy_sn = importlib.import_module("numpy2gpt.nn.utils.spectral_norm")
legacy_wn = importlib.import_module("numpy2gpt.nn.utils.weight_norm")

LIBS = ((ng, npp, npz), (torch, tp, tpz))


def _module(lib, kind, dtype):
    """The same freshly initialised layer in both libraries (same seed, same global generator)."""
    lib.manual_seed(0)
    m = lib.nn.Linear(4, 3) if kind == "linear" else lib.nn.Conv2d(2, 3, 3)
    return m.double() if dtype == np.float64 else m


def _input(lib, kind, dtype):
    shape = (5, 4) if kind == "linear" else (2, 2, 5, 5)
    return lib.tensor(np.random.default_rng(1).standard_normal(shape).astype(dtype))


def _forward_backward(lib, m, kind, dtype):
    """Output of m on a fixed input, backpropagated with a fixed random upstream gradient."""
    y = m(_input(lib, kind, dtype))
    gy = np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(dtype)
    y.backward(lib.tensor(gy))
    return y


def _compare_params(ours, theirs, dtype):
    """Same named parameters and buffers (names, values) and the same gradients."""
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    p_ours, p_theirs = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(p_ours) == list(p_theirs)
    for name in p_ours:
        assert_close(p_ours[name], p_theirs[name], rtol=rtol, atol=1e-7)
        assert_close(p_ours[name].grad, p_theirs[name].grad, rtol=rtol, atol=1e-6,
                     what=f"gradient of {name}")
    b_ours, b_theirs = dict(ours.named_buffers()), dict(theirs.named_buffers())
    assert list(b_ours) == list(b_theirs)
    for name in b_ours:
        assert_close(b_ours[name], b_theirs[name], rtol=rtol, atol=1e-7)


def _same_error(call):
    """call(ng, parametrize, parametrizations) raises what the torch call raises: same type,
    same message (with the library's name in dtypes)."""
    raised = []
    for libs in LIBS:
        with pytest.raises(Exception) as e:
            call(*libs)
        raised.append(e.value)
    assert type(raised[0]) is type(raised[1]), raised
    assert str(raised[0]) == str(raised[1]).replace("torch.", "numpy2gpt."), raised


class Symmetric:
    """X -> triu(X) + triu(X, 1)^T, with a right_inverse (triu), made for either library."""

    @staticmethod
    def make(lib):
        class _Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu()

        return _Symmetric()


def _scale(lib, factor):
    class _Scale(lib.nn.Module):
        def forward(self, X):
            return X * factor

    return _Scale()


# ----- register_parametrization ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_custom_parametrization_values_grads_and_state_dict(dtype):
    results = []
    for lib, p, _ in LIBS:
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 3).double() if dtype == np.float64 else lib.nn.Linear(3, 3)
        weight = m.weight
        p.register_parametrization(m, "weight", Symmetric.make(lib))
        p.register_parametrization(m, "weight", _scale(lib, 2.0))  # chained after the first
        assert m.parametrizations.weight.original is weight  # the same Parameter object
        assert type(m).__name__ == "ParametrizedLinear"
        assert isinstance(m, lib.nn.Linear) and p.type_before_parametrizations(m) is lib.nn.Linear
        assert p.is_parametrized(m) and p.is_parametrized(m, "weight")
        assert not p.is_parametrized(m, "bias")
        x = lib.tensor(np.random.default_rng(1).standard_normal((4, 3)).astype(dtype))
        m(x).pow(2).sum().backward()
        results.append(m)
    ours, theirs = results
    assert ours.weight.dtype == np.dtype(dtype)
    assert_close(ours.weight, theirs.weight)
    w = ours.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)  # symmetric
    _compare_params(ours, theirs, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "bias", "parametrizations.weight.original"]


def test_assignment_goes_through_right_inverse():
    out = []
    for lib, p, _ in LIBS:
        lib.manual_seed(0)
        m = p.register_parametrization(lib.nn.Linear(3, 3), "weight", Symmetric.make(lib))
        original = m.parametrizations.weight.original
        m.weight = lib.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3))
        assert m.parametrizations.weight.original is original
        out.append((original, m.weight))
    assert_close(out[0][0], out[1][0])  # the stored triu
    assert_close(out[0][1], out[1][1])


def test_right_inverse_missing_raises_on_assignment():
    _same_error(lambda lib, p, _: setattr(
        p.register_parametrization(lib.nn.Linear(3, 3), "weight", _scale(lib, 2.0)), "weight",
        lib.zeros(3, 3)))


def test_cached_computes_once_and_keeps_gradients():
    calls = []

    class Counting(ng.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 3.0

    m = npp.register_parametrization(ng.nn.Linear(2, 2), "weight", Counting())
    calls.clear()
    with npp.cached():
        w1, w2 = m.weight, m.weight
        assert w1 is w2 and len(calls) == 1
        (w1.sum() + w2.sum()).backward()
    assert_close(m.parametrizations.weight.original.grad, np.full((2, 2), 6.0, np.float32))
    assert m.weight is not m.weight  # outside the context: recomputed on each access


def test_buffer_parametrization_stays_a_buffer():
    for lib, p, _ in LIBS:
        m = lib.nn.BatchNorm1d(3)
        p.register_parametrization(m, "running_var", _scale(lib, 2.0))
        assert "parametrizations.running_var.original" in m.state_dict()
        assert "parametrizations.running_var.original" not in dict(m.named_parameters())
        assert_close(m.running_var, np.full(3, 2.0, np.float32))


# ----- weight_norm ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["linear", "conv2d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_values_and_grads(kind, dtype, dim):
    mods = []
    for lib, _, pz in LIBS:
        m = pz.weight_norm(_module(lib, kind, dtype), dim=dim)
        _forward_backward(lib, m, kind, dtype)
        mods.append(m)
    ours, theirs = mods
    assert ours.parametrizations.weight.original0.shape == theirs.parametrizations.weight.\
        original0.shape
    assert_close(ours.weight, theirs.weight, rtol=1e-10 if dtype == np.float64 else 2e-5,
                 atol=1e-7)
    assert ours.weight.dtype == np.dtype(dtype)
    _compare_params(ours, theirs, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]


def test_weight_norm_loads_the_legacy_keys():
    with pytest.warns(FutureWarning):
        lib_sd = torch.nn.utils.weight_norm(_module(torch, "linear", np.float32)).state_dict()
    ours = npz.weight_norm(_module(ng, "linear", np.float32))
    ours.load_state_dict({k: v.numpy() * 2 for k, v in lib_sd.items()})
    assert_close(ours.parametrizations.weight.original0, lib_sd["weight_g"] * 2)
    assert_close(ours.parametrizations.weight.original1, lib_sd["weight_v"] * 2)


# ----- spectral_norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["linear", "conv2d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spectral_norm_training_steps_values_and_grads(kind, dtype):
    mods = []
    for lib, _, pz in LIBS:
        m = _module(lib, kind, dtype)
        lib.manual_seed(7)  # _u and _v are drawn from the global generator
        pz.spectral_norm(m, n_power_iterations=2)
        _forward_backward(lib, m, kind, dtype)  # each access of m.weight: two more steps
        _forward_backward(lib, m, kind, dtype)
        mods.append(m)
    ours, theirs = mods
    _compare_params(ours, theirs, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
        "parametrizations.weight.0._v"]
    assert_close(ours.weight, theirs.weight, rtol=1e-10 if dtype == np.float64 else 2e-5,
                 atol=1e-7)


def test_spectral_norm_eval_mode_does_not_step_and_dim():
    outs = []
    for lib, _, pz in LIBS:
        lib.manual_seed(0)
        m = lib.nn.Linear(5, 4)
        lib.manual_seed(3)
        pz.spectral_norm(m, dim=1, eps=1e-6)
        m.eval()
        u = m.parametrizations.weight[0]._u.clone()
        w = m.weight
        assert np.array_equal(u.numpy(), m.parametrizations.weight[0]._u.numpy())
        outs.append((w, u))
    assert_close(outs[0][0], outs[1][0], rtol=2e-5, atol=1e-7)
    assert_close(outs[0][1], outs[1][1], rtol=2e-5, atol=1e-7)
    # the top singular value of the normalised weight is (close to) 1
    assert abs(np.linalg.svd(outs[0][0].detach().numpy(), compute_uv=False)[0] - 1) < 1e-3


def test_spectral_norm_conv_transpose_normalises_dim_1():
    weights = []
    for lib, _, pz in LIBS:
        lib.manual_seed(0)
        m = pz.spectral_norm(lib.nn.ConvTranspose2d(2, 3, 3))
        assert tuple(m.parametrizations.weight[0]._u.shape) == (3,)  # out_channels: dim 1
        weights.append(m.weight)
    assert_close(weights[0], weights[1], rtol=2e-5, atol=1e-7)


def test_spectral_norm_state_dict_round_trip():
    theirs = _module(torch, "conv2d", np.float32)
    torch.manual_seed(5)
    tpz.spectral_norm(theirs)
    ours = _module(ng, "conv2d", np.float32)
    ng.manual_seed(11)  # other buffers: loading must overwrite them
    npz.spectral_norm(ours)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    assert_close(ours.weight, theirs.weight, rtol=2e-5, atol=1e-7)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    assert_close(ours(ng.tensor(x)), theirs(torch.tensor(x)), rtol=2e-5, atol=1e-6)


# ----- removal ----------------------------------------------------------------------------------
@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    mods = []
    for lib, p, pz in LIBS:
        m = _module(lib, "linear", np.float32)
        original = m.weight
        lib.manual_seed(1)
        pz.spectral_norm(m)
        p.register_parametrization(m, "bias", _scale(lib, 3.0))
        p.remove_parametrizations(m, "weight", leave_parametrized=leave)
        assert m.weight is original and isinstance(m.weight, lib.nn.Parameter)
        assert type(m).__name__ == "ParametrizedLinear"  # bias is still parametrized
        assert not p.is_parametrized(m, "weight") and p.is_parametrized(m)
        p.remove_parametrizations(m, "bias")
        assert type(m) is lib.nn.Linear and not hasattr(m, "parametrizations")
        assert not p.is_parametrized(m)
        mods.append(m)
    ours, theirs = mods
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert_close(ours.weight, theirs.weight, rtol=2e-5, atol=1e-7)
    assert_close(ours.bias, theirs.bias)


def test_remove_weight_norm_leaves_a_parameter():
    mods = []
    for lib, p, pz in LIBS:
        m = pz.weight_norm(_module(lib, "linear", np.float32))
        p.remove_parametrizations(m, "weight")
        assert isinstance(m.weight, lib.nn.Parameter) and m.weight.grad_fn is None
        mods.append(m)
    assert_close(mods[0].weight, mods[1].weight, rtol=2e-5)


def test_deepcopy_works_and_pickle_is_refused():
    m = npz.weight_norm(ng.nn.Linear(3, 2))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear" and c.weight.shape == (2, 3)
    assert c.parametrizations.weight.original1 is not m.parametrizations.weight.original1
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules"):
        pickle.dumps(m)


# ----- errors -----------------------------------------------------------------------------------
def test_errors():
    _same_error(lambda lib, p, _: p.register_parametrization(lib.nn.Linear(2, 3), "foo",
                                                             _scale(lib, 1.0)))
    _same_error(lambda lib, p, _: p.remove_parametrizations(lib.nn.Linear(2, 3), "weight"))
    _same_error(lambda lib, p, pz: p.remove_parametrizations(
        pz.weight_norm(lib.nn.Linear(2, 3)), "weight", leave_parametrized=False))

    class Shrink:
        @staticmethod
        def make(lib):
            class _Shrink(lib.nn.Module):
                def forward(self, X):
                    return X[:1]
            return _Shrink()

    _same_error(lambda lib, p, _: p.register_parametrization(lib.nn.Linear(2, 3), "weight",
                                                             Shrink.make(lib)))

    class ToDouble:
        @staticmethod
        def make(lib):
            class _ToDouble(lib.nn.Module):
                def forward(self, X):
                    return X.double()
            return _ToDouble()

    _same_error(lambda lib, p, _: p.register_parametrization(lib.nn.Linear(2, 3), "weight",
                                                             ToDouble.make(lib)))
    _same_error(lambda lib, p, pz: pz.spectral_norm(lib.nn.Linear(2, 3), n_power_iterations=0))
    _same_error(lambda lib, p, pz: pz.spectral_norm(lib.nn.Linear(2, 3), dim=2))
    _same_error(lambda lib, p, pz: pz.spectral_norm(lib.nn.Linear(2, 3), name="nope"))
    # unsafe=True skips the checks
    m = npp.register_parametrization(ng.nn.Linear(2, 3), "weight", Shrink.make(ng), unsafe=True)
    assert m.weight.shape == (1, 2)


# ----- the legacy hook-based weight_norm / spectral_norm ----------------------------------------
LEGACY = ((ng, legacy_wn.weight_norm, legacy_wn.remove_weight_norm, legacy_sn.spectral_norm,
           legacy_sn.remove_spectral_norm),
          (torch, torch.nn.utils.weight_norm, torch.nn.utils.remove_weight_norm,
           torch.nn.utils.spectral_norm, torch.nn.utils.remove_spectral_norm))


@pytest.mark.parametrize("kind", ["linear", "conv2d"])
@pytest.mark.parametrize("dim", [0, None])
def test_legacy_weight_norm(kind, dim):
    mods = []
    for lib, wn, _, _, _ in LEGACY:
        m = _module(lib, kind, np.float64)
        with pytest.warns(FutureWarning, match="is deprecated in favor of"):
            wn(m, dim=dim)
        assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
        _forward_backward(lib, m, kind, np.float64)
        mods.append(m)
    _compare_params(*mods, np.float64)
    assert_close(mods[0].weight, mods[1].weight)
    for (lib, _, remove_wn, _, _), m in zip(LEGACY, mods):
        remove_wn(m)
        assert list(m.state_dict()) == ["bias", "weight"]
        assert isinstance(m.weight, lib.nn.Parameter)
    assert_close(mods[0].weight, mods[1].weight)


@pytest.mark.parametrize("kind", ["linear", "conv2d"])
def test_legacy_spectral_norm(kind):
    mods = []
    for lib, _, _, sn, _ in LEGACY:
        m = _module(lib, kind, np.float64)
        lib.manual_seed(4)
        sn(m, n_power_iterations=3)
        assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
        _forward_backward(lib, m, kind, np.float64)
        _forward_backward(lib, m, kind, np.float64)
        mods.append(m)
    _compare_params(*mods, np.float64)
    assert_close(mods[0].weight, mods[1].weight)
    for (_, _, _, _, remove_sn), m in zip(LEGACY, mods):
        remove_sn(m)
        assert list(m.state_dict()) == ["bias", "weight"]
    assert_close(mods[0].weight, mods[1].weight)


def test_legacy_errors():
    def twice(lib, norm):
        norm(norm(lib.nn.Linear(2, 3)))

    for k in (1, 3):  # weight_norm, spectral_norm twice on one weight: RuntimeError
        raised = []
        for libs in LEGACY:
            with pytest.raises(RuntimeError) as e, \
                    pytest.warns(FutureWarning) if k == 1 else nullcontext():
                twice(libs[0], libs[k])
            raised.append(str(e.value))
        assert raised[0] == raised[1]
    for k in (2, 4):  # removing what is not there
        raised = []
        for libs in LEGACY:
            with pytest.raises(ValueError) as e:
                libs[k](libs[0].nn.Linear(2, 3))
            raised.append(str(e.value))
        assert raised[0] == raised[1]
    raised = []
    for libs in LEGACY:
        with pytest.raises(ValueError) as e:
            libs[3](libs[0].nn.Linear(2, 3), n_power_iterations=0)
        raised.append(str(e.value))
    assert raised[0] == raised[1]
