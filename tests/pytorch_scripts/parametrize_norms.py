"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

torch.manual_seed(5)


class Symmetric(nn.Module):  # as in the PyTorch parametrizations tutorial
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = weight_norm(nn.Linear(6, 16))
        self.mix = nn.Linear(16, 16)
        self.out = spectral_norm(nn.Linear(16, 3))
        parametrize.register_parametrization(self.mix, "weight", Symmetric())

    def forward(self, x):
        return self.out(torch.tanh(self.mix(torch.tanh(self.inp(x)))))


X = torch.randn(128, 6)
y = torch.stack([X[:, 0] * X[:, 1], X[:, 2].sin(), X[:, 3:].sum(1)], dim=1)
model = Net()
print(int(parametrize.is_parametrized(model.inp)),
      int(parametrize.is_parametrized(model.mix, "bias")),
      int(parametrize.is_parametrized(model.mix, "weight")))
names = [name for name, _ in model.named_parameters()]
print(len(names), sum(len(n) for n in names), sum(p.numel() for p in model.parameters()))
g0 = model.inp.parametrizations.weight.original0
print(" ".join(f"{v:.6f}" for v in g0.flatten()[:6].tolist()))
print(f"{torch.dist(model.inp.weight.norm(dim=1, keepdim=True), g0).item():.6f}")

opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(30):
    pred = model(X)
    loss = F.mse_loss(pred, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sigma = torch.linalg.matrix_norm(model.out.weight.detach(), ord=2)
    print(f"{step} {loss.item():.6f} {sigma.item():.6f}")

W = model.mix.weight
print(f"{(W - W.T).abs().max().item():.6f}")
print(" ".join(f"{v:.6f}" for v in torch.linalg.svdvals(W.detach())[:5].tolist()))
print(" ".join(f"{v:.6f}" for v in model.inp.parametrizations.weight.original0[:4, 0].tolist()))
print(" ".join(f"{v:.6f}" for v in model.inp.weight[0, :4].tolist()))
print(" ".join(f"{v:.6f}" for v in model.out.parametrizations.weight.original[0, :4].tolist()))
with parametrize.cached():
    a = model.mix.weight
    b = model.mix.weight
    print(int(a is b), f"{a.sum().item():.6f}")

model.eval()
with torch.no_grad():
    before = model(X[:5])
    print(" ".join(f"{v:.6f}" for v in before.flatten().tolist()))

# bake the parametrizations into ordinary weights and save / load the plain model
for module in (model.inp, model.mix, model.out):
    parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
print(int(parametrize.is_parametrized(model.inp)), int(parametrize.is_parametrized(model.out)))
print(len(model.state_dict()), sum(len(k) for k in model.state_dict()),
      int(isinstance(model.out.weight, nn.Parameter)))
path = os.path.join(tempfile.mkdtemp(), "plain.pt")
torch.save(model.state_dict(), path)
plain = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))
state = torch.load(path)
plain.load_state_dict({f"{i}.{k.split('.')[1]}": v for (k, v), i in
                       zip(state.items(), [0, 0, 2, 2, 4, 4])})
with torch.no_grad():
    after = plain(X[:5])
    print(f"{(after - before).abs().max().item():.6f}")
    print(" ".join(f"{v:.6f}" for v in torch.linalg.svdvals(plain[4].weight).tolist()))
