"""LazyModuleMixin: modules whose parameter shapes come from their first input (PyTorch's
torch.nn.modules.lazy).

A lazy layer (nn.LazyLinear(out_features), nn.LazyConv2d(out_channels, kernel_size), ...) is
built without its input size. Its weights are UninitializedParameters until the first forward
call: a forward pre-hook then reads the size from the input (`initialize_parameters`), gives the
parameters their shapes, initialises them as the regular layer would, removes its hooks and turns
the module into the regular class (`cls_to_become`, e.g. nn.Linear). The parameter objects stay
the same, so an optimizer built before the first call trains them.

The lazy normalisation layers (nn.LazyBatchNorm1d/2d/3d, nn.LazyInstanceNorm1d/2d/3d) are here
too: num_features is the first input's size(1).

Before that call, `state_dict()` holds the UninitializedParameters themselves, and
`load_state_dict` of a regular state dict gives each parameter the loaded shape and values (the
first forward then keeps them rather than initialising new ones).
"""

import itertools

from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...ops.creation import tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)


def _lazy_load_hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
                    unexpected_keys, error_msgs):
    """load_state_dict pre-hook: an uninitialized parameter takes the shape of the tensor about
    to be loaded into it (load_state_dict then copies the values)."""
    for name, param in itertools.chain(module._parameters.items(), module._buffers.items()):
        key = prefix + name
        if key in state_dict and param is not None and is_lazy(param):
            value = state_dict[key]
            if not is_lazy(value):
                with no_grad():
                    param.materialize(value.shape)


def _keep_lazy_entries(module, state_dict, prefix, local_metadata):
    """state_dict post-hook: an uninitialized parameter is saved as itself (detaching it would
    give an empty tensor that looks like a real, zero-sized weight)."""
    for name, param in itertools.chain(module._parameters.items(), module._buffers.items()):
        if param is not None and is_lazy(param):
            state_dict[prefix + name] = param


def _infer_parameters(module, args, kwargs):
    """Forward pre-hook: shape and initialise the parameters from the first input, then become
    the regular module."""
    module.initialize_parameters(*args, **kwargs)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    for hook in ("_initialize_hook", "_load_hook", "_save_hook"):
        getattr(module, hook).remove()
        delattr(module, hook)
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """Mixed in before a regular layer (class LazyLinear(LazyModuleMixin, Linear)): registers the
    hooks above. A subclass defines `initialize_parameters(input)` (materialize the parameters,
    then reset_parameters) and `cls_to_become`."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(_lazy_load_hook)
        self._save_hook = self.register_state_dict_post_hook(_keep_lazy_entries)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)

    def initialize_parameters(self, *args, **kwargs):
        """Shape and initialise the parameters from the forward call's arguments."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module is still uninitialized."""
        return any(is_lazy(t) for t in
                   itertools.chain(self._parameters.values(), self._buffers.values()))


class _LazyNormBase(LazyModuleMixin):
    """A BatchNorm / InstanceNorm (mixed in before it) whose num_features is the first input's
    size(1): weight and bias are UninitializedParameters, running_mean and running_var
    UninitializedBuffers, until then. As PyTorch's, affine and track_running_stats default to
    True, for the lazy InstanceNorms too."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        # no parameters or statistics yet: they would only be replaced below
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=dtypes.int64)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """num_features = input.size(1) (for an unbatched InstanceNorm input too, as PyTorch)."""
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                for t in (self.weight, self.bias, self.running_mean, self.running_var):
                    if t is not None:
                        t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """BatchNorm1d with num_features from the first input (N, C) or (N, C, L)."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """BatchNorm2d with num_features from the first input (N, C, H, W)."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """BatchNorm3d with num_features from the first input (N, C, D, H, W)."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """InstanceNorm1d with num_features from the first input's size(1)."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """InstanceNorm2d with num_features from the first input's size(1)."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """InstanceNorm3d with num_features from the first input's size(1)."""

    cls_to_become = InstanceNorm3d


__all__ = ["LazyModuleMixin", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
