"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import MultivariateNormal

torch.manual_seed(2024)

# three 2-D Gaussian blobs
K, n_per = 3, 40
centers = torch.tensor([[0.0, 0.0], [4.0, 1.0], [1.0, 4.5]])
scales = torch.tensor([0.6, 0.9, 0.5])
X = torch.cat([c + s * torch.randn(n_per, 2) for c, s in zip(centers, scales)])
true_labels = torch.arange(K).repeat_interleave(n_per)
X = X[torch.randperm(X.size(0))]
N = X.size(0)
print(f"{X.mean().item():.6f} {X.std().item():.6f}")


# 1. k-means (Lloyd's algorithm)
def kmeans(X, k, iters=10):
    centroids = X[torch.randperm(X.size(0))[:k]].clone()
    for _ in range(iters):
        dists = torch.cdist(X, centroids)                  # [N, k]
        assign = dists.argmin(dim=1)
        one_hot = F.one_hot(assign, num_classes=k).float()  # [N, k]
        counts = one_hot.sum(0)
        sums = torch.zeros(k, X.size(1)).index_add_(0, assign, X)
        new_centroids = sums / counts.clamp(min=1).unsqueeze(1)
        inertia = (dists.gather(1, assign.unsqueeze(1)) ** 2).sum()
        print(f"{inertia.item():.5f}")
        if torch.allclose(new_centroids, centroids):
            break
        centroids = new_centroids
    return centroids, assign


centroids, assign = kmeans(X, K)
order = centroids[:, 0].argsort()
for c in centroids[order].tolist():
    print(f"{c[0]:.5f} {c[1]:.5f}")
values, counts = torch.unique(assign, return_counts=True)
print(" ".join(str(v) for v in values.tolist()), " ".join(str(v) for v in sorted(counts.tolist())))
# the same means with scatter_add_
scatter_sums = torch.zeros(K, 2).scatter_add_(0, assign.unsqueeze(1).expand(-1, 2), X)
print(f"{(scatter_sums / counts.unsqueeze(1)).sum().item():.5f}")

# 2. a Gaussian mixture fitted by EM, started from the k-means solution
means = centroids.clone()
covs = torch.eye(2).repeat(K, 1, 1)
weights = torch.full((K,), 1.0 / K)
prev_ll = -math.inf
for it in range(15):
    # E step: responsibilities r[n, k] = p(k | x_n)
    log_probs = torch.stack([MultivariateNormal(means[k], covariance_matrix=covs[k]).log_prob(X)
                             for k in range(K)], dim=1) + weights.log()
    log_likelihood = torch.logsumexp(log_probs, dim=1)
    resp = torch.exp(log_probs - log_likelihood.unsqueeze(1))
    ll = log_likelihood.mean().item()
    if it % 3 == 0:
        print(f"{ll:.6f}")
    # M step
    Nk = resp.sum(0)
    weights = Nk / N
    means = (resp.t() @ X) / Nk.unsqueeze(1)
    diff = X.unsqueeze(0) - means.unsqueeze(1)               # [K, N, 2]
    covs = torch.einsum("kn,kni,knj->kij", resp.t(), diff, diff) / Nk.view(K, 1, 1)
    covs = covs + 1e-4 * torch.eye(2)
    if abs(ll - prev_ll) < 1e-7:
        break
    prev_ll = ll
order = means[:, 0].argsort()
print(" ".join(f"{w:.5f}" for w in weights[order].tolist()))
print(" ".join(f"{v:.5f}" for v in means[order].flatten().tolist()))
print(" ".join(f"{v:.5f}" for v in covs[order].diagonal(dim1=1, dim2=2).flatten().tolist()))
gmm = MultivariateNormal(means, covariance_matrix=covs)  # a batch of K Gaussians
print(f"{gmm.entropy().sum().item():.6f} {gmm.log_prob(X.unsqueeze(1)).shape[1]}")
samples = gmm.sample((5,))
print(*samples.shape, f"{samples.sum().item():.5f}")
agree = (resp.argmax(1).unsqueeze(1) == assign.unsqueeze(1)).float().mean()
print(f"{agree.item():.6f}")


# 3. a small autoencoder, checkpointed and resumed
class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(2, 16, bias=False),  # BatchNorm has the bias
                                     nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1),
                                     nn.Linear(16, 1))
        self.decoder = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def train(model, optimizer, scheduler, epochs, gen_seed):
    g = torch.Generator().manual_seed(gen_seed)
    losses = []
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(N, generator=g)
        for i in range(0, N, 30):
            batch = X[perm[i:i + 30]]
            optimizer.zero_grad()
            loss = F.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses


torch.manual_seed(1)
model = AutoEncoder()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
for loss in train(model, optimizer, scheduler, 3, gen_seed=10):
    print(f"{loss:.6f}")

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "checkpoint.pt")
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(),
                "rng_state": torch.get_rng_state()}, path)
    rng_at_save = torch.get_rng_state()
    continued = train(model, optimizer, scheduler, 2, gen_seed=20)   # keep going in memory
    next_draw = torch.rand(3)

    torch.set_rng_state(rng_at_save)
    checkpoint = torch.load(path)
    resumed_model = AutoEncoder()
    resumed_model.load_state_dict(checkpoint["model_state_dict"])
    resumed_opt = torch.optim.AdamW(resumed_model.parameters(), lr=1e-2, weight_decay=1e-2)
    resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    resumed_sched = torch.optim.lr_scheduler.StepLR(resumed_opt, step_size=2, gamma=0.5)
    resumed_sched.load_state_dict(checkpoint["scheduler_state_dict"])
    torch.set_rng_state(checkpoint["rng_state"])
    resumed = train(resumed_model, resumed_opt, resumed_sched, 2, gen_seed=20)
    print(checkpoint["epoch"], len(checkpoint["optimizer_state_dict"]["state"]),
          int(torch.equal(torch.rand(3), next_draw)))

for a, b in zip(continued, resumed):
    print(f"{a:.6f} {b:.6f}")
print(int(continued == resumed), f"{resumed_opt.param_groups[0]['lr']:.6f}")
resumed_model.eval()
with torch.no_grad():
    codes = resumed_model.encoder(X)
    recon = resumed_model(X)
print(f"{F.mse_loss(recon, X).item():.6f} {codes.std().item():.6f}")
print(f"{resumed_model.encoder[1].running_var.mean().item():.6f}")
print(resumed_model.encoder[1].num_batches_tracked.item())
