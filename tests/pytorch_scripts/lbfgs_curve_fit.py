"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import math

import torch
import torch.nn as nn

torch.manual_seed(5)

# noisy samples of  y = 1.5 sin(2.2 x + 0.4), made in float64; float32 copies for the MLP
x64 = torch.linspace(-3, 3, 64, dtype=torch.float64).unsqueeze(1)
y64 = 1.5 * torch.sin(2.2 * x64 + 0.4) + 0.1 * torch.randn(64, 1, dtype=torch.float64)
x, y = x64.float(), y64.float()
print(f"{y64.sum().item():.10f} {int(x.dtype == torch.float32)}")


class SineModel(nn.Module):  # a parametric model  a sin(b x + c)  in float64
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(2.0, dtype=torch.float64))
        self.c = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))

    def forward(self, x):
        return self.a * torch.sin(self.b * x + self.c)


def mlp():
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 1))


def fit_lbfgs(model, x, y, steps, **kwargs):
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10,
                                  **kwargs)
    criterion = nn.MSELoss()
    calls = [0]

    def closure():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        calls[0] += 1
        return loss

    for _ in range(steps):
        loss = optimizer.step(closure)
        print(f"{loss.item():.8f}")
    state = optimizer.state[optimizer.param_groups[0]["params"][0]]
    print(calls[0], state["n_iter"], state["func_evals"])
    return criterion(model(x), y).item()


# 1. the parametric model with L-BFGS, with and without the strong-Wolfe line search
for line_search in (None, "strong_wolfe"):
    sine = SineModel()
    final = fit_lbfgs(sine, x64, y64, 4, line_search_fn=line_search)
    print(f"{final:.10f} {sine.a.item():.8f} {sine.b.item():.8f} {sine.c.item():.8f}")

# 2. an MLP in float64 (set_default_dtype) with L-BFGS + strong Wolfe
torch.set_default_dtype(torch.float64)
net = mlp()
print(int(net[0].weight.dtype == torch.float64))
final = fit_lbfgs(net, x64, y64, 3, line_search_fn="strong_wolfe", tolerance_change=1e-12)
print(f"{final:.10f}")
torch.set_default_dtype(torch.float32)

# 3. the same MLP in float32 with SGD + Nesterov momentum + OneCycleLR
net = mlp()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
steps = 40
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16,
                                     shuffle=True)
step = 0
while step < steps:
    for xb, yb in loader:
        if step == steps:
            break
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(net(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 5 == 0:
            print(f"{loss.item():.6f} {scheduler.get_last_lr()[0]:.8f} "
                  f"{optimizer.param_groups[0]['momentum']:.6f}")
        step += 1
with torch.no_grad():
    print(f"{nn.functional.mse_loss(net(x), y).item():.6f}")

# 4. the sine model again, SGD + Nesterov + CosineAnnealingWarmRestarts (stepped per batch)
sine = SineModel()
optimizer = torch.optim.SGD(sine.parameters(), lr=0.02, momentum=0.8, nesterov=True,
                            weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=5, T_mult=2,
                                                                 eta_min=1e-4)
iters = len(loader)
for epoch in range(6):
    for i, (xb, yb) in enumerate(loader):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(sine(xb.double()), yb.double())
        loss.backward()
        optimizer.step()
        scheduler.step(epoch + i / iters)
    print(f"{loss.item():.8f} {scheduler.get_last_lr()[0]:.8f} {scheduler.T_cur:.4f}")
print(f"{sine.a.item():.6f} {sine.b.item():.6f} {sine.c.item() % (2 * math.pi):.6f}")
