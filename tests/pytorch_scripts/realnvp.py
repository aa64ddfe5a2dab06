"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import math

import torch
from torch import distributions, nn

torch.manual_seed(0)


def sample_data(n):  # a noisy ring with a bar through it
    theta = torch.rand(n) * 2 * math.pi
    ring = torch.stack((torch.cos(theta), torch.sin(theta)), 1) * 2
    bar = torch.stack((torch.rand(n) * 3 - 1.5, torch.zeros(n)), 1)
    on_ring = torch.rand(n, 1) < 0.7
    return torch.where(on_ring, ring, bar) + 0.1 * torch.randn(n, 2)


class RealNVP(nn.Module):  # after senya-ashukha/real-nvp-pytorch
    def __init__(self, nets, nett, mask, prior):
        super().__init__()
        self.prior = prior
        self.mask = nn.Parameter(mask, requires_grad=False)
        self.t = torch.nn.ModuleList([nett() for _ in range(len(mask))])
        self.s = torch.nn.ModuleList([nets() for _ in range(len(mask))])
        self.scale = nn.Parameter(torch.ones(len(mask), 1, 2))  # tanh-scaled log-scales

    def g(self, z):  # latent -> data
        x = z
        for i in range(len(self.t)):
            x_ = x * self.mask[i]
            s = self.scale[i] * self.s[i](x_) * (1 - self.mask[i])
            t = self.t[i](x_) * (1 - self.mask[i])
            x = x_ + (1 - self.mask[i]) * (x * torch.exp(s) + t)
        return x

    def f(self, x):  # data -> latent, with log|det J|
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in reversed(range(len(self.t))):
            z_ = self.mask[i] * z
            s = self.scale[i] * self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = (1 - self.mask[i]) * (z - t) * torch.exp(-s) + z_
            log_det_J -= s.sum(dim=1)
        return z, log_det_J

    def log_prob(self, x):
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, batch_size):
        z = self.prior.sample((batch_size, 1))
        x = self.g(z)
        return x


def nets():
    return nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(), nn.Linear(32, 32), nn.LeakyReLU(),
                         nn.Linear(32, 2), nn.Tanh())


def nett():
    return nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(), nn.Linear(32, 32), nn.LeakyReLU(),
                         nn.Linear(32, 2))


masks = torch.tensor([[0, 1], [1, 0]] * 3, dtype=torch.float32)
prior = distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
flow = RealNVP(nets, nett, masks, prior)
optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=3e-3)

data = sample_data(512)
for _step in range(40):
    noisy_moons = data[torch.randperm(512)[:128]]
    loss = -flow.log_prob(noisy_moons).mean()
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    print(f"{loss.item():.6f}")

flow.eval()
with torch.no_grad():
    z, log_det = flow.f(data[:256])
    print(f"{z.mean().item():.6f} {z.std().item():.6f} {log_det.mean().item():.6f}")
    x_back = flow.g(z)
    print(f"{(x_back - data[:256]).abs().max().item() < 1e-4:d}")
    std_normal = distributions.Normal(torch.zeros(2), torch.ones(2))
    lp = std_normal.log_prob(z).sum(-1) + log_det
    print(f"{lp.mean().item():.6f} {flow.log_prob(data[:256]).mean().item():.6f}")
    x = flow.sample(200)
    print(f"{x.shape[0]} {x.shape[1]} {x.shape[2]}")
    print(f"{x.mean().item():.5f} {x.norm(dim=-1).mean().item():.5f}")
    print(" ".join(f"{v:.5f}" for v in x[:3].flatten().tolist()))
    print(" ".join(f"{v:.6f}" for v in flow.scale.flatten().tolist()))
print(f"{sum(p.numel() for p in flow.parameters() if p.requires_grad)}")
