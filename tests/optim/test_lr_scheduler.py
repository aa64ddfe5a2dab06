"""Learning-rate schedules equal PyTorch's, step by step."""

import pytest
import torch as pt

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


def test_warmup_cosine_is_nanogpt_schedule():
    f = ours_sched.warmup_cosine_lr
    assert f(0, 1e-3, 100, 2000, 1e-4) == pytest.approx(1e-3 / 101)
    assert f(99, 1e-3, 100, 2000, 1e-4) == pytest.approx(1e-3 * 100 / 101)
    assert f(100, 1e-3, 100, 2000, 1e-4) == pytest.approx(1e-3)
    mid = 100 + (2000 - 100) // 2
    assert f(mid, 1e-3, 100, 2000, 1e-4) == pytest.approx(1e-4 + 0.5 * 9e-4)  # half way down
    assert f(2000, 1e-3, 100, 2000, 1e-4) == pytest.approx(1e-4)
    assert f(5000, 1e-3, 100, 2000, 1e-4) == 1e-4
    p = torch.ones(1, requires_grad=True)
    opt = optim.AdamW([p], lr=1e-3)
    sched = ours_sched.WarmupCosineLR(opt, warmup_iters=100, lr_decay_iters=2000, min_lr=1e-4)
    for it in range(1, 300):
        sched.step()
        assert opt.param_groups[0]["lr"] == f(it, 1e-3, 100, 2000, 1e-4)
