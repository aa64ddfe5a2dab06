"""`torch.backends.mps`: no Apple GPU backend in numpy2gpt."""


def is_available():
    return False


def is_built():
    return False
