"""`torch.backends.cudnn`: its flags are plain settings here, with no effect (no cuDNN)."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
