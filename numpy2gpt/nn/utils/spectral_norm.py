"""The legacy, hook-based spectral normalisation (`nn.utils.spectral_norm`); PyTorch's current
form is `nn.utils.parametrizations.spectral_norm`.

The weight moves to the Parameter `<name>_orig`; the buffers `<name>_u` and `<name>_v` hold the
power-iteration vectors, and a forward pre-hook sets the plain attribute `<name>` =
`<name>_orig` / sigma before each forward (in training mode after `n_power_iterations` steps).
"""

from ...autograd.grad_mode import no_grad
from ...ops.linalg import dot, mv
from ..functional import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d
from ..parameter import Parameter
from .parametrizations import _weight_to_matrix
from .weight_norm import _pre_hooks

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that recomputes `module.<name>` = `<name>_orig` / sigma."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = _weight_to_matrix(weight, self.dim)
        if do_power_iteration:
            # v <- normalize(W^T u), u <- normalize(W v), in place in the buffers; then copies,
            # since the next step overwrites the buffers and backward must not see that
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v._data[...] = normalize(mv(weight_mat.T, u), dim=0, eps=self.eps)._data
                    u._data[...] = normalize(mv(weight_mat, v), dim=0, eps=self.eps)._data
                u._version += 1
                v._version += 1
                u, v = u.clone(), v.clone()
        sigma = dot(u, mv(weight_mat, v))  # u^T W v: u and v are constants for the gradient
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in _pre_hooks(module):
            if isinstance(hook.fn, SpectralNorm) and hook.fn.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            h, w = _weight_to_matrix(weight, fn.dim).shape
            u = normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())  # the raw weight until the first forward
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Replace `module.<name>` by `<name>_orig` / sigma, sigma its spectral norm estimated by
    power iteration on the buffers `<name>_u`, `<name>_v` (drawn from the global generator), before
    each forward. `dim` (default 0, 1 for ConvTranspose) is the output dimension. Returns the
    module."""
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose1d | ConvTranspose2d) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo `spectral_norm`: `module.<name>` becomes one Parameter again, holding
    `<name>_orig` / sigma (no further power iteration)."""
    hooks = _pre_hooks(module)
    for entry in hooks:
        if isinstance(entry.fn, SpectralNorm) and entry.fn.name == name:
            entry.fn.remove(module)
            hooks.remove(entry)
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
