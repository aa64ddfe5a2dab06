"""`torch.amp`: mixed precision, as far as a NumPy CPU engine has it.

- `GradScaler("cuda")` (the default device, and `torch.cuda.amp.GradScaler`) finds no GPU and
  disables itself with PyTorch's warning; a disabled scaler's `scale`, `unscale_`, `step` and
  `update` pass straight through, so a script written for float16 trains in float32 unchanged.
- `GradScaler("cpu")` scales as PyTorch's does: the loss is multiplied by `scale` before
  backward, the gradients divided by it before the step, a step whose gradients overflowed is
  skipped and the scale halved, and after `growth_interval` clean steps it doubles.
- `autocast(device_type="cpu", ...)` is accepted as a context manager (and decorator) but casts
  nothing: the ops inside run in their inputs' dtype (float32). It says so once.
"""

import functools
import warnings

import numpy as np

from .. import dtypes
from ..tensor import Tensor, check_device


def _caller(obj, cls):
    """The stacklevel of a warning from cls.__init__ that names the line creating `obj`: one
    frame further when a subclass (torch.cuda.amp's spellings) called it."""
    return 2 if type(obj) is cls else 3


class GradScaler:
    """Loss scaling for float16 training (see the module docstring for what runs on CPU)."""

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if device == "cuda" and enabled:
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=_caller(self, GradScaler))
            enabled = False
        elif device not in ("cpu", "cuda"):
            check_device(device)
        self._device, self._enabled = device, enabled
        self._scale, self._growth_tracker = float(init_scale), 0
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._per_optimizer = {}  # id(optimizer) -> {"stage": ..., "found_inf": bool | None}
        self._scaled_once = False  # unscale_/update before any scale() is a script's mistake

    def _check_scaled(self, funcname):
        if not self._scaled_once:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  This may indicate "
                                 "your script did not use scaler.scale(loss or outputs) earlier "
                                 "in the iteration.")

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """`outputs * scale`, for a tensor or (nested) lists and tuples of tensors."""
        if not self._enabled:
            return outputs
        self._scaled_once = True
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, list | tuple):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale (in place), noting any inf or NaN."""
        if not self._enabled:
            return
        self._check_scaled("unscale_")
        state = self._per_optimizer.setdefault(id(optimizer), {"stage": "ready", "found_inf": None})
        if state["stage"] == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = np.float32(1.0 / self._scale)  # PyTorch multiplies by a float32 reciprocal
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad._data = p.grad._data * inv_scale
                finite = bool(np.isfinite(p.grad._data).all())
                state["found_inf"] = bool(state["found_inf"]) or not finite
        state["stage"] = "unscaled"

    def step(self, optimizer, *args, **kwargs):
        """`optimizer.step()` unless the unscaled gradients hold an inf or NaN (then skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        state = self._per_optimizer.setdefault(id(optimizer), {"stage": "ready", "found_inf": None})
        if state["stage"] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == "ready":
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = "stepped"
        return result

    def update(self, new_scale=None):
        """Halve the scale after an overflow, double it after `growth_interval` clean steps."""
        if not self._enabled:
            return
        self._check_scaled("update")
        if new_scale is not None:
            self._scale = float(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def get_growth_interval(self):
        return self._growth_interval

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


_said_no_cast = False


class autocast:
    """`with autocast(device_type="cpu", dtype=...):` runs its ops unchanged, in float32."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (
            dtypes.bfloat16 if device_type == "cpu" else dtypes.float16)
        if device_type == "cuda":
            if enabled:
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", UserWarning, stacklevel=_caller(self, autocast))
            enabled = False
        elif device_type != "cpu":
            check_device(device_type)
        elif enabled and self.fast_dtype not in (dtypes.bfloat16, dtypes.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", UserWarning,
                          stacklevel=_caller(self, autocast))
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        global _said_no_cast
        if self._enabled and not _said_no_cast:
            _said_no_cast = True
            warnings.warn(f"numpy2gpt's autocast does not cast to {self.fast_dtype!r}: the ops "
                          "inside run in their inputs' dtype (float32)", UserWarning, stacklevel=2)
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def run_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return run_autocast


__all__ = ["GradScaler", "autocast"]
