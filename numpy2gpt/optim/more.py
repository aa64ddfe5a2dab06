"""More of PyTorch's optimizers: RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD
and LBFGS.

Each follows torch.optim's single-tensor (for-loop) implementation operation by operation, in
the parameter's dtype, so that a run lands where PyTorch's lands, and keeps PyTorch's state
(same keys; "step" and the other counters as 0-d tensors), so that state dicts look alike.
An update is written in plain NumPy on the parameter's array `x`, in place. A hyper-parameter
is a Python float, which NumPy rounds to the array's dtype, as PyTorch does (a float32 parameter
stays float32). PyTorch's `addcmul_(a, b, value=v)` is written `v * a * b` and
`addcdiv_(a, b, value=v)` `v * a / b`: its order of operations.
"""

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..dtypes import get_default_dtype
from ..sparse import SparseTensor
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_eps,
    _check_implementation,
    _check_lr,
    _check_weight_decay,
    scalar,
)

__all__ = ["RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"]


# ----- shared helpers --------------------------------------------------------------------------
def _gradient(grad, x, maximize, weight_decay=0):
    """The gradient the update descends: negated to maximize, plus weight_decay * x (the
    gradient of an L2 penalty weight_decay / 2 * |x|^2). A new array: p.grad stays as it is."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * x
    return g


def _decayed_gradient(grad, x, group, lr):
    """NAdam's and RAdam's gradient with weight decay: decoupled (AdamW's, x shrinks by
    lr * weight_decay first) or, by default, the L2 penalty's (added to the gradient)."""
    wd = group["weight_decay"]
    if not group["decoupled_weight_decay"]:
        return _gradient(grad, x, group["maximize"], wd)
    if wd != 0:
        x *= 1 - lr * wd
    return _gradient(grad, x, group["maximize"])


def _lerp_(a, b, weight):
    """a <- a + weight (b - a) in place (a running mean), with PyTorch's formula: from the far
    end, b - (b - a) (1 - weight), when weight >= 0.5 (more accurate there)."""
    w = a.dtype.type(weight)
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)


class _PerParameter(Optimizer):
    """An optimizer that updates each parameter on its own, from a per-parameter state created
    at the parameter's first step as PyTorch's `_init_group` creates it: "step" (a 0-d tensor),
    then the buffers named in `_buffer_names(group)`, zeros shaped like the parameter.

    A subclass writes `_step(p, g, group, state, step)`: update the parameter's array x = p._data
    in place from its gradient g, at step number `step` (a float, counting this step)."""

    def _buffer_names(self, group):
        return ()

    def _init_state(self, p, group, state):
        state["step"] = scalar(0.0)
        for key in self._buffer_names(group):
            self._state_array(state, key, p, create=True)

    def _state_keys(self, group):
        """The keys of the state a step reads: the buffers, then "step"."""
        return (*self._buffer_names(group), "step")

    def _update(self, p, grad, group, state):
        if not state:
            self._init_state(p, group, state)
        missing = [key for key in self._state_keys(group) if key not in state]
        if missing:  # a state loaded from another optimizer: PyTorch's KeyError, read first
            raise KeyError(missing[0])
        step = float(self._step_count(state))
        self._step(p, grad, group, state, step)
        p._version += 1

    def _buffers(self, state, p, *keys):
        """The arrays of p's buffers `keys`, to update in place (PyTorch's KeyError for one the
        state lacks: a state loaded from another optimizer)."""
        return [self._state_array(state, key, p) for key in keys]

    def _step(self, p, g, group, state, step):
        raise NotImplementedError


