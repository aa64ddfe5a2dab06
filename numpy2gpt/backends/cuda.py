"""`torch.backends.cuda`: `matmul.allow_tf32 = True` and its siblings are accepted and change
nothing (no GPU); an unknown flag is an AttributeError, as in PyTorch."""


class _MatmulFlags:
    """`torch.backends.cuda.matmul`: the cuBLAS switches, kept only so scripts can set them."""

    __slots__ = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __setattr__(self, name, value):
        if name not in self.__slots__:
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)


matmul = _MatmulFlags()


def is_built():
    return False
