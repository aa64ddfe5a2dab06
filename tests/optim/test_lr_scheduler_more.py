"""ConstantLR, MultiplicativeLR, PolynomialLR, ChainedScheduler, CosineAnnealingWarmRestarts,
OneCycleLR, CyclicLR and ReduceLROnPlateau against PyTorch's: every lr (and momentum) of a few
hundred steps, the same after saving and loading the state dicts mid-run, and PyTorch's errors."""

import inspect
import warnings

import numpy as np
import pytest
import torch as pt

import numpy2gpt as torch
from numpy2gpt.optim import lr_scheduler as ours_sched

STEPS = 300
# PyTorch's check of the order of optimizer.step() and scheduler.step() warns spuriously about
# the schedulers inside a SequentialLR; numpy2gpt has no such check
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step:UserWarning")


def _module(lib):
    return ours_sched if lib is torch else pt.optim.lr_scheduler


def _optimizer(lib, kind="sgd"):
    """Two param groups with different lrs; SGD with momentum, or Adam / AdamW (momentum =
    betas[0])."""
    groups = [{"params": [lib.ones(2, requires_grad=True)]},
              {"params": [lib.ones(1, requires_grad=True)], "lr": 0.05}]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return (lib.optim.Adam if kind == "adam" else lib.optim.AdamW)(groups, lr=0.1)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _close(ours, theirs, what):
    """Equal to a few ulps (the formulas are PyTorch's, in its order: in practice bit-equal)."""
    assert np.shape(ours) == np.shape(theirs), what
    np.testing.assert_array_max_ulp(np.asarray(ours, float), np.asarray(theirs, float), maxulp=4)


def _run(lib, make, kind="sgd", steps=STEPS, resume_at=None, metrics=None):
    """The (lrs, momenta) in force at each step. resume_at: after that many steps the optimizer
    and scheduler state dicts go into a fresh optimizer and scheduler, which carry on.
    metrics: the values given to step() (ReduceLROnPlateau)."""
    module = _module(lib)
    opt = _optimizer(lib, kind)
    sched = make(module, opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("error" if lib is torch else "ignore")  # none from numpy2gpt
        for i in range(steps):
            if i == resume_at:
                states = opt.state_dict(), sched.state_dict()
                opt = _optimizer(lib, kind)
                sched = make(module, opt)
                opt.load_state_dict(states[0])
                sched.load_state_dict(states[1])
            out.append(([g["lr"] for g in opt.param_groups], _momenta(opt)))
            assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
            opt.step()
            sched.step() if metrics is None else sched.step(metrics[i])
    return out


class Halving:
    """A callable object: its attributes are saved in the scheduler's state dict."""

    def __init__(self):
        self.calls = 0

    def __call__(self, epoch):
        self.calls += 1
        return 0.5 if epoch % 50 == 0 else 0.995


MAKERS = {
    "constant": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=40),
    "constant_default": lambda m, o: m.ConstantLR(o),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.99),
    "multiplicatives": lambda m, o: m.MultiplicativeLR(o, [lambda e: 0.99, Halving()]),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=200, power=0.9),
    "polynomial_sq": lambda m, o: m.PolynomialLR(o, total_iters=120, power=2.0),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=17),
    "warm_restarts_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=3,
                                                                     eta_min=1e-3),
    "chained": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=20),
                                                m.ExponentialLR(o, gamma=0.99)]),
    "chained_opt": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=30), m.CosineAnnealingLR(o, T_max=70),
         m.MultiplicativeLR(o, lambda e: 0.999)], optimizer=o),
    "sequential_chained": lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=8),
                                m.ExponentialLR(o, gamma=0.97)]),
            m.PolynomialLR(o, total_iters=150)], milestones=[60]),
    "one_cycle": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=STEPS),
    "one_cycle_linear": lambda m, o: m.OneCycleLR(o, max_lr=0.5, epochs=10, steps_per_epoch=30,
                                                  anneal_strategy="linear", pct_start=0.25),
    "one_cycle_3phase": lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=STEPS,
                                                  three_phase=True, base_momentum=[0.8, 0.7],
                                                  max_momentum=(0.9, 0.99), div_factor=10.0),
    "one_cycle_3phase_linear": lambda m, o: m.OneCycleLR(
        o, max_lr=0.8, total_steps=STEPS + 7, three_phase=True, anneal_strategy="linear",
        final_div_factor=100.0),
    "one_cycle_no_momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.4, total_steps=STEPS,
                                                       cycle_momentum=False),
    "cyclic": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20),
    "cyclic_triangular2": lambda m, o: m.CyclicLR(
        o, [0.01, 0.002], (0.1, 0.05), step_size_up=15, step_size_down=35, mode="triangular2",
        base_momentum=[0.8, 0.85], max_momentum=(0.9, 0.95)),
    "cyclic_exp_range": lambda m, o: m.CyclicLR(o, 0.001, [0.2, 0.3], step_size_up=7,
                                                step_size_down=11, mode="exp_range",
                                                gamma=0.995),
    # a scale_fn replaces the mode; it is called on the cycle, or on the step ("iterations")
    "cyclic_scale_fn": lambda m, o: m.CyclicLR(o, 0.02, 0.2, step_size_up=10,
                                               mode="exp_range", scale_fn=lambda c: 1 / c),
    "cyclic_scale_fn_iterations": lambda m, o: m.CyclicLR(
        o, 0.02, 0.2, step_size_up=12, step_size_down=5, scale_fn=Halving(),
        scale_mode="iterations", mode="not a mode"),
    "cyclic_no_momentum": lambda m, o: m.CyclicLR(o, 0.05, 0.5, step_size_up=9,
                                                  cycle_momentum=False),
}


