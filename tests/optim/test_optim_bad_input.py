"""Bad input to the optimizers and learning-rate schedulers: the same exception type and message
as PyTorch's (`same_error` runs each case on numpy2gpt and on torch), and PyTorch's behaviour
where it accepts odd input (duplicate parameters, a state dict of another optimizer)."""

import warnings

import pytest
import torch as pt
from torch_compare import same_error

import numpy2gpt as ng

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
              "RAdam", "Rprop", "ASGD", "LBFGS"]
PER_PARAMETER = [n for n in OPTIMIZERS if n not in ("SGD", "LBFGS")]  # with a "step" state


def leaf(lib, n=2):
    return lib.ones(n, requires_grad=True)


def make(lib, name, *args, **kwargs):
    return getattr(lib.optim, name)([leaf(lib)], *args, **kwargs)


def stepped(lib, name, n=2):
    """An optimizer of `name` over n parameters after one step (so it has state)."""
    params = [leaf(lib, 2) for _ in range(n)]
    kwargs = dict(momentum=0.9) if name == "SGD" else {}
    opt = getattr(lib.optim, name)(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = sum((p * p).sum() for p in params)
        loss.backward()
        return loss

    opt.step(closure)
    return opt


# ----- constructor arguments -------------------------------------------------------------------
# (optimizers, keyword, bad values): every optimizer of the list that takes the keyword
HYPER = [
    (OPTIMIZERS, "lr", [-1.0, -1e-9, "a", None, [0.1]]),
    (["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"], "eps",
     [-1e-8, "a"]),
    (["Adam", "AdamW", "Adamax", "NAdam", "RAdam"], "betas",
     [(1.0, 0.9), (0.9, 1.0), (-0.1, 0.9), (0.9,), 0.9, None]),
    (["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
      "ASGD"], "weight_decay", [-1, -0.5, "a"]),
    (["SGD", "RMSprop"], "momentum", [-0.5, "a"]),
    (["RMSprop"], "alpha", [-1]),
    (["Adadelta"], "rho", [1.5, -0.1]),
    (["Adagrad"], "lr_decay", [-1]),
    (["Adagrad"], "initial_accumulator_value", [-1]),
    (["NAdam"], "momentum_decay", [-1]),
    (["Rprop"], "etas", [(1.5, 1.2), (0.5, 0.9), (0.5,)]),
]
HYPER_CASES = [pytest.param(name, key, value, id=f"{name}-{key}={value!r}")
               for names, key, values in HYPER for name in names for value in values]


@pytest.mark.parametrize("name, key, value", HYPER_CASES)
def test_hyper_parameter_out_of_range_or_of_the_wrong_type(name, key, value):
    same_error(lambda lib: make(lib, name, **{key: value}))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_tensor_lr_must_have_one_element(name):
    same_error(lambda lib: make(lib, name, lr=lib.tensor([0.1, 0.2])))


@pytest.mark.parametrize("kwargs", [
    dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1),
    dict(nesterov=True, momentum=-0.1)], ids=str)
def test_sgd_switches(kwargs):
    same_error(lambda lib: make(lib, "SGD", **kwargs))


def test_sgd_accepts_a_nan_lr_as_pytorch_does():
    for lib in (ng, pt):  # (SGD checks lr < 0, which NaN passes; the others check 0 <= lr)
        assert make(lib, "SGD", lr=float("nan")).defaults["lr"] != 0
    same_error(lambda lib: make(lib, "Adam", lr=float("nan")))


@pytest.mark.parametrize("betas", [(0, 0.5), (0.5, 0), (ng.tensor(0.9), 0.99)], ids=str)
def test_adam_betas_both_floats_or_both_tensors(betas):
    same_error(lambda lib: make(lib, "Adam", betas=tuple(
        lib.tensor(b.item()) if isinstance(b, ng.Tensor) else b for b in betas)))


@pytest.mark.parametrize("kwargs", [
    dict(lr="tensor", foreach=True), dict(betas="tensor", foreach=True),
    dict(betas=([0.9, 0.8], 0.99))], ids=str)
def test_adam_tensor_hyper_parameters(kwargs):
    """(A 2-element beta fails PyTorch's range check first, on the truth value of a tensor,
    whose message numpy2gpt words differently.)"""
    def call(lib):
        args = dict(kwargs)
        if args.get("lr") == "tensor":
            args["lr"] = lib.tensor(0.1)
        if args.get("betas") == "tensor":
            args["betas"] = (lib.tensor(0.9), lib.tensor(0.99))
        elif "betas" in args:
            args["betas"] = tuple(lib.tensor(b) for b in args["betas"])
        return make(lib, "Adam", **args)

    same_error(call, same_message="lr" in kwargs or kwargs["betas"] == "tensor")


