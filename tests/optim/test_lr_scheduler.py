"""Learning-rate schedules equal PyTorch's, step by step."""

import pytest
import torch as pt
from torch_compare import nanogpt_get_lr

import numpy2gpt as torch
from numpy2gpt import optim
from numpy2gpt.optim import lr_scheduler as ours_sched


def _lrs(make, lib, steps=40):
    if lib == "ours":
        p = torch.ones(2, requires_grad=True)
        opt = optim.SGD([{"params": [p]}, {"params": [torch.ones(1, requires_grad=True)],
                                           "lr": 0.05}], lr=0.1)
        sched = make(ours_sched, opt)
    else:
        p = pt.ones(2, requires_grad=True)
        opt = pt.optim.SGD([{"params": [p]}, {"params": [pt.ones(1, requires_grad=True)],
                                              "lr": 0.05}], lr=0.1)
        sched = make(pt.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
    return out


MAKERS = {
    "lambda": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "step": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=8),
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
