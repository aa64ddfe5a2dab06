"""Grad mode: whether new operations record the graph.

The flag is thread-local, as in PyTorch: each thread records (or not) its own graphs.
Each context manager is also a decorator, like PyTorch's.
"""

import functools
import threading

_state = threading.local()


def is_grad_enabled():
    """True when operations on tensors that require grad record a graph."""
    return getattr(_state, "enabled", True)


def is_inference_mode_enabled():
    """True inside an `inference_mode()` block (and not inside an `inference_mode(False)`)."""
    return getattr(_state, "inference", False)


def _set_enabled(flag):
    _state.enabled = bool(flag)


class _GradMode:
    """Base: set the mode on enter, restore the previous one on exit; usable as a decorator,
    with or without parentheses (`@no_grad()` and `@no_grad`)."""

    mode = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # bare decorator: @no_grad
            return self(func)
        return self

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: results never require grad (evaluation, optimizer updates)."""

    mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a `no_grad` block."""

    mode = True


class inference_mode(_GradMode):
    """Like `no_grad` (numpy2gpt keeps no extra bookkeeping that inference mode could skip).

    `inference_mode(False)` turns gradients on, as PyTorch's does (also inside no_grad).
    """

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # bare decorator: @inference_mode
            self.enabled = True
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.enabled = True if callable(mode) else bool(mode)

    def __enter__(self):
        self.prev, self.prev_inference = is_grad_enabled(), is_inference_mode_enabled()
        _set_enabled(not self.enabled)
        _state.inference = self.enabled
        return self

    def __exit__(self, *exc):
        _state.inference = self.prev_inference
        return super().__exit__(*exc)

    def __call__(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(enabled):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_GradMode):
    """Set grad mode to `mode`; acts immediately (like PyTorch) and as a context manager."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set_enabled(self.prev)  # used as a decorator: do not change the mode now
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
