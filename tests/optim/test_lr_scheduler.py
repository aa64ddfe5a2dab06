"""Learning-rate schedules equal PyTorch's, step by step."""

import pytest
import torch as pt
from torch_compare import nanogpt_get_lr

import numpy2gpt as torch
from numpy2gpt import optim
from numpy2gpt.optim import lr_scheduler as ours_sched


def _optimizer(lib):
    o = lib.optim.SGD([{"params": [lib.ones(2, requires_grad=True)]},
                       {"params": [lib.ones(1, requires_grad=True)], "lr": 0.05}], lr=0.1)
    return o, (ours_sched if lib is torch else pt.optim.lr_scheduler)


def _lrs(make, lib, steps=40, resume_at=None):
    """The lrs in force at each step; resume_at: the scheduler is made with
    last_epoch=resume_at, the optimizer's groups holding an "initial_lr" (as after loading)."""
    opt, module = _optimizer(torch if lib == "ours" else pt)
    if resume_at is None:
        sched = make(module, opt)
    else:
        for g, initial in zip(opt.param_groups, (0.2, 0.08)):
            g["initial_lr"] = initial
        sched = make(module, opt, last_epoch=resume_at)
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
    return out


MAKERS = {
    "lambda": lambda m, o, **kw: m.LambdaLR(o, lambda e: 0.95 ** e, **kw),
    "lambdas": lambda m, o, **kw: m.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (e + 1)],
                                             **kw),
    "step": lambda m, o, **kw: m.StepLR(o, step_size=7, gamma=0.5, **kw),
    "step2": lambda m, o, **kw: m.StepLR(o, step_size=2, gamma=0.5, **kw),
    "multistep": lambda m, o, **kw: m.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.5, **kw),
    "exponential": lambda m, o, **kw: m.ExponentialLR(o, gamma=0.9, **kw),
    "cosine": lambda m, o, **kw: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001, **kw),
    "linear": lambda m, o, **kw: m.LinearLR(o, start_factor=0.1, total_iters=8, **kw),
    "linear_down": lambda m, o, **kw: m.LinearLR(o, start_factor=1.0, end_factor=0.25,
                                                 total_iters=6, **kw),
    "sequential": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=30)],
        milestones=[5]),
}


@pytest.mark.parametrize("kind", MAKERS)
def test_schedule_matches_pytorch(kind):
    ours = _lrs(MAKERS[kind], "ours")
    theirs = _lrs(MAKERS[kind], "torch")
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("resume_at", [0, 3, 9, 25])
@pytest.mark.parametrize("kind", [k for k in MAKERS if k != "sequential"])
def test_resumed_schedule_matches_pytorch(kind, resume_at):
    """Made with last_epoch >= 0, a chainable schedule (cosine, linear) starts from the
    optimizer's current lr, as PyTorch's initial step leaves it; then they agree step by step."""
    ours = _lrs(MAKERS[kind], "ours", resume_at=resume_at)
    theirs = _lrs(MAKERS[kind], "torch", resume_at=resume_at)
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)


def _raised(make):
    with pytest.raises(Exception) as e:
        make()
    return type(e.value), str(e.value)


@pytest.mark.parametrize("make", [
    lambda m, o: m.LambdaLR(o, [lambda e: 1.0]),  # 2 groups, 1 lambda
    lambda m, o: m.LinearLR(o, end_factor=2),
    lambda m, o: m.LinearLR(o, start_factor=0),
    lambda m, o: m.StepLR(object(), step_size=2),
    lambda m, o: m.CosineAnnealingLR(o, T_max=5, last_epoch=3),  # no "initial_lr" to resume
], ids=["lambdas", "end_factor", "start_factor", "not_optimizer", "no_initial_lr"])
def test_bad_scheduler_arguments_are_pytorchs_errors(make):
    (opt, module), (ref_opt, ref_module) = _optimizer(torch), _optimizer(pt)
    assert _raised(lambda: make(module, opt)) == _raised(lambda: make(ref_module, ref_opt))


