"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class VAE(nn.Module):  # the pytorch/examples VAE, made small
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc21 = nn.Linear(64, 8)
        self.fc22 = nn.Linear(64, 8)
        self.fc3 = nn.Linear(8, 64)
        self.fc4 = nn.Linear(64, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


images = torch.rand(48, 1, 28, 28)
labels = torch.randint(0, 10, (48,))
kwargs = {'num_workers': 1, 'pin_memory': True} if device.type == "cuda" else {}
train_loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True, **kwargs)
test_loader = DataLoader(TensorDataset(images[:20], labels[:20]), batch_size=8, shuffle=False,
                         **kwargs)

model = VAE().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
for _epoch in range(1, 4):
    model.train()
    train_loss = 0
    for _batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        print(f"{loss.item() / len(data):.5f}")
    print(f"{train_loss / len(train_loader.dataset):.5f}")


def test():
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(-1, 1, 28, 28)[:n]])
                print(f"{comparison.mean().item():.6f}")
    test_loss /= len(test_loader.dataset)
    print(f"{test_loss:.5f}")


test()
model.eval()
with torch.no_grad():
    sample = torch.randn(4, 8).to(device)
    sample = model.decode(sample).cpu()
    print(f"{sample.view(4, 1, 28, 28).sum().item():.4f}")
    recon, mu, logvar = model(images[:4])
    print(f"{mu.abs().mean().item():.6f}")
    print(f"{logvar.exp().mean().item():.6f}")
