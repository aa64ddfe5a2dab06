"""Optimizers: 100 steps from the same parameters and gradients land where PyTorch's land."""

import collections
import itertools

import numpy as np
import pytest
import torch as pt

import numpy2gpt as torch
import numpy2gpt.kernels as K
from numpy2gpt import optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def _grad(p, step, k):
    """A deterministic gradient that depends on the current parameter (like a real loss)."""
    noise = np.random.default_rng(1000 * step + k).standard_normal(p.shape)
    return (np.sin(3 * p) + 0.1 * p + 0.5 * noise).astype(p.dtype)


def _run(opt_name, kwargs, steps=100, dtype=np.float64, groups=False, split_at=None,
         blocks=False, fortran=False):
    """Run ours and PyTorch's side by side; return both parameter lists as arrays.

    blocks: make our optimizer update in tiny blocks (SMALL=4, BLOCK=5 elements), so that the
    small-whole, one-block and many-block paths all run on these small shapes. fortran: our
    parameters hold column-major (not C-contiguous) arrays."""
    init = [np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(SHAPES)]
    ours = [torch.tensor(a, requires_grad=True) for a in init]
    if fortran:
        for t in ours:
            t._data = np.asfortranarray(t._data)
    theirs = [pt.tensor(a, requires_grad=True) for a in init]
    if groups:  # two groups with different hyper-parameters
        ours_p = [{"params": ours[:1]}, {"params": ours[1:], "lr": kwargs["lr"] * 0.5}]
        theirs_p = [{"params": theirs[:1]}, {"params": theirs[1:], "lr": kwargs["lr"] * 0.5}]
    else:
        ours_p, theirs_p = ours, theirs
    o = getattr(optim, opt_name)(ours_p, **kwargs)
    t = getattr(pt.optim, opt_name)(theirs_p, **kwargs)
    if blocks:
        o.SMALL, o.BLOCK = 4, 5
    for step in range(steps):
        for k, (a, b) in enumerate(zip(ours, theirs)):
            a.grad = torch.tensor(_grad(a.detach().numpy(), step, k))
            b.grad = pt.tensor(_grad(b.detach().numpy(), step, k))
        o.step()
        t.step()
        if split_at is not None and step == split_at:  # resume from a saved state dict
            sd = o.state_dict()
            fresh = [torch.tensor(a.detach().numpy().copy(), requires_grad=True) for a in ours]
            o = getattr(optim, opt_name)(fresh, **kwargs)
            if blocks:
                o.SMALL, o.BLOCK = 4, 5
            o.load_state_dict(sd)
            ours = fresh
    return [a.detach().numpy() for a in ours], [b.detach().numpy() for b in theirs]


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.9, 0.95), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),  # = AdamW
    ("SGD", dict(lr=0.05, momentum=0.9, foreach=False, fused=None, differentiable=False)),
    ("AdamW", dict(lr=0.01, foreach=True, capturable=False, differentiable=False, fused=False)),
]


