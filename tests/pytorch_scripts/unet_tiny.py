"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class DoubleConv(nn.Module):  # milesial/Pytorch-UNet's block: (conv => BN => ReLU) * 2
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels=1, n_classes=1):
        super().__init__()
        self.inc = DoubleConv(n_channels, 8)
        self.down1 = Down(8, 16)
        self.down2 = Down(16, 32)
        self.up1 = Up(32 + 16, 16, bilinear=True)
        self.up2 = Up(16, 8, bilinear=False)
        self.outc = nn.Conv2d(8, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


# clean images: a few bright rectangles; inputs: the same with noise
clean = torch.zeros(24, 1, 16, 16)
corners = torch.randint(0, 10, (24, 2, 2))
for i in range(24):
    for r, c in corners[i].tolist():
        clean[i, 0, r:r + 6, c:c + 5] = 1.0
noisy = (clean + 0.4 * torch.randn_like(clean)).clamp(-0.5, 1.5)

model = UNet().to(device)
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
for epoch in range(8):
    model.train()
    perm = torch.randperm(24)
    epoch_loss = 0.0
    for b in range(0, 24, 8):
        idx = perm[b:b + 8]
        pred = model(noisy[idx])
        loss = criterion(pred, clean[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
        print(f"{loss.item():.6f}")
    scheduler.step()
    print(f"{epoch} {epoch_loss / 3:.6f} {optimizer.param_groups[0]['lr']:.6f}")

model.eval()
with torch.no_grad():
    out = model(noisy[:6])
    mask = torch.sigmoid(out) > 0.5
    dice = 2 * (mask & (clean[:6] > 0.5)).sum() / (mask.sum() + (clean[:6] > 0.5).sum())
    print(f"{dice.item():.6f} {F.mse_loss(torch.sigmoid(out), clean[:6]).item():.6f}")

path = os.path.join(tempfile.mkdtemp(), "unet.pt")
torch.save(model.state_dict(), path)
reloaded = UNet().to(device)
reloaded.load_state_dict(torch.load(path, map_location=device, weights_only=True))
reloaded.eval()
os.remove(path)
with torch.no_grad():
    out2 = reloaded(noisy[:6])
print(f"{torch.equal(out, out2):d} {(out - out2).abs().max().item():.6f}")
print(f"{len(model.state_dict())} {model.inc.double_conv[1].num_batches_tracked.item()}")
print(f"{model.up2.up.weight.grad.norm().item():.6f}")
print(f"{reloaded.down2.maxpool_conv[1].double_conv[4].running_mean.sum().item():.6f}")
print(f"{out.sum().item():.5f}")