@pytest.mark.parametrize(("name", "kind"), [(name, "sgd") for name in MAKERS] + [
    (name, "adamw") for name in MAKERS if name.startswith("one_cycle")] + [
    (name, "adam") for name in MAKERS if name.startswith("cyclic")])
def test_schedule_matches_pytorch(name, kind):
    ours, theirs = _run(torch, MAKERS[name], kind), _run(pt, MAKERS[name], kind)
    for i, ((lr, mom), (ref_lr, ref_mom)) in enumerate(zip(ours, theirs)):
        _close(lr, ref_lr, f"lr at step {i}")
        _close(mom, ref_mom, f"momentum at step {i}")


@pytest.mark.parametrize("resume_at", [1, 137])
@pytest.mark.parametrize("name", MAKERS)
def test_resumed_from_state_dicts_matches_pytorch(name, resume_at):
    kind = "adamw" if "cycle" in name else "sgd"
    ours = _run(torch, MAKERS[name], kind, resume_at=resume_at)
    theirs = _run(pt, MAKERS[name], kind, resume_at=resume_at)
    for i, ((lr, mom), (ref_lr, ref_mom)) in enumerate(zip(ours, theirs)):
        _close(lr, ref_lr, f"lr at step {i}")
        _close(mom, ref_mom, f"momentum at step {i}")
    # and the resumed run is the uninterrupted one
    assert ours == _run(torch, MAKERS[name], kind)


def _keys(state):
    return set(state) - {"_get_lr_called_within_step"}


@pytest.mark.parametrize("name", MAKERS)
def test_state_dict_matches_pytorchs(name):
    ours = MAKERS[name](ours_sched, _optimizer(torch)).state_dict()
    theirs = MAKERS[name](pt.optim.lr_scheduler, _optimizer(pt)).state_dict()
    assert _keys(ours) == _keys(theirs)
    for a, b in zip(ours.get("_schedulers", []), theirs.get("_schedulers", [])):
        assert _keys(a) == _keys(b)
    for key in ("lr_lambdas", "_schedule_phases", "_step_count", "last_epoch", "total_steps",
                "_scale_fn_custom", "scale_mode", "total_size", "step_ratio"):
        if key in theirs:
            assert ours[key] == theirs[key], key


def test_step_with_an_epoch_warns_and_jumps_there_like_pytorch():
    """The deprecated step(epoch): the closed form where there is one (ConstantLR,
    PolynomialLR), the recursive one at that epoch otherwise (MultiplicativeLR)."""
    seen = {}
    for lib in (torch, pt):
        opt, module = _optimizer(lib), _module(lib)
        out = []
        for sched in (module.ConstantLR(opt, factor=0.5, total_iters=6),
                      module.PolynomialLR(opt, total_iters=10, power=1.5),
                      module.MultiplicativeLR(opt, lambda e: 1 - e / 100)):
            for epoch in (3, 6, 8, 12, 0, 5):
                opt.step()
                with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step"):
                    sched.step(epoch)
                sched.step()
                out.append([sched.last_epoch, sched._step_count, *sched.get_last_lr()])
        seen[lib] = out
    _close(seen[torch], seen[pt], "lrs")


