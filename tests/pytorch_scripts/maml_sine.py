"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

torch.manual_seed(3)


def sample_task():
    amplitude = torch.rand(1).item() * 4.9 + 0.1
    phase = torch.rand(1).item() * math.pi
    return amplitude, phase


def sample_points(task, k):
    amplitude, phase = task
    x = torch.rand(k, 1) * 10 - 5
    return x, amplitude * torch.sin(x + phase)


model = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))
meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
inner_lr, inner_steps, k_shot, tasks_per_batch = 0.01, 1, 10, 4


def adapt(params, x, y, steps, create_graph):
    for _ in range(steps):
        loss = F.mse_loss(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, params.values(), create_graph=create_graph)
        params = {name: p - inner_lr * g for (name, p), g in zip(params.items(), grads)}
    return params


for it in range(25):
    meta_opt.zero_grad()
    meta_loss = 0.0
    for _ in range(tasks_per_batch):
        task = sample_task()
        x_s, y_s = sample_points(task, k_shot)
        x_q, y_q = sample_points(task, k_shot)
        fast = adapt(dict(model.named_parameters()), x_s, y_s, inner_steps, create_graph=True)
        query_loss = F.mse_loss(functional_call(model, fast, (x_q,)), y_q)
        meta_loss = meta_loss + query_loss / tasks_per_batch
    meta_loss.backward()  # second-order: back through the inner gradient step
    grad_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    meta_opt.step()
    print(f"{it} {meta_loss.item():.6f} {grad_norm.item():.6f}")


# a manual functional forward with a dict of params, as in the original MAML code
def forward(params, x):
    x = F.relu(F.linear(x, params["0.weight"], params["0.bias"]))
    x = F.relu(F.linear(x, params["2.weight"], params["2.bias"]))
    return F.linear(x, params["4.weight"], params["4.bias"])


# meta-test: adapt to a new task, compare with the functional_call path
task = sample_task()
x_s, y_s = sample_points(task, k_shot)
x_t = torch.linspace(-5, 5, 50).unsqueeze(1)
y_t = task[0] * torch.sin(x_t + task[1])
params = {n: p.detach().clone().requires_grad_() for n, p in model.named_parameters()}
losses = []
for _step in range(5):
    with torch.no_grad():
        losses.append(F.mse_loss(forward(params, x_t), y_t).item())
    loss = F.mse_loss(forward(params, x_s), y_s)
    grads = torch.autograd.grad(loss, list(params.values()))
    params = {n: (p - inner_lr * g).detach().requires_grad_() for (n, p), g in
              zip(params.items(), grads)}
print(" ".join(f"{v:.6f}" for v in losses))
with torch.no_grad():
    same = adapt({n: p.detach() for n, p in model.named_parameters()}, x_s, y_s, 0, False)
    print(f"{(functional_call(model, same, x_t) - forward(same, x_t)).abs().max().item():.6f}")
    print(" ".join(f"{v:.6f}" for v in forward(params, x_t[::10]).squeeze(1).tolist()))

# the second derivative MAML relies on: d/dw of (dL/dw)^2 through create_graph
w = torch.tensor([0.5, -1.5], requires_grad=True)
inner = ((w ** 3).sum() - 1) ** 2
(g,) = torch.autograd.grad(inner, w, create_graph=True)
(gg,) = torch.autograd.grad(g.pow(2).sum(), w)
print(" ".join(f"{v:.6f}" for v in torch.cat([g.detach(), gg]).tolist()))
