"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

torch.manual_seed(7)

# a toy 4-class problem: class = quadrant of the first two of 8 features, plus noise
X = torch.randn(512, 8)
y = (X[:, 0] > 0).long() * 2 + (X[:, 1] > 0).long()
X_train, y_train, X_test, y_test = X[:384], y[:384], X[384:], y[384:]


def mlp(hidden, dropout):
    return nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 4))


def accuracy(model, x, y):
    model.eval()
    with torch.inference_mode():
        return (model(x).argmax(dim=1) == y).float().mean().item()


teacher = mlp(64, 0.1)
opt = torch.optim.Adam(teacher.parameters(), lr=3e-3)
for epoch in range(3):
    teacher.train()
    perm = torch.randperm(len(X_train))
    total = 0.0
    for i in range(0, len(X_train), 64):
        idx = perm[i:i + 64]
        loss = F.cross_entropy(teacher(X_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    print(f"{epoch} {total / len(X_train):.6f}")
print(f"{accuracy(teacher, X_test, y_test):.6f}")


def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.7):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1),
                    F.softmax(teacher_logits / T, dim=1), reduction="batchmean") * T * T
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard, soft, hard


student = mlp(16, 0.0)
opt = torch.optim.SGD(student.parameters(), lr=0.2, momentum=0.9, nesterov=True)
warmup = LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5)
cosine = CosineAnnealingLR(opt, T_max=20, eta_min=1e-3)
scheduler = SequentialLR(opt, schedulers=[warmup, cosine], milestones=[5])
teacher.eval()
for step in range(24):
    student.train()
    idx = torch.randint(0, len(X_train), (48,))
    xb, yb = X_train[idx], y_train[idx]
    with torch.no_grad():
        t_logits = teacher(xb)
    loss, soft, hard = distillation_loss(student(xb), t_logits, yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    scheduler.step()
    print(f"{step} {loss.item():.6f} {soft.item():.6f} {hard.item():.6f} "
          f"{scheduler.get_last_lr()[0]:.6f}")

print(f"{accuracy(student, X_test, y_test):.6f}")
student.eval()
with torch.inference_mode():
    s_probs = F.softmax(student(X_test), dim=-1)
    t_probs = F.softmax(teacher(X_test), dim=-1)
    agreement = (s_probs.argmax(-1) == t_probs.argmax(-1)).sum().item()
    kl = F.kl_div(s_probs.log(), t_probs, reduction="sum").item() / len(X_test)
    print(agreement, f"{kl:.6f}", int(s_probs.requires_grad))
    print(" ".join(f"{p:.6f}" for p in s_probs[0].tolist()))