# ----- RMSprop ---------------------------------------------------------------------------------
class RMSprop(_PerParameter):
    """RMSprop (Hinton): divide the gradient by a running root mean square of recent gradients.

        v = alpha v + (1 - alpha) g^2                           (square_avg)
        x -= lr g / (sqrt(v) + eps)
    centered: divide by an estimate of the gradient's standard deviation instead, subtracting the
    square of the running mean of g (grad_avg) from v; momentum: accumulate g / (sqrt(v) + eps)
    in momentum_buffer and step along that."""

    _load_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False,
                          differentiable=False, capturable=False)
    _required_state = ("step",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_eps(eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _buffer_names(self, group):
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return names

    def _step(self, p, g, group, state, step):
        x = p._data
        lr, alpha, momentum = float(group["lr"]), group["alpha"], group["momentum"]
        g = _gradient(g, x, group["maximize"], group["weight_decay"])
        (v,) = self._buffers(state, p, "square_avg")  # running mean of g^2
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:  # variance = E[g^2] - E[g]^2, with E[g] the running mean grad_avg
            (mean,) = self._buffers(state, p, "grad_avg")
            _lerp_(mean, g, 1 - alpha)
            avg = np.sqrt(v + -1 * mean * mean)
        else:
            avg = np.sqrt(v)
        avg += group["eps"]
        if momentum > 0:  # buf = momentum buf + g / avg;  x -= lr buf
            (buf,) = self._buffers(state, p, "momentum_buffer")
            buf *= momentum
            buf += g / avg
            x += -lr * buf
        else:
            x += -lr * g / avg


# ----- Adagrad ---------------------------------------------------------------------------------
class Adagrad(_PerParameter):
    """Adagrad (Duchi et al.): each coordinate's step shrinks with the sum of its squared
    gradients so far, so rarely-updated coordinates keep larger steps.

        sum += g^2
        x -= lr / (1 + (step - 1) lr_decay) * g / (sqrt(sum) + eps)
    The constructor creates every parameter's state (sum starting at initial_accumulator_value),
    as PyTorch's does. A sparse gradient (nn.Embedding(sparse=True)'s) updates only its rows:
    the same formulas on those rows of sum and x, the others keep their values (see
    `_sparse_step`)."""

    _load_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)
    _required_state = ("step",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        _check_eps(eps)
        if fused and differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        _check_implementation(type(self).__name__, foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, self.state[p])

    def _state_keys(self, group):
        return ("sum", "step")

    def _init_state(self, p, group, state):
        super()._init_state(p, group, state)
        # (from the constructor's value, even for a group that sets its own, as in PyTorch)
        state["sum"] = Tensor._make(np.full(p.shape, self.defaults["initial_accumulator_value"],
                                            dtype=p.dtype))

    def _check_sparse_grads(self, group):
        """Adagrad takes sparse gradients (the base class refuses them)."""

    @staticmethod
    def _grad_array(p, group):
        """A dense gradient's array; a sparse gradient as it is, for `_sparse_step`."""
        return p.grad if p.grad.is_sparse else p.grad._data

    def _step(self, p, g, group, state, step):
        if isinstance(g, SparseTensor):
            return self._sparse_step(p, g, group, state, step)
        x = p._data
        g = _gradient(g, x, group["maximize"], group["weight_decay"])
        clr = float(group["lr"]) / (1 + (step - 1) * group["lr_decay"])  # the decayed lr
        (total,) = self._buffers(state, p, "sum")  # the sum of g^2 over all steps
        total += 1 * g * g
        std = np.sqrt(total)
        std += group["eps"]
        x += -clr * g / std

    def _sparse_step(self, p, grad, group, state, step):
        """PyTorch's sparse branch: the gradient coalesced (the update is not linear in it, so a
        row's entries are summed first), then for its rows r only
            sum[r] += g^2,   x[r] += -clr * (g / (sqrt(sum[r]) + eps))
        (the division before the scaling: PyTorch adds a sparse tensor of g / std, times -clr)."""
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:  # (after the step was counted, as in PyTorch)
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        clr = float(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        grad = grad.coalesce()
        rows, g = tuple(grad._idx), grad._vals  # unique rows, so `+=` adds once to each
        (total,) = self._buffers(state, p, "sum")
        total[rows] += g * g
        std = np.sqrt(total[rows])
        std += group["eps"]
        p._data[rows] += -clr * (g / std)


# ----- Adadelta --------------------------------------------------------------------------------
class Adadelta(_PerParameter):
    """Adadelta (Zeiler): the step is g scaled by RMS(past steps) / RMS(past gradients), so it
    has the parameter's units and needs no learning rate (lr only scales it; default 1).

        v = rho v + (1 - rho) g^2                               (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho u + (1 - rho) delta^2                           (acc_delta)
        x -= lr delta"""

    _load_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _required_state = ("step",)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_eps(eps)
        _check_weight_decay(weight_decay)
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _buffer_names(self, group):
        return ("square_avg", "acc_delta")

    def _step(self, p, g, group, state, step):
        x = p._data
        rho, eps = group["rho"], group["eps"]
        g = _gradient(g, x, group["maximize"], group["weight_decay"])
        # running means of g^2 and of delta^2
        v, u = self._buffers(state, p, "square_avg", "acc_delta")
        v *= rho
        v += (1 - rho) * g * g
        std = np.sqrt(v + eps)
        delta = np.sqrt(u + eps) / std * g
        u *= rho
        u += (1 - rho) * delta * delta
        x += -float(group["lr"]) * delta


# ----- Adamax ----------------------------------------------------------------------------------
class Adamax(_PerParameter):
    """Adamax (Kingma & Ba): Adam with the infinity norm, a decaying maximum of |g|, in place of
    the root mean square.

        m = beta1 m + (1 - beta1) g                             (exp_avg)
        u = max(beta2 u, |g| + eps)                             (exp_inf)
        x -= lr / (1 - beta1^step) * m / u"""

    _load_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _required_state = ("step",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _buffer_names(self, group):
        return ("exp_avg", "exp_inf")

    def _step(self, p, g, group, state, step):
        x = p._data
        beta1, beta2 = group["betas"]
        g = _gradient(g, x, group["maximize"], group["weight_decay"])
        m, u = self._buffers(state, p, "exp_avg", "exp_inf")
        _lerp_(m, g, 1 - beta1)
        u *= beta2
        np.maximum(u, np.abs(g) + group["eps"], out=u)
        clr = float(group["lr"]) / (1 - beta1 ** step)  # lr with m's bias correction
        x += -clr * m / u


# ----- NAdam -----------------------------------------------------------------------------------
class NAdam(_PerParameter):
    """NAdam (Dozat): Adam with Nesterov momentum, with the momentum coefficient
    mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2) warming up over the steps.

        m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2     (exp_avg, exp_avg_sq)
        denom = sqrt(v / (1 - beta2^t)) + eps
        x -= lr (1 - mu_t) / (1 - prod(mu_1..mu_t)) * g / denom
        x -= lr mu_{t+1} / (1 - prod(mu_1..mu_{t+1})) * m / denom
    The product of the mu's so far is the state's "mu_product". decoupled_weight_decay: shrink x
    by (1 - lr weight_decay) (as AdamW) instead of adding weight_decay x to g."""

    _load_defaults = dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                          decoupled_weight_decay=False)
    _required_state = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _state_keys(self, group):
        return ("exp_avg", "exp_avg_sq", "mu_product", "step")

    def _init_state(self, p, group, state):
        state["step"] = scalar(0.0)
        state["mu_product"] = scalar(1.0)
        for key in ("exp_avg", "exp_avg_sq"):
            self._state_array(state, key, p, create=True)

    def _step(self, p, g, group, state, step):
        x = p._data
        lr, (beta1, beta2) = float(group["lr"]), group["betas"]
        g = _decayed_gradient(g, x, group, lr)
        decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        state["mu_product"]._data *= mu  # (a 0-d tensor: rounded to its dtype, as in PyTorch)
        mu_product = float(state["mu_product"]._data)
        mu_product_next = mu_product * mu_next
        m, v = self._buffers(state, p, "exp_avg", "exp_avg_sq")
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2 ** step))
        denom += group["eps"]
        x += -lr * (1.0 - mu) / (1.0 - mu_product) * g / denom  # the gradient's share
        x += (-lr * mu_next) / (1.0 - mu_product_next) * m / denom  # the momentum's share


# ----- RAdam -----------------------------------------------------------------------------------
class RAdam(_PerParameter):
    """RAdam (Liu et al.): Adam whose adaptive step is switched on, and scaled by a "rectifier"
    r_t, only once the variance of its estimate is tractable (rho_t > 5); before that, SGD with
    momentum.

        m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2     (exp_avg, exp_avg_sq)
        rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        x -= lr m / (1 - beta1^t) * [sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t   if rho_t > 5]
    decoupled_weight_decay: shrink x by (1 - lr weight_decay) instead of adding weight_decay x
    to g."""

    _load_defaults = dict(foreach=None, maximize=False, differentiable=False,
                          decoupled_weight_decay=False, capturable=False)
    _required_state = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check_eps(eps)
        _check_betas(betas)
        _check_weight_decay(weight_decay)
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _buffer_names(self, group):
        return ("exp_avg", "exp_avg_sq")

    def _step(self, p, g, group, state, step):
        x = p._data
        lr, (beta1, beta2) = float(group["lr"]), group["betas"]
        g = _decayed_gradient(g, x, group, lr)
        m, v = self._buffers(state, p, "exp_avg", "exp_avg_sq")
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1, bias_correction2 = 1 - beta1 ** step, 1 - beta2 ** step
        m_hat = m / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1  # the length of the approximated moving average
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            denom = np.sqrt(v)
            denom += group["eps"]
            # (PyTorch's `number / tensor` is tensor.reciprocal() * number)
            adaptive_lr = (1 / denom) * bias_correction2 ** 0.5
            x -= m_hat * lr * adaptive_lr * rect
        else:
            x -= m_hat * lr


# ----- Rprop -----------------------------------------------------------------------------------
class Rprop(_PerParameter):
    """Rprop (Riedmiller & Braun): only the sign of the gradient is used; each coordinate has its
    own step size, which grows by etas[1] while the gradient keeps its sign and shrinks by
    etas[0] when it flips (then that coordinate skips one move), within step_sizes.

        step_size = clip(step_size * eta(sign(g prev)), *step_sizes)      (step_size)
        g = 0 where the sign flipped;  x -= sign(g) step_size;  prev = g  (prev)"""

    _load_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _required_state = ("step",)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _state_keys(self, group):
        return ("prev", "step_size", "step")

    def _init_state(self, p, group, state):
        state["step"] = scalar(0.0)
        self._state_array(state, "prev", p, create=True)
        state["step_size"] = Tensor._make(np.full(p.shape, float(group["lr"]), dtype=p.dtype))

    def _step(self, p, g, group, state, step):
        x = p._data
        (eta_minus, eta_plus), (smallest, largest) = group["etas"], group["step_sizes"]
        g = _gradient(g, x, group["maximize"])
        prev, step_size = self._buffers(state, p, "prev", "step_size")
        sign = np.sign(g * prev)  # +1: same sign as last step, -1: flipped, 0: a zero
        factor = np.where(sign > 0, x.dtype.type(eta_plus),
                          np.where(sign < 0, x.dtype.type(eta_minus), x.dtype.type(1)))
        step_size *= factor
        np.clip(step_size, x.dtype.type(smallest), x.dtype.type(largest), out=step_size)
        g = np.where(sign < 0, x.dtype.type(0), g)  # after a flip, no move (and no flip next)
        x += -1 * np.sign(g) * step_size
        prev[...] = g


# ----- ASGD ------------------------------------------------------------------------------------
class ASGD(_PerParameter):
    """Averaged SGD (Polyak & Juditsky): SGD with a decaying step size eta, plus a running
    average ax of the iterates from step t0 on (the averaged parameters, an output: the update
    does not use them).

        x = x (1 - lambd eta) - eta g
        ax = ax + mu (x - ax)                   (ax = x while mu = 1)
        eta = lr / (1 + lambd lr t)^alpha,  mu = 1 / max(1, t - t0)       (eta, mu)"""

    _load_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _required_state = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_weight_decay(weight_decay)
        _check_implementation(type(self).__name__, foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _state_keys(self, group):
        return ("mu", "ax", "eta", "step")

    def _init_state(self, p, group, state):
        state["step"] = scalar(0.0)
        state["eta"] = scalar(float(group["lr"]))
        state["mu"] = scalar(1.0)
        self._state_array(state, "ax", p, create=True)

    def _step(self, p, g, group, state, step):
        x = p._data
        lr, lambd = float(group["lr"]), group["lambd"]
        g = _gradient(g, x, group["maximize"], group["weight_decay"])
        eta = float(state["eta"]._data)
        x *= 1 - lambd * eta  # decay
        x += -eta * g
        (ax,) = self._buffers(state, p, "ax")
        if float(state["mu"]._data) != 1:
            ax += (x - ax) * float(state["mu"]._data)
        else:
            ax[...] = x
        # the next step's eta and mu (rounded to the default dtype, then to the state's)
        dtype = get_default_dtype()
        state["eta"]._data[...] = np.array(lr / ((1 + lambd * lr * step) ** group["alpha"]),
                                           dtype=dtype)
        state["mu"]._data[...] = np.array(1 / max(1, step - group["t0"]), dtype=dtype)


# ----- LBFGS -----------------------------------------------------------------------------------
def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer, within bounds, of the cubic through (x1, f1) and (x2, f2) with slopes g1
    and g2 (Nocedal & Wright, eq. 3.59); the bounds' midpoint if the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """A line search along d from the parameters x, starting at step t, for a step that meets
    the strong Wolfe conditions: enough decrease, f(t) <= f + c1 t gtd, and a flat enough slope,
    |gtd(t)| <= c2 |gtd| (Nocedal & Wright, algorithms 3.5 and 3.6, as PyTorch writes them).
    First it brackets such a step, then zooms into the bracket by cubic interpolation. Returns
    (loss, flat gradient, step, number of evaluations)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracketing phase
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate: a step between 1.01 t and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # reached the maximum number of evaluations
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket [low, high] (low: the lower loss) around a Wolfe step
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # too small to go on
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a point too close to a bracket's end (within 10% of its width) makes little progress:
        # the second time in a row (or if outside the bracket), move it 10% inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not enough decrease: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:  # the Wolfe conditions hold
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the slope points away from the high end: the old low end becomes the high one
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new  # t becomes the low end
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _tensors(value):
    """A state value as PyTorch keeps it: arrays and NumPy scalars as tensors (lists of them
    too); Python numbers as they are."""
    if isinstance(value, list):
        return [_tensors(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return Tensor._make(np.array(value))
    return value


def _arrays(value):
    """The inverse of `_tensors`: tensors as arrays (0-d ones as NumPy scalars), also in lists."""
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    if isinstance(value, Tensor):
        return value._data if value._data.ndim else value._data[()]
    return value


class LBFGS(Optimizer):
    """L-BFGS (Liu & Nocedal): a quasi-Newton method. The search direction is the gradient
    multiplied by an estimate of the inverse Hessian, built from the last history_size pairs
    (s = step taken, y = change of gradient) by the two-loop recursion. `step(closure)` runs up
    to max_iter iterations, each evaluating the loss through `closure` (which must zero the
    gradients, compute the loss, call backward and return the loss), with a fixed step lr or a
    strong-Wolfe line search (line_search_fn="strong_wolfe").

    All parameters are one flat vector, in one parameter group; the state (on the first
    parameter, as in PyTorch) keeps the direction d, the step t, the histories old_dirs (y),
    old_stps (s) and ro (1 / y.s), the Hessian scale H_diag and the previous gradient and loss,
    so that the next call to step continues the run."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        _check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        return np.concatenate([np.zeros(p.numel(), dtype=p.dtype) if p.grad is None
                               else p.grad.to_dense()._data.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update):
        """Move the parameters by step_size * update (a flat vector)."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p._data += step_size * update[offset:offset + n].reshape(p.shape)
            p._version += 1
            offset += n

    def _directional_evaluate(self, closure, x, t, d):
        """The loss and flat gradient at x + t d (the parameters are then put back to x)."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            np.copyto(p._data, saved)
            p._version += 1
        return loss, flat_grad

    def step(self, closure):
        """Run up to max_iter L-BFGS iterations; the closure's first loss is returned."""
        def evaluate():
            with enable_grad():
                return closure()

        with no_grad(), np.errstate(all="ignore"):
            return self._lbfgs(evaluate)

    def _lbfgs(self, closure):
        group = self.param_groups[0]
        lr = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already at a minimum
            return orig_loss

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss = (
            _arrays(state.get(k)) for k in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag",
                                            "prev_flat_grad", "prev_loss"))
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # the first direction: steepest descent
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                # remember the last step s and gradient change y (if the curvature y.s > 0)
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:  # forget the oldest pair
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # the initial inverse Hessian, H_diag * identity
                # the two-loop recursion: d = -(inverse Hessian estimate) grad
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = _arrays(state["al"])
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
                state["al"] = _tensors(al)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # the step: lr, but at most 1 / |grad|_1 the very first time (the scale is unknown)
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)  # the directional derivative: >= 0 means no descent
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p._data.copy() for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step; re-evaluate unless this is the last one
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # stop: out of iterations or evaluations, at a minimum, or no more progress
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        for key in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad"):
            state[key] = _tensors(state[key])
        return orig_loss

    def state_dict(self):
        """PyTorch's layout; the state's lists (histories) are copied too, so that what was
        saved stays as it was."""
        sd = super().state_dict()
        sd["state"] = {i: {k: _tensors(_copy_arrays(_arrays(v))) for k, v in entry.items()}
                       for i, entry in sd["state"].items()}
        return sd

    def load_state_dict(self, state_dict):
        """As Optimizer's; the state's flat vectors (of all parameters, kept on the first one)
        are loaded as they are."""
        state_dict = state_dict.copy()  # (PyTorch's AttributeError for what is not a dict)
        super().load_state_dict({"state": {}, "param_groups": state_dict["param_groups"]})
        for i, entry in state_dict["state"].items():
            self.state[self._params[int(i)]] = {
                k: _tensors(_copy_arrays(_arrays(v))) for k, v in entry.items()}


def _copy_arrays(value):
    if isinstance(value, list):
        return [_copy_arrays(v) for v in value]
    return value.copy() if isinstance(value, np.ndarray | np.generic) else value
