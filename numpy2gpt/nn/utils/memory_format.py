"""Store convolution weights in a memory format (PyTorch's torch.nn.utils.memory_format):
`convert_conv2d_weight_memory_format(model, torch.channels_last)` gives every Conv2d and
ConvTranspose2d in `model` a weight laid out as (out, kH, kW, in) in memory, the layout
channels_last inputs are convolved fastest with. Values, shapes and gradients do not change.
"""

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, memory_format, kinds):
    """Re-lay the weight of every module of `kinds` in `module`'s tree, in place: the Parameter
    object stays the same (an optimizer holding it keeps working), its memory is new."""
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().contiguous(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Convert the weights of `module`'s Conv2d and ConvTranspose2d layers to `memory_format`
    (torch.channels_last or torch.contiguous_format); returns `module`."""
    from ..modules.conv import Conv2d, ConvTranspose2d  # nn.modules imports this package

    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """The same for Conv3d and ConvTranspose3d layers (torch.channels_last_3d)."""
    from ..modules.conv import Conv3d, ConvTranspose3d

    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