def _cawr_trace(lib, epochs, T_mult):
    opt = _optimizer(lib)
    sched = _module(lib).CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=T_mult, eta_min=0.01)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its step(epoch) is not deprecated: no warning
        for epoch in epochs:
            opt.step()
            sched.step(epoch)
            out.append([*sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch,
                        sched._step_count])
    return out


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_step_takes_fractional_epochs_like_pytorch(T_mult):
    # per batch (epoch + i / iters), jumps forward and back, and plain steps after a jump
    per_batch = [e + i / 7 for e in range(40) for i in range(7)]
    interleaved = [3, None, None, 26, None, None, 13.5, None, 0, 0.25, 100, None, 3.999, None]
    for epochs in (per_batch, interleaved):
        ours, theirs = _cawr_trace(torch, epochs, T_mult), _cawr_trace(pt, epochs, T_mult)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _close(a, b, f"step {i}")
    assert _raised(lambda lib: _cawr_trace(lib, [-1], 1)) == [
        (ValueError, "Expected non-negative epoch, but got -1")] * 2


def test_one_cycle_raises_pytorchs_error_past_the_last_step():
    def step_past(lib, total=10):
        opt = _optimizer(lib)
        sched = _module(lib).OneCycleLR(opt, max_lr=0.5, total_steps=total)
        for _ in range(total):  # the steps after the initial one, up to total_steps, are fine
            opt.step()
            sched.step()
        assert sched.last_epoch == total
        opt.step()
        sched.step()

    assert _raised(step_past) == [
        (ValueError, "Tried to step 11 times. The specified number of total steps is 10")] * 2


def test_cyclic_resumed_with_last_epoch_is_pytorchs():
    """Given last_epoch, the lrs and momenta stay the optimizer's; the initial step runs on the
    groups' initial_lr, the next ones on the new base_lr."""
    seen = []
    for lib in (torch, pt):
        opt, module = _optimizer(lib), _module(lib)
        sched = module.CyclicLR(opt, 0.01, 0.1, step_size_up=6)
        for _ in range(23):
            opt.step()
            sched.step()
        sched = module.CyclicLR(opt, [0.02, 0.03], 0.4, step_size_up=4, step_size_down=7,
                                mode="triangular2", base_momentum=0.7, last_epoch=23)
        out = []
        for _ in range(40):
            out.append([*sched.get_last_lr(), *_momenta(opt), sched.last_epoch])
            opt.step()
            sched.step()
        seen.append(out)
    _close(seen[0], seen[1], "lrs and momenta")


def test_cyclic_step_with_an_epoch_and_without_momentum_is_pytorchs():
    """step(epoch) jumps there (with the warning); an optimizer without momentum works with
    cycle_momentum=False."""
    seen = []
    for lib in (torch, pt):
        opt = _NoMomentum(lib)
        sched = _module(lib).CyclicLR(opt, 0.1, 1.0, step_size_up=5, mode="exp_range",
                                      gamma=0.9, cycle_momentum=False)
        out = sched.get_last_lr()
        for epoch in (3, 17, 2, 40):
            with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step"):
                sched.step(epoch)
            out += sched.get_last_lr()
            sched.step()
            out += [*sched.get_last_lr(), sched.last_epoch, sched._step_count]
        seen.append(out)
    _close(seen[0], seen[1], "lrs")


def test_cyclic_state_dict_keeps_only_a_callable_objects_attributes_like_pytorch():
    for lib in (torch, pt):
        opt, module = _optimizer(lib), _module(lib)
        for fn, saved in ((None, None), (lambda c: 1.0, None), (Halving(), {"calls": 4})):
            sched = module.CyclicLR(opt, 0.01, 0.1, scale_fn=fn)
            state = sched.state_dict()
            assert state["_scale_fn_custom"] == saved
            other = module.CyclicLR(opt, 0.01, 0.1, scale_fn=fn and Halving(), mode="exp_range")
            other.load_state_dict(state)
            if fn is None:  # the mode's scale_mode comes back with the mode
                assert (other.mode, other.scale_mode) == ("triangular", "cycle")
            elif saved is not None:
                assert other._scale_fn_custom.calls == 4


PLATEAU = {
    "default": {},
    "patience_cooldown": dict(patience=3, factor=0.5, cooldown=4),
    "rel": dict(patience=2, threshold=0.05, factor=0.7),  # the same numbers, read relatively
    "abs": dict(patience=2, threshold=0.05, threshold_mode="abs", factor=0.7),
    "max_rel": dict(mode="max", patience=2, threshold=0.01, factor=0.3),
    "max_abs_cooldown": dict(mode="max", patience=1, threshold_mode="abs", cooldown=2),
    "min_lr": dict(patience=0, factor=0.5, min_lr=0.01),
    "min_lrs": dict(patience=1, factor=0.5, min_lr=[0.02, 0.001], cooldown=1),
    "eps": dict(patience=1, factor=0.9, eps=3e-3),
}


