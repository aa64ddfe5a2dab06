"""An optimizer's per-parameter state has PyTorch's keys in PyTorch's order (code that prints or
iterates `optimizer.state[p]` sees the same thing)."""

import pytest
import torch

import numpy2gpt as ng

CASES = {"SGD": dict(momentum=0.9), "Adam": {}, "AdamW": {}, "Adam_amsgrad": dict(amsgrad=True),
         "RMSprop": dict(momentum=0.5, centered=True), "Adagrad": {}, "Adamax": {}, "NAdam": {},
         "RAdam": {}, "Adadelta": {}, "ASGD": {}, "Rprop": {}}


def _state_keys(lib, name, kwargs):
    lib.manual_seed(0)
    p = lib.nn.Parameter(lib.randn(3))
    opt = getattr(lib.optim, name.split("_")[0])([p], lr=0.1, **kwargs)
    (p * p).sum().backward()
    opt.step()
    return list(opt.state[p].keys())


@pytest.mark.parametrize("name", CASES)
def test_state_keys_in_pytorchs_order(name):
    assert _state_keys(ng, name, CASES[name]) == _state_keys(torch, name, CASES[name])
