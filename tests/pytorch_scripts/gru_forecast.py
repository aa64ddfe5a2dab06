"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(21)

# a noisy sum of sines, normalised with its own mean and std
t = torch.arange(0, 400, dtype=torch.float32)
series = (torch.sin(2 * math.pi * t / 50) + 0.5 * torch.sin(2 * math.pi * t / 17 + 1.0)
          + 0.1 * torch.randn(t.shape))
mean, std = series.mean(), series.std()
series = (series - mean) / std

window, horizon = 32, 8
windows = series.unfold(0, window + horizon, 5)  # (n_windows, window + horizon)
inputs, targets = windows[:, :window], windows[:, window:]
n_train = int(0.8 * len(windows))
print(windows.shape[0], windows.shape[1], f"{mean.item():.6f}", f"{std.item():.6f}")


class Forecaster(nn.Module):
    def __init__(self, channels=8, hidden=24):
        super().__init__()
        self.conv = nn.Conv1d(1, channels, kernel_size=3, padding="same", dilation=2)
        self.gru = nn.GRU(channels, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, 1)
        self.embed = nn.Linear(1, channels)  # for decoding one value at a time

    def encode(self, x):  # x: (batch, time)
        feats = F.gelu(self.conv(x.unsqueeze(1))).transpose(1, 2)  # (batch, time, channels)
        out, h = self.gru(feats)
        return self.head(out[:, -1]), h

    def decode_step(self, value, h):  # value: (batch, 1)
        out, h = self.gru(torch.tanh(self.embed(value)).unsqueeze(1), h)
        return self.head(out.squeeze(1)), h

    def forward(self, x, future=None):
        """Predict `horizon` values; with `future`, feed the true values (teacher forcing)."""
        pred, h = self.encode(x)
        preds = [pred]
        for k in range(horizon - 1):
            prev = future[:, k:k + 1] if future is not None else pred
            pred, h = self.decode_step(prev, h)
            preds.append(pred)
        return torch.cat(preds, dim=1)


model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                                       patience=0, threshold=1e-3)
for epoch in range(6):
    model.train()
    perm = torch.randperm(n_train)
    total = 0.0
    for i in range(0, n_train, 16):
        idx = perm[i:i + 16]
        x, y = inputs[idx], targets[idx]
        teacher_forcing = epoch < 3
        pred = model(x, future=y if teacher_forcing else None)
        loss = F.smooth_l1_loss(pred, y, beta=0.5)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
        optimizer.step()
        total += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        val = F.huber_loss(model(inputs[n_train:]), targets[n_train:], delta=1.0)
    scheduler.step(val)
    print(f"{epoch} {total / n_train:.6f} {val.item():.6f} {optimizer.param_groups[0]['lr']:.6f}")

# autoregressive rollout from the last window, back in the original units
model.eval()
with torch.no_grad():
    history = series[-window:].unsqueeze(0)
    rollout = []
    for _ in range(3):
        step = model(history)
        rollout.append(step)
        history = torch.cat([history, step], dim=1)[:, -window:]
    rollout = torch.cat(rollout, dim=1).squeeze(0) * std + mean
    print(" ".join(f"{v:.6f}" for v in rollout.tolist()))
    test_pred = model(inputs[n_train:])
    mae = (test_pred - targets[n_train:]).abs().mean(dim=0)
    print(" ".join(f"{v:.6f}" for v in mae.tolist()))
    print(f"{F.mse_loss(test_pred, targets[n_train:]).item():.6f}",
          f"{F.l1_loss(test_pred, targets[n_train:], reduction='sum').item():.6f}")
print(int(model.conv.weight.grad.abs().max().item() <= 0.5), model.conv.dilation[0])
