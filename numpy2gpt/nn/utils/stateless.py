"""nn.utils.stateless: `functional_call`, PyTorch's older home of torch.func.functional_call
(a module run with other tensors in place of its parameters and buffers)."""

import warnings


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """torch.func.functional_call, with PyTorch's deprecation warning."""
    from ...func import functional_call as _functional_call  # numpy2gpt.func imports nn

    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)


__all__ = ["functional_call"]
