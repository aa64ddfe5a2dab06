"""Optimizer: holds parameter groups and per-parameter state, like `torch.optim.Optimizer`.

A subclass implements `_update(p, grad, group, state)`, updating one parameter's array
(`p._data`) in place from its gradient. The state dict has PyTorch's layout:
{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}, so saving and loading
resume a run exactly.

Updates are written as NumPy ufunc calls with `out=`: in place on the parameter and its state,
with two block-sized scratch arrays for the intermediate results of a large parameter, so a step
allocates no large array per operation (fresh large arrays cost page faults), and the
hyper-parameters enter as 0-d arrays of the parameter's dtype (cheaper ufunc operands than Python
floats, which NumPy converts on every call).
"""

import copy
import warnings
from collections import defaultdict
from types import SimpleNamespace

import numpy as np

from ..autograd.grad_mode import no_grad
from ..dtypes import float64, get_default_dtype
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _check_implementation(owner, foreach, fused, differentiable, capturable=False):
    """PyTorch's implementation switches, which its param groups record. `foreach` and `fused`
    only pick PyTorch's kernels (this optimizer has one, in-place NumPy) and are accepted, but
    `fused=True`, `differentiable=True` and `capturable=True` promise what it does not do."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    for name, value in (("fused", fused), ("differentiable", differentiable),
                        ("capturable", capturable)):
        if value:
            raise ValueError(f"{owner}: `{name}=True` is not supported by numpy2gpt")


def _check_lr(lr):
    """PyTorch's checks of a learning rate: non-negative, and one element if a tensor."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_eps(eps):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def _check_betas(betas):
    """Both betas in [0, 1). Indexed as PyTorch does, so a wrong container fails as there
    (TypeError for a number, IndexError for a 1-tuple)."""
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_weight_decay(weight_decay):
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Optimizer:
    # On load_state_dict the saved param groups replace the optimizer's (as in PyTorch, so that a
    # state dict of another optimizer lacks this one's hyper-parameters: KeyError at step); these
    # switches, which older versions did not save, are then filled in with their defaults.
    _load_defaults = {}
    # the keys a parameter's saved state must have (unless it is empty): checked on load
    _required_state = ()
    # a saved "step" that is a plain number comes back as a 0-d tensor (PyTorch's optimizers
    # convert old state dicts so); False for an optimizer that counts with an int (SparseAdam)
    _tensor_step = True

    def __init__(self, params, defaults):
        self.defaults = defaults
        # Tensor -> dict of state (keyed by the parameter object itself); a new parameter's is {}
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):  # (iterating it would give its rows)
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {params.type()}")
        params = list(params)
        if len(params) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest).

        The parameters may be (name, tensor) pairs, as `named_parameters()` gives: the names are
        kept as the group's "param_names", as in PyTorch."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. Please "
                            "use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            group["param_names"] = names
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for g in self.param_groups:
            if ("param_names" in group) != ("param_names" in g):
                which = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.is_sparse:
                    p.grad.zero_()  # (a sparse gradient drops its entries)
                else:
                    p.grad._data[...] = 0

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        self._step_constants = {}  # 0-d hyper-parameter arrays for this step (`_constants`)
        with no_grad(), np.errstate(all="ignore"):  # NaN / inf updates silently, as in PyTorch
            for group in self.param_groups:
                self._check_sparse_grads(group)
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, self._grad_array(p, group), group, self.state[p])
        return loss

    def _check_sparse_grads(self, group):
        """PyTorch's error, before any update of the group, when one of its gradients is sparse
        (nn.Embedding(sparse=True)'s) and this optimizer does not take sparse gradients."""
        if not any(p.grad is not None and p.grad.is_sparse for p in group["params"]):
            return
        for klass in type(self).__mro__:
            refusal = _REFUSES_SPARSE.get(klass.__name__)
            if refusal is not None and klass.__module__.startswith("numpy2gpt.optim"):
                error, message = refusal
                raise error(message)

    @staticmethod
    def _grad_array(p, group):
        """The array of p's gradient to update p from. A sparse gradient (SGD takes one) becomes
        the dense one it stands for: the update is the same (PyTorch keeps SGD's momentum
        buffer sparse, this one is dense). Weight decay would add the dense parameter to it,
        which PyTorch refuses."""
        if not p.grad.is_sparse:
            return p.grad._data
        if group.get("weight_decay"):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        return p.grad.to_dense()._data

    def _update(self, p, grad, group, state):
        """Update one parameter in place (subclasses)."""
        raise NotImplementedError

    # ----- helpers for subclasses' in-place updates ----------------------------------------------
    BLOCK = 65536  # elements updated per pass of a large parameter (with two scratch arrays)
    SMALL = 4096  # up to this size a parameter is updated whole, with fresh temporaries

    def _hyper(self, group, step):
        """The update's scalars for `group` at `step`, as a dict of Python numbers (subclasses)."""
        raise NotImplementedError

    def _constants(self, group, step, dtype):
        """`_hyper(group, step)` as 0-d arrays of `dtype` (attributes of the result), made once
        per step: a ufunc call with a Python float operand costs more (NumPy converts it on every
        call) and gives the same numbers (it is rounded to the array's dtype either way)."""
        key = (id(group), step, dtype)
        c = self._step_constants.get(key)
        if c is None:
            c = self._step_constants[key] = SimpleNamespace(
                **{k: np.array(v, dtype=dtype) for k, v in self._hyper(group, step).items()})
        return c

    @staticmethod
    def _state_array(state, key, p, create=False):
        """The array of state[key], a tensor shaped like p (as in PyTorch); made C-contiguous if
        it is not (the update writes through a flat view of it). A missing one is created as
        zeros if `create`, else PyTorch's KeyError (a state loaded from another optimizer)."""
        t = state.get(key)
        if t is None:
            if not create:
                raise KeyError(key)
            t = state[key] = Tensor._make(np.zeros(p.shape, dtype=p.dtype))
        elif not isinstance(t, Tensor):  # an array or a list put there by hand
            t = state[key] = Tensor._make(np.array(t, dtype=p.dtype))
        if not t._data.flags.c_contiguous:
            t._data = np.ascontiguousarray(t._data)
        return t._data

    @staticmethod
    def _step_count(state):
        """Count one more step in state["step"], a 0-d `scalar` as in PyTorch; the count."""
        step = state.get("step")
        if not isinstance(step, Tensor):
            step = state["step"] = scalar(step or 0)
        step._data += 1
        step._version += 1
        return int(step._data)

    def _in_blocks(self, update, p, arrays, *args):
        """Run `update(p's array, *arrays, scratch1, scratch2, *args)` to update p in place.

        A small parameter goes whole, with no scratch (None: ufuncs then return fresh arrays,
        which are cheap when small). A large one goes as flat views, BLOCK elements at a time,
        with two scratch arrays kept between steps: no fresh large temporaries (page faults), and
        a block's working set stays in cache. `arrays` (gradient, state) have p's shape; if p's
        array is not C-contiguous (its flat view would be a copy), the update works on a
        contiguous copy that is written back at the end."""
        data, n = p._data, p._data.size
        if n <= self.SMALL:
            update(data, *arrays, None, None, *args)
        else:
            if not data.flags.c_contiguous:
                data = np.ascontiguousarray(data)
            scratch = self.__dict__.setdefault("_scratch", {})
            if data.dtype not in scratch:
                scratch[data.dtype] = (np.empty(self.BLOCK, dtype=data.dtype),
                                       np.empty(self.BLOCK, dtype=data.dtype))
            t1, t2 = scratch[data.dtype]
            if n <= self.BLOCK:  # one block: the scratch takes p's shape
                update(data, *arrays, t1[:n].reshape(data.shape), t2[:n].reshape(data.shape),
                       *args)
            else:
                flat = [data.reshape(-1)] + [np.reshape(a, -1) for a in arrays]
                for lo in range(0, n, self.BLOCK):
                    blocks = [f[lo:lo + self.BLOCK] for f in flat]
                    m = blocks[0].size
                    update(*blocks, t1[:m], t2[:m], *args)
            if data is not p._data:
                np.copyto(p._data, data)
        p._version += 1

    # ----- state dict ------------------------------------------------------------------------
    def state_dict(self):
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:  # copies: what was saved stays as it was
                    state[index[id(p)]] = {k: (Tensor._make(v._data.copy()) if isinstance(v, Tensor)
                                               else v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a `state_dict()`: PyTorch's checks, all before anything changes. The saved groups
        replace the optimizer's (each keeping its parameters), and each parameter gets its saved
        state; an entry that lacks a key of `_required_state` is a KeyError, as in PyTorch."""
        state_dict = state_dict.copy()
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, saved in zip(self.param_groups, groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 "the size of optimizer's group")
        state = defaultdict(dict)
        for g, (mine, saved) in enumerate(zip(self.param_groups, groups)):
            for i, (p, idx) in enumerate(zip(mine["params"], saved["params"])):
                entry = state_dict["state"].get(idx, state_dict["state"].get(str(idx)))
                if entry is None:
                    continue
                missing = [key for key in self._required_state if key not in entry]
                if entry and missing:
                    raise KeyError(missing[0])
                state[p] = {k: _state_value(v, p, k, f"parameter {i} of group {g}",
                                            self._tensor_step)
                            for k, v in entry.items()}
        loaded = []
        for mine, saved in zip(self.param_groups, groups):
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            group["params"] = mine["params"]
            if "param_names" in mine and "param_names" not in group:
                group["param_names"] = mine["param_names"]
            loaded.append(self._loaded_group(group))
        self.state = state
        self.param_groups = loaded

    def _loaded_group(self, group):
        """A param group as loaded: the switches of `_load_defaults` filled in."""
        for k, v in self._load_defaults.items():
            group.setdefault(k, v)
        return group

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines += [""] * (i > 0) + [f"Parameter Group {i}"]  # groups apart by a blank line
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


# The optimizers that refuse a sparse gradient, with PyTorch's message (AdamW is an Adam there
# too). SGD, Adagrad and SparseAdam take one.
_REFUSES_SPARSE = {
    **{name: (RuntimeError, f"{name} does not support sparse gradients")
       for name in ("RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD")},
    "Adam": (RuntimeError, "Adam does not support sparse gradients, please consider SparseAdam "
                           "instead"),
}


def scalar(value):
    """A 0-d tensor for a counter kept in an optimizer's state ("step", ...): float32, or float64
    when that is the default dtype, as PyTorch keeps them."""
    dtype = np.float64 if get_default_dtype() == float64 else np.float32
    return Tensor._make(np.array(value, dtype=dtype))


def _state_value(v, p, key, where, tensor_step=True):
    """A saved state entry as this optimizer keeps it, as PyTorch's does: a tensor of its own
    for a buffer (which must have the parameter's shape, else the state is another model's) and
    for "step" (a 0-d tensor keeping its dtype, or a `scalar` from a plain number unless
    `tensor_step` is False); another floating 0-d tensor in the parameter's dtype; anything else
    as it is."""
    arr = v._data if isinstance(v, Tensor) else v
    if isinstance(arr, np.ndarray) and arr.ndim > 0:
        if arr.shape != p.shape:
            raise ValueError(f"loaded state dict has '{key}' of shape {list(arr.shape)} for "
                             f"{where}, which has shape {list(p.shape)}: the state dict is from "
                             "another model's optimizer")
        return Tensor._make(arr.astype(p.dtype, copy=True))
    if key == "step" and tensor_step and isinstance(arr, int | float):
        return scalar(arr)
    if isinstance(arr, np.ndarray):
        if key != "step" and arr.dtype.kind == "f" and p.dtype.kind == "f":
            return Tensor._make(arr.astype(p.dtype))  # (NAdam's mu_product: the param's dtype)
        return Tensor._make(arr.copy())
    return arr