def test_adam_with_tensor_lr_and_betas_steps_as_pytorch():
    results = []
    for lib in (ng, pt):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.Adam([p], lr=lib.tensor(0.1), betas=(lib.tensor(0.8), lib.tensor(0.9)))
        for _ in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        results.append(p.detach().numpy())
    assert results[0] == pytest.approx(results[1], rel=1e-6)


# ----- params --------------------------------------------------------------------------------
PARAMS = {
    "empty list": lambda lib: [],
    "None": lambda lib: None,
    "a number": lambda lib: 3,
    "a float in the list": lambda lib: [1.0],
    "a non-leaf": lambda lib: [leaf(lib) * 2],
    "a set in a group": lambda lib: [{"params": {leaf(lib)}}],
    "a group without params": lambda lib: [{"lr": 0.1}],
    "a parameter in two groups": lambda lib: (lambda p: [{"params": [p]}, {"params": p}])(
        leaf(lib)),
    "names for some params": lambda lib: [("a", leaf(lib)), leaf(lib)],
    "a named group and an unnamed one": lambda lib: [{"params": [("a", leaf(lib))]},
                                                     {"params": [leaf(lib)]}],
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("what", PARAMS)
def test_bad_params(name, what):
    same_error(lambda lib: getattr(lib.optim, name)(PARAMS[what](lib)))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_params_of_the_wrong_kind_give_pytorch_types(name):
    """The messages name the library's own classes (numpy2gpt.FloatTensor, torch.FloatTensor)."""
    same_error(lambda lib: getattr(lib.optim, name)(leaf(lib)), same_message=False)
    same_error(lambda lib: getattr(lib.optim, name)([{"params": [leaf(lib)]}, leaf(lib)]),
               same_message=False)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_odd_params_that_pytorch_accepts(name):
    for lib in (ng, pt):
        p = leaf(lib)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            opt = getattr(lib.optim, name)([p, p])
        assert len(opt.param_groups[0]["params"]) == 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt = getattr(lib.optim, name)([{"params": leaf(lib), "my_key": 1}])  # unknown key
        assert opt.param_groups[0]["my_key"] == 1
        assert len(getattr(lib.optim, name)({leaf(lib)}).param_groups) == 1  # a set of tensors
        assert len(getattr(lib.optim, name)([lib.zeros(2)]).param_groups) == 1  # no grad
        bad = getattr(lib.optim, name)([{"params": [leaf(lib)], "lr": -1.0}])  # (not checked)
        assert bad.param_groups[0]["lr"] == -1.0


ADD_GROUP = {
    "overlapping": lambda lib, opt: {"params": opt.param_groups[0]["params"] + [leaf(lib)]},
    "a list": lambda lib, opt: [leaf(lib)],
    "no params": lambda lib, opt: {"lr": 0.1},
    "a set": lambda lib, opt: {"params": {leaf(lib)}},
    "a non-leaf": lambda lib, opt: {"params": [leaf(lib) * 2]},
    "named into unnamed": lambda lib, opt: {"params": [("a", leaf(lib))]},
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("what", ADD_GROUP)
def test_add_param_group(name, what):
    def call(lib):
        opt = make(lib, name)
        opt.add_param_group(ADD_GROUP[what](lib, opt))

    same_error(call)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_add_param_group_of_a_tensor(name):
    same_error(lambda lib: make(lib, name).add_param_group(leaf(lib)), same_message=False)


# ----- load_state_dict ---------------------------------------------------------------------------
LOAD = {
    "more groups": lambda lib, name: {"state": {}, "param_groups": [
        {"params": [0]}, {"params": [1]}]},
    "no groups": lambda lib, name: {"state": {}, "param_groups": []},
    "a larger group": lambda lib, name: stepped(lib, name, n=2).state_dict(),
    "no param_groups": lambda lib, name: {"state": {}},
    "no state": lambda lib, name: {"param_groups": [{"params": [0], "lr": 0.1}]},
    "a group without params": lambda lib, name: {"state": {}, "param_groups": [{"lr": 0.1}]},
    "not a dict": lambda lib, name: 3,
    "a list": lambda lib, name: [1],
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("what", LOAD)
def test_load_state_dict_refuses_what_pytorch_refuses(name, what):
    same_error(lambda lib: make(lib, name).load_state_dict(LOAD[what](lib, name)))


@pytest.mark.parametrize("name", PER_PARAMETER)
def test_load_state_dict_needs_step_in_a_non_empty_state(name):
    def call(lib):
        sd = stepped(lib, name, n=1).state_dict()
        del sd["state"][0]["step"]
        make(lib, name).load_state_dict(sd)

    same_error(call)


@pytest.mark.parametrize("name, key", [("NAdam", "mu_product"), ("ASGD", "eta"), ("ASGD", "mu")])
def test_load_state_dict_needs_the_optimizers_own_counters(name, key):
    def call(lib):
        sd = stepped(lib, name, n=1).state_dict()
        del sd["state"][0][key]
        make(lib, name).load_state_dict(sd)

    same_error(call)


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "SGD"])
def test_a_state_dict_of_sgd_replaces_the_groups(name):
    """The saved groups replace the optimizer's, as in PyTorch: SGD's lack the hyper-parameters
    of the others, so the next step is a KeyError (same key as PyTorch's)."""
    keys = []
    for lib in (ng, pt):
        opt = stepped(lib, name, n=1)
        sgd = lib.optim.SGD([leaf(lib)], lr=0.5)
        opt.load_state_dict(sgd.state_dict())
        keys.append(sorted(k for k in opt.param_groups[0] if k != "params"))
        assert opt.param_groups[0]["lr"] == 0.5
    assert keys[0] == keys[1]
    same_error(lambda lib: (lambda opt: (opt.load_state_dict(lib.optim.SGD(
        [leaf(lib)]).state_dict()), opt.step(lambda: 1.0)))(stepped(lib, name, n=1)))


@pytest.mark.parametrize("name, other", [
    ("RMSprop", "Adam"), ("Adagrad", "Adam"), ("Adamax", "Adam"), ("Adadelta", "Adam"),
    ("Rprop", "Adam"), ("NAdam", "Adam"), ("ASGD", "Adam"), ("NAdam", "RAdam"),
    ("Adam", "RMSprop"), ("SGD", "Adam")])
def test_a_state_dict_of_another_optimizer_is_a_key_error(name, other):
    """At load (a counter the optimizer checks is missing) or at the next step (a hyper-parameter
    or a buffer is missing); which key PyTorch names first is its order of reading."""
    def call(lib):
        opt = stepped(lib, name, n=1)
        opt.load_state_dict(stepped(lib, other, n=1).state_dict())
        opt.step(lambda: 1.0)

    same_error(call, same_message=name in ("RMSprop", "Adagrad", "Adamax", "NAdam", "ASGD",
                                           "SGD"))


def test_a_state_without_a_buffer_is_a_key_error_at_step():
    def call(lib):
        p = leaf(lib)
        opt = lib.optim.Adam([p])
        sd = stepped(lib, "Adam", n=1).state_dict()
        del sd["state"][0]["exp_avg_sq"]
        opt.load_state_dict(sd)
        p.sum().backward()
        opt.step()

    same_error(call)


def test_amsgrad_switched_on_after_the_first_step_is_a_key_error():
    def call(lib):
        opt = stepped(lib, "Adam", n=1)
        opt.param_groups[0]["amsgrad"] = True
        opt.step(lambda: 1.0)

    same_error(call)


def test_loaded_groups_fill_in_missing_switches():
    """A saved group without the implementation switches (an older checkpoint) gets their
    defaults, as PyTorch's __setstate__ gives them; AdamW's weight decay stays decoupled."""
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "NAdam"):
        groups = []
        for lib in (ng, pt):
            opt = make(lib, name)
            opt.load_state_dict({"state": {}, "param_groups": [{"params": [0], "lr": 0.1}]})
            groups.append({k: v for k, v in opt.param_groups[0].items() if k != "params"})
        assert groups[0] == groups[1], name