def kernel_backends(name):
    """The kernel backends an optimizer's test runs under: both for Adam / AdamW (their update
    is a kernel), the default for the others."""
    return K.BACKENDS if name.startswith("Adam") else (K.get_backend(),)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_100_steps_match_pytorch_float64(name, kwargs):
    for backend in kernel_backends(name):
        with K.backend(backend):
            ours, theirs = _run(name, kwargs)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_blockwise_and_non_contiguous_updates_match_pytorch(name, kwargs):
    """Large parameters are updated block by block in place (here forced with tiny blocks), and a
    parameter whose array is not C-contiguous is updated through a contiguous copy."""
    for backend, fortran in itertools.product(kernel_backends(name), (False, True)):
        with K.backend(backend):
            ours, theirs = _run(name, kwargs, steps=30, blocks=True, fortran=fortran)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_updates_are_in_place_and_bump_versions():
    """The optimizer writes into each parameter's own array (views of it see the update, like
    PyTorch), bumps its version, and keeps the state C-contiguous and shaped like the parameter
    even when the state was replaced by a strided array (as train.py's moment cropping does)."""
    for name in ("AdamW", "SGD"):
        p = torch.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        view = p._data[1]
        kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
        o = getattr(optim, name)([p], **kwargs)
        o.SMALL, o.BLOCK = 2, 5
        p.grad = torch.ones(3, 4, dtype=torch.float64)
        before, array = p._version, p._data
        o.step()
        assert p._data is array and p._version == before + 1
        np.testing.assert_array_equal(view, p._data[1])
        key = "exp_avg" if name == "AdamW" else "momentum_buffer"
        o.state[p][key] = o.state[p][key].t().contiguous().t()  # strided, column-major
        assert not o.state[p][key].is_contiguous()
        o.step()
        assert isinstance(o.state[p][key], torch.Tensor)
        assert o.state[p][key].is_contiguous() and o.state[p][key].shape == (3, 4)


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[6], CASES[9]])
def test_param_groups_match_pytorch(name, kwargs):
    ours, theirs = _run(name, kwargs, groups=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", [CASES[2], CASES[7], CASES[9]])
def test_state_dict_round_trip_resumes_identically(name, kwargs):
    ours, theirs = _run(name, kwargs, split_at=40)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("name,kwargs", [("AdamW", dict(lr=0.01)), CASES[3], CASES[7]])
def test_float32_stays_float32(name, kwargs, blocks):
    for backend in kernel_backends(name):
        with K.backend(backend):
            ours, theirs = _run(name, kwargs, steps=20, dtype=np.float32, blocks=blocks)
        for a, b in zip(ours, theirs):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_zero_grad_and_skipping_params_without_grad():
    p = torch.ones(3, requires_grad=True)
    q = torch.ones(3, requires_grad=True)
    opt = optim.SGD([p, q], lr=1.0)
    p.grad = torch.ones(3)
    opt.step()
    assert p.tolist() == [0.0, 0.0, 0.0] and q.tolist() == [1.0, 1.0, 1.0]
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_bad_arguments_are_clear_errors():
    p = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.AdamW([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_a_single_tensor_as_params_is_pytorchs_type_error(name, dtype):
    with pytest.raises(TypeError) as theirs:
        getattr(pt.optim, name)(pt.ones(3, dtype=getattr(pt, dtype)), lr=0.1)
    with pytest.raises(TypeError) as ours:
        getattr(optim, name)(torch.ones(3, dtype=getattr(torch, dtype)), lr=0.1)
    # "... should be an iterable of Tensors or dicts, but got torch.FloatTensor"
    assert str(ours.value) == str(theirs.value).replace("torch.", "numpy2gpt.")
    assert torch.ones(2).type() == "numpy2gpt.FloatTensor"  # (Tensor.type() names it)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_load_state_dict_from_another_models_optimizer_fails_at_load_naming_the_parameter(name):
    def optimizer(lib, in_features, opt):
        model = lib.nn.Linear(in_features, 2)
        o = getattr(opt, name)(model.parameters(), lr=0.1, **({"momentum": 0.9} if name == "SGD"
                                                                 else {}))
        model(lib.ones(1, in_features)).sum().backward()
        o.step()
        return model, o

    model, mine = optimizer(torch, 2, optim)
    _, other = optimizer(torch, 3, optim)
    before = {k: v.copy() for k, v in mine.state[model.weight].items() if hasattr(v, "copy")}
    key = "momentum_buffer" if name == "SGD" else "exp_avg"
    with pytest.raises(ValueError, match=rf"^loaded state dict has '{key}' of shape \[2, 3\] for "
                                         r"parameter 0 of group 0, which has shape \[2, 2\]: the "
                                         "state dict is from another model's optimizer$"):
        mine.load_state_dict(other.state_dict())
    for k, v in before.items():  # nothing was replaced
        np.testing.assert_array_equal(mine.state[model.weight][k], v)
    # a different number of parameters is PyTorch's own error, at load time too
    _, theirs = optimizer(pt, 2, pt.optim)
    smaller = pt.optim.SGD([pt.nn.Parameter(pt.ones(2))], lr=0.1)
    with pytest.raises(ValueError) as e_theirs:
        theirs.load_state_dict(smaller.state_dict())
    with pytest.raises(ValueError) as e_ours:
        mine.load_state_dict(optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1).state_dict())
    assert str(e_ours.value) == str(e_theirs.value)


def test_state_of_a_new_parameter_is_an_empty_dict():
    """optimizer.state is a defaultdict(dict), as in PyTorch: subclasses write
    `state = self.state[p]` for a parameter seen for the first time."""

    def count_steps(lib, opt_base):
        class Counting(opt_base):
            def __init__(self, params):
                super().__init__(params, dict(lr=0.1))

            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        state = self.state[p]
                        state["n"] = state.get("n", 0) + 1

        o = Counting([lib.ones(2, requires_grad=True)])
        o.step()
        o.step()
        return type(o.state), list(o.state.values())

    ours, theirs = count_steps(torch, optim.Optimizer), count_steps(pt, pt.optim.Optimizer)
    assert ours == theirs == (collections.defaultdict, [{"n": 2}])
    # a state dict round trip keeps it a defaultdict
    p = torch.ones(2, requires_grad=True)
    o = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = torch.ones(2)
    o.step()
    o.load_state_dict(o.state_dict())
    assert isinstance(o.state, collections.defaultdict) and o.state[torch.ones(1)] == {}


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(foreach=None, fused=None, differentiable=False)),
    ("SGD", dict(foreach=True, fused=False)),
    ("Adam", dict(foreach=False, capturable=False, differentiable=False, fused=None,
                  decoupled_weight_decay=True)),
    ("AdamW", dict(foreach=None, capturable=False, differentiable=False, fused=False)),
])
def test_pytorchs_keyword_arguments_are_accepted_and_recorded(name, kwargs):
    """foreach / fused / ... are in the defaults and in the state dict's param groups, as in
    PyTorch (same keys, in the same order, with the same values)."""
    ours = getattr(optim, name)([torch.ones(2, requires_grad=True)], lr=0.1, **kwargs)
    theirs = getattr(pt.optim, name)([pt.ones(2, requires_grad=True)], lr=0.1, **kwargs)
    assert ours.defaults == theirs.defaults
    assert list(ours.defaults) == list(theirs.defaults)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
