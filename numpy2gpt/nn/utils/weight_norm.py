"""The legacy, hook-based weight normalisation (`nn.utils.weight_norm`), deprecated in PyTorch in
favour of `nn.utils.parametrizations.weight_norm`.

The weight is replaced by two Parameters, `<name>_g` (the lengths) and `<name>_v` (the
directions), and a forward pre-hook recomputes the plain attribute `<name>` = g * v / ||v|| before
each forward, so the graph of the forward goes through g and v.
"""

import warnings

from ..parameter import Parameter
from .parametrizations import _norm_except_dim, _weight_norm

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def _pre_hooks(module):
    """The module's forward pre-hook entries (each with the hook as `.fn`)."""
    return module.__dict__.get("_forward_hooks", {}).get("pre", [])


class WeightNorm:
    """The forward pre-hook that recomputes `module.<name>` from `<name>_g` and `<name>_v`."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in _pre_hooks(module):
            if isinstance(hook.fn, WeightNorm) and hook.fn.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                                   f"{name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight.detach(),
                                                                          fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Replace `module.<name>` by g * v / ||v|| with Parameters `<name>_g` and `<name>_v`,
    recomputed before each forward (norm over every dimension but `dim`; `dim=None`: the whole
    tensor). Deprecated (FutureWarning): use `parametrizations.weight_norm`. Returns the
    module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo `weight_norm`: `module.<name>` becomes one Parameter again, holding g * v / ||v||."""
    hooks = _pre_hooks(module)
    for entry in hooks:
        if isinstance(entry.fn, WeightNorm) and entry.fn.name == name:
            entry.fn.remove(module)
            hooks.remove(entry)
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
