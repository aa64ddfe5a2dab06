"""Tests of the chapter 07 exercise: `pytest docs/course/exercises -k ch07`."""

import numpy as np
from ch07_optim import TwoLayerMLP, adamw_step

import numpy2gpt as torch
import numpy2gpt.nn.functional as F
from numpy2gpt import optim


def test_mlp_parameters_and_count():
    model = TwoLayerMLP(3, 8, 2)
    names = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
    assert names == [("fc1.weight", (8, 3)), ("fc1.bias", (8,)),
                     ("fc2.weight", (2, 8)), ("fc2.bias", (2,))]
    assert sum(p.numel() for p in model.parameters()) == 3 * 8 + 8 + 8 * 2 + 2


def test_mlp_forward_and_backward():
    torch.manual_seed(0)
    model = TwoLayerMLP(3, 8, 2)
    x = torch.randn(5, 3)
    y = model(x)
    expected = F.linear(F.gelu(F.linear(x, model.fc1.weight, model.fc1.bias)),
                        model.fc2.weight, model.fc2.bias)
    assert y.shape == (5, 2)
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_adamw_step_matches_the_library_over_several_steps():
    rng = np.random.default_rng(0)
    start = rng.standard_normal(6)
    p = torch.nn.Parameter(torch.tensor(start))
    opt = optim.AdamW([p], lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)
    mine, m, v = start.copy(), np.zeros(6), np.zeros(6)
    for t in range(1, 6):
        g = rng.standard_normal(6)
        p.grad = torch.tensor(g)
        opt.step()
        mine, m, v = adamw_step(mine, g, m, v, t, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)
        np.testing.assert_allclose(mine, p.detach().numpy(), rtol=1e-12)


def test_adamw_decay_is_decoupled():
    # zero gradient: only the decay acts, a shrink by (1 - lr * weight_decay) per step
    p, m, v = np.ones(2), np.zeros(2), np.zeros(2)
    for t in range(1, 11):
        p, m, v = adamw_step(p, np.zeros(2), m, v, t, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(p, (1 - 0.05) ** 10, rtol=1e-12)
