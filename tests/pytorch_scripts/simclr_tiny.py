"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(11)

# 5 prototype vectors; each sample is a noisy copy of one of them
n_classes, dim = 5, 24
prototypes = torch.randn(n_classes, dim)
labels = torch.randint(0, n_classes, (160,))
data = prototypes[labels] + 0.3 * torch.randn(160, dim)


def augment(x, noise=0.2, drop=0.2):
    x = x + noise * torch.randn_like(x)
    keep = torch.rand(x.shape) >= drop  # random feature masking
    return x * keep


class SimCLR(nn.Module):
    def __init__(self, dim, hidden=32, out=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.projector = nn.Sequential(nn.Linear(hidden, hidden, bias=False),
                                       nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                       nn.Linear(hidden, out))

    def forward(self, x):
        h = self.encoder(x)
        return h, self.projector(h)


def info_nce(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.arange(2 * n)
    targets = torch.cat([targets[n:], targets[:n]])  # the positive of i is its other view
    loss = F.cross_entropy(sim, targets)
    top1 = (sim.argmax(dim=1) == targets).float().mean()
    return loss, top1


model = SimCLR(dim)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
batch = 32
for step in range(30):
    perm = torch.randperm(data.size(0))[:batch]
    x = data[perm]
    _, z1 = model(augment(x))
    _, z2 = model(augment(x))
    loss, top1 = info_nce(z1, z2)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"{step} {loss.item():.6f} {top1.item():.4f}")

# linear-probe style check: nearest-prototype accuracy of the frozen features
model.eval()
with torch.no_grad():
    feats = F.normalize(model(data)[0], dim=1)
    centroids = torch.stack([feats[labels == c].mean(0) for c in range(n_classes)])
    pred = (feats @ F.normalize(centroids, dim=1).T).argmax(dim=1)
    print(f"{(pred == labels).float().mean().item():.6f}")
    bn = model.projector[1]
    print(" ".join(f"{v:.6f}" for v in bn.running_mean[:6].tolist()))
    print(" ".join(f"{v:.6f}" for v in bn.running_var[:6].tolist()), bn.num_batches_tracked.item())
    sims = feats[:4] @ feats[:4].T
    print(" ".join(f"{v:.6f}" for v in sims.flatten().tolist()))
    mask = ~torch.eye(4, dtype=torch.bool)
    print(f"{sims[mask].mean().item():.6f}", f"{sims.masked_fill(~mask, -1e9).max().item():.6f}")