# ----- step and zero_grad ---------------------------------------------------------------------
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_closure_rules(name):
    same_error(lambda lib: make(lib, name).step(3))
    same_error(lambda lib: make(lib, name).step(closure=lambda: 1.0, foo=1), same_message=False)
    for lib in (ng, pt):  # the closure's result is returned (LBFGS: it must be a number)
        opt = make(lib, name)
        assert opt.step(lambda: 2.5) == 2.5
        if name != "LBFGS":
            assert opt.step() is None
            assert opt.step(lambda: None) is None


def test_lbfgs_needs_a_closure():
    same_error(lambda lib: make(lib, "LBFGS").step())
    same_error(lambda lib: make(lib, "LBFGS").step(lambda: None))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_zero_grad_without_gradients(name):
    for lib in (ng, pt):
        params = [leaf(lib), leaf(lib)]
        opt = getattr(lib.optim, name)(params)
        opt.zero_grad(set_to_none=False)  # no gradient yet: nothing to zero, none is made
        assert [p.grad for p in params] == [None, None]
        params[0].sum().backward()
        opt.zero_grad(set_to_none=False)
        assert params[0].grad.tolist() == [0.0, 0.0] and params[1].grad is None
    same_error(lambda lib: make(lib, name).zero_grad(foo=1), same_message=False)


