"""nn.utils.parametrizations: weight normalisation and spectral normalisation as
parametrizations (see parametrize.py), PyTorch's current form of these two techniques.

    weight_norm(Linear(20, 40))    # weight = g * v / ||v||, stored as original0 = g, original1 = v
    spectral_norm(Linear(20, 40))  # weight = W / sigma(W), sigma estimated by power iteration
"""

from ...autograd.grad_mode import no_grad
from ...ops.linalg import mv, vdot
from ...tensor import Tensor
from ..functional import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d
from ..modules.module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    """The 2-norm of `v` over every dimension but `dim`, kept as size-1 dimensions so that it
    broadcasts against `v` (PyTorch's norm_except_dim); dim=-1 means the norm of the whole
    tensor, a 0-d tensor."""
    if dim == -1:
        return v.norm()
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return v.norm(2, dims, keepdim=True) if dims else v.abs()


def _weight_norm(v, g, dim):
    """g * v / ||v||, the norm taken over every dimension but `dim` (PyTorch's _weight_norm).
    Composed of differentiable ops, so d/dg and d/dv come from the graph."""
    return v * (g / _norm_except_dim(v, dim))


def _weight_to_matrix(weight, dim):
    """`weight` as a matrix: dimension `dim` first, the others flattened into the columns."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.flatten(1)


class _WeightNorm(Module):
    """w = g * v / ||v||: the direction v and the length g are learned separately."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize `module.<name>` as g * v / ||v|| (norm over every dimension but `dim`;
    `dim=None` takes the norm of the whole tensor). g and v are stored as
    `module.parametrizations.<name>.original0` and `.original1`; a state dict of the legacy
    `nn.utils.weight_norm` (keys `<name>_g`, `<name>_v`) still loads. Returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(module, state_dict, prefix, local_metadata, strict,
                                 missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """W / sigma(W), sigma the largest singular value of W seen as a matrix (dimension `dim`
    first, the rest flattened). sigma is estimated by power iteration on the buffers `_u`, `_v`:
    in training mode each access runs `n_power_iterations` steps."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)  # the global generator, as PyTorch
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)  # start from a good estimate

    def _reshape_weight_to_matrix(self, weight):
        return _weight_to_matrix(weight, self.dim)

    def _power_method(self, weight_mat, n_power_iterations):
        """u <- normalize(W v), v <- normalize(W^T u), written into the buffers in place (they
        are the tensors the state dict holds). Not part of the graph: sigma's gradient treats
        u and v as constants, as in PyTorch."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u._data[...] = normalize(mv(weight_mat, self._v), dim=0, eps=self.eps)._data
                self._v._data[...] = normalize(mv(weight_mat.T, self._u), dim=0,
                                               eps=self.eps)._data
            self._u._version += 1
            self._v._version += 1

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # copies: the next power step overwrites the buffers, which backward must not see
        u, v = self._u.clone(), self._v.clone()
        sigma = vdot(u, mv(weight_mat, v))  # u^T W v, the top singular value
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize `module.<name>` as W / sigma(W), sigma its spectral norm estimated by power
    iteration (buffers `module.parametrizations.<name>[0]._u` and `._v`, drawn from the global
    generator). `dim` (default 0, 1 for ConvTranspose) is the output dimension. Returns the
    module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose1d | ConvTranspose2d) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
