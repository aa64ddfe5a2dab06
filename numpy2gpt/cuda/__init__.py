"""`torch.cuda` as PyTorch's CPU-only build has it: no GPU, so scripts that ask take the CPU path.

`is_available()` is False and `device_count()` 0; seeding and cache calls are accepted and do
nothing; anything that needs a GPU (`synchronize`, `current_device`, ...) fails the way
PyTorch's CPU build fails.
"""

from ..tensor import check_device
from . import amp  # noqa: F401  (torch.cuda.amp.GradScaler)


def is_available():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def device_count():
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    """Seeds the (absent) GPU generators: nothing to do."""


def manual_seed_all(seed):
    """Seeds the (absent) GPU generators: nothing to do."""


def seed():
    """Seeds the (absent) GPU generators: nothing to do."""


def seed_all():
    """Seeds the (absent) GPU generators: nothing to do."""


def empty_cache():
    """Frees the (absent) GPU memory cache: nothing to do."""


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def _no_gpu(*args, **kwargs):
    check_device("cuda")  # AssertionError, as PyTorch's CPU build raises


synchronize = current_device = get_device_name = get_device_properties = set_device = _no_gpu