# ----- learning-rate schedulers --------------------------------------------------------------
def sgd(lib, groups=1, **kwargs):
    return lib.optim.SGD([{"params": [leaf(lib)]} for _ in range(groups)], lr=0.1,
                         momentum=0.9, **kwargs)


def sched(lib):
    return lib.optim.lr_scheduler


def sequential(lib, milestones, n=2, **kwargs):
    opt = sgd(lib)
    parts = [sched(lib).ConstantLR(opt, factor=0.5, total_iters=2) for _ in range(n)]
    return sched(lib).SequentialLR(opt, parts, milestones, **kwargs)


SCHEDULERS = {
    "StepLR step_size=0, step": lambda lib: sched(lib).StepLR(sgd(lib), 0).step(),
    "StepLR step_size='a', step": lambda lib: sched(lib).StepLR(sgd(lib), "a").step(),
    "StepLR on a number": lambda lib: sched(lib).StepLR(3, 2),
    "StepLR on None": lambda lib: sched(lib).StepLR(None, 2),
    "StepLR last_epoch=3 without initial_lr": lambda lib: sched(lib).StepLR(sgd(lib, 2), 2,
                                                                             last_epoch=3),
    "MultiStepLR milestones=3": lambda lib: sched(lib).MultiStepLR(sgd(lib), 3),
    "LambdaLR 1 lambda, 2 groups": lambda lib: sched(lib).LambdaLR(sgd(lib, 2),
                                                                   [lambda e: 1.0]),
    "LambdaLR 3 lambdas, 1 group": lambda lib: sched(lib).LambdaLR(sgd(lib), [lambda e: 1.0] * 3),
    "LambdaLR not callable": lambda lib: sched(lib).LambdaLR(sgd(lib), 3),
    "LambdaLR returns a str": lambda lib: sched(lib).LambdaLR(sgd(lib), lambda e: "a"),
    "MultiplicativeLR 1 lambda, 2 groups": lambda lib: sched(lib).MultiplicativeLR(
        sgd(lib, 2), [lambda e: 1.0]),
    "MultiplicativeLR not callable": lambda lib: sched(lib).MultiplicativeLR(sgd(lib), 3),
    "MultiplicativeLR list of a number": lambda lib: sched(lib).MultiplicativeLR(sgd(lib), [3]),
    "ConstantLR factor=2": lambda lib: sched(lib).ConstantLR(sgd(lib), factor=2),
    "ConstantLR factor=-1": lambda lib: sched(lib).ConstantLR(sgd(lib), factor=-1),
    "LinearLR start_factor=0": lambda lib: sched(lib).LinearLR(sgd(lib), start_factor=0),
    "LinearLR start_factor=2": lambda lib: sched(lib).LinearLR(sgd(lib), start_factor=2),
    "LinearLR end_factor=2": lambda lib: sched(lib).LinearLR(sgd(lib), end_factor=2),
    "ExponentialLR without gamma": lambda lib: sched(lib).ExponentialLR(sgd(lib)),
    "ExponentialLR gamma='a', step": lambda lib: sched(lib).ExponentialLR(sgd(lib), "a").step(),
    "CosineAnnealingLR T_max=0": lambda lib: sched(lib).CosineAnnealingLR(sgd(lib), 0).step(),
    "WarmRestarts T_0=0": lambda lib: sched(lib).CosineAnnealingWarmRestarts(sgd(lib), 0),
    "WarmRestarts T_0=-1": lambda lib: sched(lib).CosineAnnealingWarmRestarts(sgd(lib), -1),
    "WarmRestarts T_0=1.5": lambda lib: sched(lib).CosineAnnealingWarmRestarts(sgd(lib), 1.5),
    "WarmRestarts T_mult=0.5": lambda lib: sched(lib).CosineAnnealingWarmRestarts(
        sgd(lib), 2, T_mult=0.5),
    "WarmRestarts T_mult=0": lambda lib: sched(lib).CosineAnnealingWarmRestarts(
        sgd(lib), 2, T_mult=0),
    "WarmRestarts eta_min='a'": lambda lib: sched(lib).CosineAnnealingWarmRestarts(
        sgd(lib), 2, eta_min="a"),
    "WarmRestarts step(-1)": lambda lib: sched(lib).CosineAnnealingWarmRestarts(
        sgd(lib), 2).step(-1),
    "OneCycleLR without total_steps or epochs": lambda lib: sched(lib).OneCycleLR(sgd(lib), 0.1),
    "OneCycleLR epochs only": lambda lib: sched(lib).OneCycleLR(sgd(lib), 0.1, epochs=2),
    "OneCycleLR steps_per_epoch only": lambda lib: sched(lib).OneCycleLR(
        sgd(lib), 0.1, steps_per_epoch=2),
    "OneCycleLR total_steps=0": lambda lib: sched(lib).OneCycleLR(sgd(lib), 0.1, total_steps=0),
    "OneCycleLR total_steps=1.5": lambda lib: sched(lib).OneCycleLR(sgd(lib), 0.1,
                                                                    total_steps=1.5),
    "OneCycleLR epochs=0": lambda lib: sched(lib).OneCycleLR(sgd(lib), 0.1, epochs=0,
                                                             steps_per_epoch=2),
    "OneCycleLR pct_start=2": lambda lib: sched(lib).OneCycleLR(sgd(lib), 0.1, total_steps=10,
                                                                pct_start=2),
    "OneCycleLR anneal_strategy='x'": lambda lib: sched(lib).OneCycleLR(
        sgd(lib), 0.1, total_steps=10, anneal_strategy="x"),
    "OneCycleLR max_lr list too short": lambda lib: sched(lib).OneCycleLR(
        sgd(lib, 2), [0.1], total_steps=10),
    "OneCycleLR stepped too often": lambda lib: (lambda s: [s.step() for _ in range(5)])(
        sched(lib).OneCycleLR(sgd(lib), 0.1, total_steps=3)),
    "OneCycleLR on Rprop (no momentum)": lambda lib: sched(lib).OneCycleLR(
        lib.optim.Rprop([leaf(lib)], lr=0.1), 0.1, total_steps=3),
    "OneCycleLR on a number": lambda lib: sched(lib).OneCycleLR(3, 0.1, total_steps=3),
    "CyclicLR mode='x'": lambda lib: sched(lib).CyclicLR(sgd(lib), 0.01, 0.1, mode="x"),
    "CyclicLR on Rprop (no momentum)": lambda lib: sched(lib).CyclicLR(
        lib.optim.Rprop([leaf(lib)], lr=0.1), 0.01, 0.1),
    "CyclicLR base_lr list too short": lambda lib: sched(lib).CyclicLR(sgd(lib, 2), [0.01], 0.1),
    "ReduceLROnPlateau mode='x'": lambda lib: sched(lib).ReduceLROnPlateau(sgd(lib), mode="x"),
    "ReduceLROnPlateau threshold_mode='x'": lambda lib: sched(lib).ReduceLROnPlateau(
        sgd(lib), threshold_mode="x"),
    "ReduceLROnPlateau factor=1": lambda lib: sched(lib).ReduceLROnPlateau(sgd(lib), factor=1.0),
    "ReduceLROnPlateau min_lr list too short": lambda lib: sched(lib).ReduceLROnPlateau(
        sgd(lib, 2), min_lr=[0.1]),
    "ReduceLROnPlateau on a number": lambda lib: sched(lib).ReduceLROnPlateau(3),
    "ReduceLROnPlateau step()": lambda lib: sched(lib).ReduceLROnPlateau(sgd(lib)).step(),
    "ReduceLROnPlateau step('a')": lambda lib: sched(lib).ReduceLROnPlateau(sgd(lib)).step("a"),
    "ReduceLROnPlateau step(2 values)": lambda lib: sched(lib).ReduceLROnPlateau(sgd(lib)).step(
        lib.tensor([1.0, 2.0])),
    "SequentialLR milestones too long": lambda lib: sequential(lib, [1, 2]),
    "SequentialLR milestones too short": lambda lib: sequential(lib, []),
    "SequentialLR milestones=1": lambda lib: sequential(lib, 1),
    "SequentialLR no schedulers": lambda lib: sched(lib).SequentialLR(sgd(lib), [], []),
    "SequentialLR of another optimizer": lambda lib: sched(lib).SequentialLR(
        sgd(lib), [sched(lib).ConstantLR(sgd(lib)), sched(lib).ConstantLR(sgd(lib))], [1]),
    "SequentialLR of numbers": lambda lib: sched(lib).SequentialLR(sgd(lib), [3, 4], [1]),
    "ChainedScheduler empty": lambda lib: sched(lib).ChainedScheduler([]),
    "ChainedScheduler of two optimizers": lambda lib: sched(lib).ChainedScheduler(
        [sched(lib).ConstantLR(sgd(lib)), sched(lib).ConstantLR(sgd(lib))]),
    "ChainedScheduler of a number": lambda lib: sched(lib).ChainedScheduler([3]),
    "LambdaLR.load_state_dict without lr_lambdas": lambda lib: sched(lib).LambdaLR(
        sgd(lib), lambda e: 1.0).load_state_dict({}),
    "MultiplicativeLR.load_state_dict without lr_lambdas": lambda lib: sched(
        lib).MultiplicativeLR(sgd(lib), lambda e: 1.0).load_state_dict({"last_epoch": 3}),
}