def _metrics(mode):
    """A loss that falls in steps and then flattens, with a little deterministic jitter (the
    negative of it in mode "max")."""
    values = [1.0 / (1 + min(i, 120) // 9) + 0.002 * ((i * 37) % 11) for i in range(STEPS)]
    return [-v for v in values] if mode == "max" else values


@pytest.mark.parametrize("resume_at", [None, 41])
@pytest.mark.parametrize("name", PLATEAU)
def test_reduce_on_plateau_matches_pytorch(name, resume_at):
    kwargs = PLATEAU[name]
    metrics = _metrics(kwargs.get("mode", "min"))

    def make(m, o):
        return m.ReduceLROnPlateau(o, **kwargs)

    ours = _run(torch, make, metrics=metrics, resume_at=resume_at)
    theirs = _run(pt, make, metrics=metrics, resume_at=resume_at)
    assert len({tuple(lr) for lr, _ in theirs}) > 2  # the lr does drop, several times
    for i, ((lr, _), (ref_lr, _)) in enumerate(zip(ours, theirs)):
        _close(lr, ref_lr, f"lr at step {i}")


def test_reduce_on_plateau_state_and_metric_types_match_pytorch():
    seen = []
    for lib in (torch, pt):
        opt = _optimizer(lib)
        sched = _module(lib).ReduceLROnPlateau(opt, patience=0, min_lr=0.02)
        sched.step(lib.tensor(1.0))  # a 0-d tensor as the metric
        sched.step(2)
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step"):
            sched.step(3.0, epoch=10)
        state = sched.state_dict()
        seen.append((_keys(state), {k: v for k, v in state.items() if k != "optimizer"},
                     sched.in_cooldown, sched.get_last_lr()))
    assert seen[0] == seen[1]


def test_reduce_on_plateau_load_state_dict_rederives_the_mode_like_pytorch():
    """Loading sets the mode's derived "worst" value again, and checks the mode."""
    for lib in (torch, pt):
        module = _module(lib)
        state = module.ReduceLROnPlateau(_optimizer(lib), mode="max").state_dict()
        del state["mode_worse"]
        sched = module.ReduceLROnPlateau(_optimizer(lib))  # mode "min": mode_worse is inf
        sched.load_state_dict(state)
        assert sched.mode_worse == -float("inf")
    assert _raised(lambda lib: _module(lib).ReduceLROnPlateau(_optimizer(lib)).load_state_dict(
        {"mode": "lowest"})) == [(ValueError, "mode lowest is unknown!")] * 2


def test_reduce_on_plateau_with_an_added_param_group_is_pytorchs():
    """A float min_lr extends to the new group; a list of them raises PyTorch's error."""
    result = []
    for lib in (torch, pt):
        for min_lr in (0.001, [0.001, 0.001]):
            opt = _optimizer(lib)
            sched = _module(lib).ReduceLROnPlateau(opt, patience=0, min_lr=min_lr)
            opt.add_param_group({"params": [lib.ones(3, requires_grad=True)], "lr": 0.3})
            sched.step(1.0)
            try:
                sched.step(2.0)
                result.append(("ok", sched.min_lrs, sched.get_last_lr()))
            except RuntimeError as e:
                result.append(("error", str(e)))
    assert result[:2] == result[2:]
    assert result[1][0] == "error" and result[0][0] == "ok"


def _raised(make):
    """(type, message) of the error make(lib) raises, for numpy2gpt and for PyTorch."""
    out = []
    for lib in (torch, pt):
        with pytest.raises(Exception) as e:
            make(lib)
        out.append((type(e.value), str(e.value).replace("torch.", "numpy2gpt.")))
    return out


def _lib(module):
    return torch if module is ours_sched else pt


class _NoMomentum:
    """An optimizer with one param group and neither momentum nor betas."""

    def __new__(cls, lib):
        return lib.optim.Optimizer([lib.ones(1, requires_grad=True)], {"lr": 0.1})


BAD = {
    "constant_factor": lambda m, o: m.ConstantLR(o, factor=1.5),
    "constant_negative": lambda m, o: m.ConstantLR(o, factor=-0.1),
    "multiplicative_lengths": lambda m, o: m.MultiplicativeLR(o, [lambda e: 1.0]),
    "multiplicative_not_callable": lambda m, o: m.MultiplicativeLR(o, 0.9),
    "polynomial_not_optimizer": lambda m, o: m.PolynomialLR(object()),
    "polynomial_resume": lambda m, o: m.PolynomialLR(o, last_epoch=3),
    "restarts_T_0": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    "restarts_T_0_float": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2.0),
    "restarts_T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=0),
    "restarts_T_mult_float": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=1.5),
    "restarts_eta_min": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, eta_min="0"),
    "chained_empty": lambda m, o: m.ChainedScheduler([]),
    "chained_plateau": lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, 0.9),
                                                        m.ReduceLROnPlateau(o)]),
    "chained_no_optimizer": lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, 0.9), 3]),
    "chained_other_optimizer": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, 0.9), m.ExponentialLR(_NoMomentum(_lib(m)), 0.9)]),
    "sequential_plateau": lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, 0.9),
                                                          m.ReduceLROnPlateau(o)], [3]),
    "one_cycle_total_steps": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=0),
    "one_cycle_total_steps_float": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=10.0),
    "one_cycle_no_length": lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=3),
    "one_cycle_epochs": lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=-2, steps_per_epoch=3),
    "one_cycle_steps_per_epoch": lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=2,
                                                           steps_per_epoch=1.5),
    "one_cycle_pct_start": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9,
                                                     pct_start=1.5),
    "one_cycle_pct_start_int": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9,
                                                         pct_start=1),
    "one_cycle_anneal": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9,
                                                  anneal_strategy="exp"),
    "one_cycle_max_lrs": lambda m, o: m.OneCycleLR(o, max_lr=[1.0], total_steps=9),
    "one_cycle_momenta": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9,
                                                   base_momentum=[0.8, 0.8, 0.8]),
    "one_cycle_no_momentum": lambda m, o: m.OneCycleLR(
        _NoMomentum(_lib(m)), max_lr=1.0, total_steps=9),
    "one_cycle_not_optimizer": lambda m, o: m.OneCycleLR(None, max_lr=1.0, total_steps=9),
    "one_cycle_resume": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=9, last_epoch=2),
    "cyclic_not_optimizer": lambda m, o: m.CyclicLR(None, 0.1, 1.0),
    "cyclic_base_lrs": lambda m, o: m.CyclicLR(o, [0.1], 1.0),
    "cyclic_max_lrs": lambda m, o: m.CyclicLR(o, 0.1, (1.0, 1.0, 1.0)),
    "cyclic_mode": lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="triangle"),
    "cyclic_no_momentum": lambda m, o: m.CyclicLR(_NoMomentum(_lib(m)), 0.1, 1.0),
    "cyclic_momenta": lambda m, o: m.CyclicLR(o, 0.1, 1.0, base_momentum=[0.8],
                                              max_momentum=[0.9]),
    "cyclic_max_momenta": lambda m, o: m.CyclicLR(o, 0.1, 1.0, max_momentum=[0.9] * 3),
    "cyclic_resume": lambda m, o: m.CyclicLR(o, 0.1, 1.0, last_epoch=5),
    "cyclic_step_sizes_zero": lambda m, o: m.CyclicLR(o, 0.1, 1.0, step_size_up=0,
                                                      step_size_down=0),
    "cyclic_step_size_up_zero": lambda m, o: m.CyclicLR(o, 0.1, 1.0, step_size_up=0,
                                                        step_size_down=4),
    "cyclic_step_size_str": lambda m, o: m.CyclicLR(o, 0.1, 1.0, step_size_up="ten"),
    "plateau_factor": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "plateau_mode": lambda m, o: m.ReduceLROnPlateau(o, mode="lowest"),
    "plateau_threshold_mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="relative"),
    "plateau_min_lrs": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "plateau_not_optimizer": lambda m, o: m.ReduceLROnPlateau([1.0]),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_are_pytorchs_errors(name):
    ours, theirs = _raised(lambda lib: BAD[name](_module(lib), _optimizer(lib)))
    assert ours == theirs


@pytest.mark.parametrize("name", ["ConstantLR", "MultiplicativeLR", "PolynomialLR",
                                  "ChainedScheduler", "CosineAnnealingWarmRestarts", "OneCycleLR",
                                  "CyclicLR", "ReduceLROnPlateau", "SequentialLR"])
def test_signatures_are_pytorchs(name):
    def params(f):
        return [(p.name, p.default, p.kind) for p in inspect.signature(f).parameters.values()]

    ours, theirs = getattr(ours_sched, name), getattr(pt.optim.lr_scheduler, name)
    for method in ("__init__", "step", "state_dict", "load_state_dict"):
        assert params(getattr(ours, method)) == params(getattr(theirs, method)), method
