"""A small PyTorch program as a learner writes it (run unchanged by tests/test_pytorch_scripts.py
on PyTorch and on numpy2gpt; both must print the same numbers)."""

import math

import torch
import torch.nn as nn
from torch.autograd import Function
from torch.autograd.function import once_differentiable

torch.manual_seed(11)


class LegendrePolynomial3(Function):  # "Learning PyTorch with examples": P3(x) = (5x^3 - 3x) / 2
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class StraightThroughSign(Function):
    """sign() forward, identity (clipped to |x| <= 1) backward: the binary-net estimator."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return torch.sign(input)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input.abs() > 1] = 0
        return grad_input


class MyLinear(Function):  # the "extending torch.autograd" docs example
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class SortWithIndices(Function):  # an integer output that autograd must not differentiate
    @staticmethod
    def forward(ctx, input):
        values, indices = torch.sort(input, dim=-1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        indices, = ctx.saved_tensors
        return torch.zeros_like(grad_values).scatter(-1, indices, grad_values)


class MulConstant(Function):  # a non-tensor argument gets a None gradient
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


# 1. gradcheck every custom Function in float64
x64 = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
w64 = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
b64 = torch.randn(2, dtype=torch.double, requires_grad=True)
print(int(torch.autograd.gradcheck(LegendrePolynomial3.apply, (x64,), eps=1e-6, atol=1e-4)))
print(int(torch.autograd.gradcheck(MyLinear.apply, (x64, w64, b64), eps=1e-6, atol=1e-4)))
print(int(torch.autograd.gradcheck(lambda t: SortWithIndices.apply(t)[0], (x64,))))
print(int(torch.autograd.gradcheck(lambda t: MulConstant.apply(t, 2.5), (x64,))))
print(int(torch.autograd.gradgradcheck(LegendrePolynomial3.apply, (x64,))))

# 2. needs_input_grad and mark_non_differentiable, seen from outside
torch.manual_seed(12)
x = torch.randn(5, 3, requires_grad=True)
w = torch.randn(2, 3)
out = MyLinear.apply(x, w)
out.sum().backward()
print(f"{x.grad.sum().item():.6f} {int(w.grad is None)}")
values, indices = SortWithIndices.apply(x)
print(int(values.requires_grad), int(indices.requires_grad), int(indices.dtype == torch.long))
(values[:, -1] * torch.arange(5.0)).sum().backward()
print(" ".join(f"{v:.6f}" for v in x.grad.sum(0).tolist()))

# 3. the tutorial: fit y = a + b * P3(c + d x) to sin(x) with SGD
dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 200, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(300):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 30 == 29:
        print(f"{loss.item():.5f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
print(f"{a.item():.6f} {b.item():.6f} {c.item():.6f} {d.item():.6f}")


# 4. a tiny binarised network trained through the straight-through estimator, with hooks
class BinaryLinear(nn.Linear):
    def forward(self, input):
        return MulConstant.apply(
            MyLinear.apply(input, StraightThroughSign.apply(self.weight), self.bias), 0.5)


model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), BinaryLinear(8, 3))
activation_norms = []


def print_norm(module, inputs, output):
    activation_norms.append(output.norm().item())


handle = model[1].register_forward_hook(print_norm)
grad_norms = []
model[0].weight.register_hook(lambda grad: grad_norms.append(grad.norm().item()))
inputs = torch.randn(32, 4)
targets = (inputs[:, 0] > 0).long() + (inputs[:, 1] > 0).long()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(20):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
    if step % 4 == 0:
        print(f"{loss.item():.6f} {activation_norms[-1]:.6f} {grad_norms[-1]:.6f}")
handle.remove()
model(inputs)
print(len(activation_norms), len(grad_norms))
print(f"{model[2].weight.grad.abs().sum().item():.6f}")


# 5. a gradient penalty (WGAN-GP) with torch.autograd.grad(create_graph=True)
critic = nn.Sequential(nn.Linear(2, 16), nn.Softplus(), nn.Linear(16, 1))
opt = torch.optim.Adam(critic.parameters(), lr=1e-2)
real = torch.randn(16, 2) + 2
fake = torch.randn(16, 2)
for step in range(15):
    alpha = torch.rand(16, 1)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(interpolates)
    grads, = torch.autograd.grad(outputs=scores, inputs=interpolates,
                                 grad_outputs=torch.ones_like(scores),
                                 create_graph=True, retain_graph=True)
    penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 3 == 0:
        print(f"{loss.item():.6f} {penalty.item():.6f}")

# second derivative of the custom Legendre function via create_graph
z = torch.tensor([0.3, -0.7], requires_grad=True)
dz, = torch.autograd.grad(LegendrePolynomial3.apply(z).sum(), z, create_graph=True)
d2z, = torch.autograd.grad(dz.sum(), z)
print(" ".join(f"{v:.6f}" for v in dz.tolist() + d2z.tolist()))