@pytest.mark.parametrize("what", SCHEDULERS)
def test_scheduler_bad_arguments(what):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's warnings about step order)
        same_error(SCHEDULERS[what])


def lrs(scheduler, steps=4):
    """The learning rates of the first `steps` steps, one list."""
    out = list(scheduler.get_last_lr())
    for _ in range(steps):
        scheduler.step()
        out += scheduler.get_last_lr()
    return out


ACCEPTED = {  # odd arguments PyTorch takes: the same learning rates follow
    "MultiStepLR unsorted milestones": lambda lib: lrs(sched(lib).MultiStepLR(sgd(lib), [3, 1])),
    "MultiStepLR repeated milestones": lambda lib: lrs(sched(lib).MultiStepLR(sgd(lib), [2, 2])),
    "MultiStepLR milestones=None, no step": lambda lib: sched(lib).MultiStepLR(
        sgd(lib), None).get_last_lr(),
    "ConstantLR factor=0": lambda lib: lrs(sched(lib).ConstantLR(sgd(lib), factor=0)),
    "ConstantLR total_iters=0": lambda lib: lrs(sched(lib).ConstantLR(sgd(lib), total_iters=0)),
    "PolynomialLR total_iters=0": lambda lib: lrs(sched(lib).PolynomialLR(sgd(lib), 0)),
    "OneCycleLR on SGD with momentum=0": lambda lib: lrs(sched(lib).OneCycleLR(
        lib.optim.SGD([leaf(lib)], lr=0.1), 0.1, total_steps=5)),
    "SequentialLR last_epoch=3": lambda lib: lrs(sequential(lib, [1], last_epoch=3)),
    "SequentialLR unsorted milestones": lambda lib: lrs(sequential(lib, [3, 1], n=3)),
}


