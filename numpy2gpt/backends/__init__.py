"""`torch.backends`: the switches PyTorch users flip for GPU kernels (TF32 matmuls, cuDNN
autotuning, ...). numpy2gpt runs NumPy on the CPU, so they are accepted and have no effect:
matmuls are always full float32 (or float64)."""

from . import cuda, cudnn, mps  # noqa: F401