@pytest.mark.parametrize("flag", ["fused", "differentiable", "capturable"])
def test_implementations_not_provided_are_refused_naming_the_argument(name, flag):
    p = torch.ones(2, requires_grad=True)
    if flag == "capturable" and name == "SGD":  # not an argument of PyTorch's SGD either
        with pytest.raises(TypeError, match="unexpected keyword argument 'capturable'"):
            optim.SGD([p], lr=0.1, capturable=True)
        return
    with pytest.raises(ValueError, match=rf"^{name}: `{flag}=True` is not supported"):
        getattr(optim, name)([p], lr=0.1, **{flag: True})
    with pytest.raises(RuntimeError) as theirs:
        getattr(pt.optim, name)([pt.ones(2, requires_grad=True)], lr=0.1, fused=True,
                                foreach=True)
    with pytest.raises(RuntimeError) as ours:
        getattr(optim, name)([p], lr=0.1, fused=True, foreach=True)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_named_parameters_are_pytorchs_param_names(name):
    """model.named_parameters() as params: the names go to each group's "param_names" (and the
    state dict); mixing named and unnamed parameters or groups is PyTorch's ValueError."""

    def run(lib, opt):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        o = getattr(opt, name)(model.named_parameters(), lr=0.1)
        model(lib.ones(1, 3)).sum().backward()
        o.step()
        errors = []
        for bad in (lambda: getattr(opt, name)([("w", model.weight), model.bias], lr=0.1),
                    lambda: o.add_param_group({"params": [lib.ones(1, requires_grad=True)]})):
            with pytest.raises(ValueError) as e:
                bad()
            errors.append(str(e.value))
        return o, model, errors

    (ours, model, errors), (theirs, ref, ref_errors) = run(torch, optim), run(pt, pt.optim)
    assert ours.param_groups[0]["param_names"] == theirs.param_groups[0]["param_names"] == [
        "weight", "bias"]
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    assert errors == ref_errors
    np.testing.assert_allclose(model.weight.detach().numpy(), ref.weight.detach().numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("name, kwargs", [("Adam", {}), ("AdamW", dict(amsgrad=True)),
                                          ("SGD", dict(momentum=0.9))])
def test_state_holds_tensors_like_pytorchs(name, kwargs):
    """opt.state[p] holds tensors (and Adam's step as a float32 0-d tensor), as in PyTorch,
    before and after a state dict round trip; code may edit them in place."""
    def state_after_two_steps(lib):
        p = lib.ones(3, requires_grad=True)
        o = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
        for _ in range(2):
            p.grad = lib.full((3,), 0.5)
            o.step()
        return o, p

    (ours, p), (theirs, tp) = state_after_two_steps(torch), state_after_two_steps(pt)
    for o in (ours, theirs):
        o.load_state_dict(o.state_dict())
    mine, want = ours.state[p], theirs.state[tp]
    assert sorted(mine) == sorted(want)
    for key in want:
        assert isinstance(mine[key], torch.Tensor) and str(mine[key].dtype) == \
            str(want[key].dtype)[6:], key
        np.testing.assert_allclose(mine[key].tolist(), want[key].tolist(), rtol=1e-6)
    first = next(k for k in want if k != "step")
    mine[first].zero_()  # an ordinary tensor: in place, and the next step uses it
    p.grad = torch.full((3,), 0.5)
    ours.step()
    assert ours.state[p][first] is mine[first]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_repr_is_pytorchs_with_several_param_groups(name):
    def text(lib):
        a, b = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))
        return repr(getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.5}],
                                             lr=0.1))

    assert text(torch) == text(pt)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_step_counter_dtype_follows_the_default_dtype_and_a_loaded_one_keeps_its_own(name):
    """PyTorch keeps "step" as a float64 0-d tensor under a float64 default dtype (else float32);
    a loaded 0-d tensor keeps its dtype, a loaded number becomes such a counter."""
    results = []
    for lib in (torch, pt):  # (this file names numpy2gpt `torch` and PyTorch `pt`)
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.nn.Parameter(lib.ones(2))
            opt = getattr(lib.optim, name)([p], lr=0.1, **({"momentum": 0.9} if name == "SGD"
                                                           else {}))
            p.grad = lib.ones(2)
            opt.step()
            step = opt.state[p].get("step")
            sd = opt.state_dict()
            seen = [None if step is None else str(step.dtype).split(".")[-1]]
            for value in (lib.tensor(3.0, dtype=lib.float32), 5):
                if step is not None:
                    sd["state"][0]["step"] = value
                    opt.load_state_dict(sd)
                    loaded = opt.state[p]["step"]
                    seen.append((str(loaded.dtype).split(".")[-1], float(loaded)))
            results.append(seen)
        finally:
            lib.set_default_dtype(lib.float32)
    assert results[0] == results[1]