@pytest.mark.parametrize("what", ACCEPTED)
def test_scheduler_odd_arguments_pytorch_accepts(what):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = ACCEPTED[what](ng), ACCEPTED[what](pt)
    assert ours == pytest.approx(theirs, rel=1e-12)


RESUMABLE = [("StepLR", (2,)), ("MultiStepLR", ([2],)), ("LambdaLR", (lambda e: 1.0,)),
             ("MultiplicativeLR", (lambda e: 0.9,)), ("ExponentialLR", (0.9,)),
             ("CosineAnnealingLR", (3,)), ("LinearLR", ()), ("ConstantLR", ()),
             ("PolynomialLR", ()), ("CosineAnnealingWarmRestarts", (2,))]


@pytest.mark.parametrize("name, args", RESUMABLE, ids=[n for n, _ in RESUMABLE])
def test_scheduler_resumed_without_initial_lr_and_on_a_non_optimizer(name, args):
    same_error(lambda lib: getattr(sched(lib), name)(sgd(lib), *args, last_epoch=2))
    same_error(lambda lib: getattr(sched(lib), name)(object(), *args))
    same_error(lambda lib: getattr(sched(lib), name)(sgd(lib), *args).load_state_dict(3),
               same_message=name not in ("LambdaLR", "MultiplicativeLR"))