def test_step_with_an_epoch_warns_and_jumps_there_like_pytorch():
    result = {}
    for lib in (torch, pt):
        opt, module = _optimizer(lib)
        scheds = [module.StepLR(opt, step_size=3, gamma=0.5),
                  module.CosineAnnealingLR(opt, T_max=10),
                  module.LinearLR(opt, total_iters=8),
                  module.LambdaLR(opt, lambda e: 0.9 ** e)]
        seen = []
        for s in scheds:
            opt.step()
            with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step"):
                s.step(7)
            s.step()
            seen += [s.last_epoch, s.state_dict()["_step_count"], *s.get_last_lr()]
        result[lib] = seen
    assert result[torch] == pytest.approx(result[pt], rel=1e-12)
    assert ours_sched.EPOCH_DEPRECATION_WARNING == pt.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING


@pytest.mark.parametrize("kind", MAKERS)
def test_state_dict_keys_match_pytorch(kind):
    ours = MAKERS[kind](ours_sched, _optimizer(torch)[0]).state_dict()
    theirs = MAKERS[kind](pt.optim.lr_scheduler, _optimizer(pt)[0]).state_dict()
    inner = ("_schedulers",) if kind == "sequential" else ()
    assert set(ours) == set(theirs) - {"_get_lr_called_within_step"}
    assert ours["_step_count" if not inner else "last_epoch"] == theirs[
        "_step_count" if not inner else "last_epoch"]
    for a, b in zip(ours.get("_schedulers", []), theirs.get("_schedulers", [])):
        assert set(a) == set(b) - {"_get_lr_called_within_step"}
        assert a["_step_count"] == b["_step_count"]
    if "lr_lambdas" in theirs:
        assert ours["lr_lambdas"] == theirs["lr_lambdas"]


# nanoGPT's schedules: its defaults for shakespeare_char, no warmup with a floor of 0, and a
# short one whose floor starts early (lr_decay_iters < the run)
NANOGPT_SCHEDULES = [dict(learning_rate=1e-3, warmup_iters=100, lr_decay_iters=2000, min_lr=1e-4),
                     dict(learning_rate=6e-4, warmup_iters=0, lr_decay_iters=600, min_lr=0.0),
                     dict(learning_rate=3e-3, warmup_iters=3, lr_decay_iters=8, min_lr=1e-4)]


@pytest.mark.parametrize("s", NANOGPT_SCHEDULES)
def test_warmup_cosine_lr_is_nanogpts_at_every_iteration(s):
    # every iteration, not only the points where linear and cosine decay agree (the ends and
    # the midpoint): warmup, the whole cosine, and the floor after lr_decay_iters
    f = ours_sched.warmup_cosine_lr
    for it in range(s["lr_decay_iters"] + 50):
        assert f(it, **s) == nanogpt_get_lr(it, **s), it
    assert f(s["lr_decay_iters"] + 49, **s) == s["min_lr"]


@pytest.mark.parametrize("s", NANOGPT_SCHEDULES)
def test_warmup_cosine_scheduler_is_nanogpts_and_resumes_mid_schedule(s):
    def scheduler():
        opt = optim.AdamW([torch.ones(1, requires_grad=True)], lr=s["learning_rate"])
        return opt, ours_sched.WarmupCosineLR(opt, s["warmup_iters"], s["lr_decay_iters"],
                                              s["min_lr"])

    n, stop = s["lr_decay_iters"] + 20, (s["warmup_iters"] + s["lr_decay_iters"]) // 2 + 1
    opt, sched = scheduler()
    for it in range(n):  # the lr in force during iteration `it`
        assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0] == nanogpt_get_lr(it, **s), it
        opt.step()
        sched.step()

    # stopped part way down the cosine; a new optimizer and scheduler load the saved states
    opt, sched = scheduler()
    for _ in range(stop):
        opt.step()
        sched.step()
    states = opt.state_dict(), sched.state_dict()
    opt, sched = scheduler()
    opt.load_state_dict(states[0])
    sched.load_state_dict(states[1])
    for it in range(stop, n):
        assert opt.param_groups[0]["lr"] == nanogpt_get_lr(it, **s), it
        opt.step()
        sched.step()
