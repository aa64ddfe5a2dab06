"""Module: the base class of every layer and model (PyTorch's `torch.nn.Module`).

A Module owns three ordered dicts, filled by plain attribute assignment in `__init__`:
  * `_parameters` - the Parameters assigned to it (`self.weight = Parameter(...)`);
  * `_buffers`    - tensors that are state but not learned (`self.register_buffer("mask", m)`);
  * `_modules`    - its sub-modules (`self.fc = Linear(4, 8)`).
`__setattr__` sorts each assignment into the right dict and `__getattr__` finds it again, so a
model is a tree of modules, and `parameters()`, `state_dict()`, `train()`, `to()`... walk it.

Calling a module (`model(x)`) runs `forward` while a thread-local *name stack* holds the module's
qualified name ("transformer.h.0.attn"): every autograd Function created meanwhile can read it with
`current_module_path()`, which is how graph plots draw one cluster per module.
"""

import threading
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ... import dtypes
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...dtypes import dtype_name
from ...tensor import RemovableHandle, Size, Tensor, check_device, dtype_of_to_args
from ..parameter import Buffer, Parameter
from . import _hooks
from ._hooks import (  # noqa: F401  (the global hooks live here in PyTorch: nn.modules.module)
    GLOBAL_BACKWARD_HOOKS,
    BackwardHook,
    _Hook,
    add_legacy_hooks,
    register_module_backward_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)

# ----- the module name stack ----------------------------------------------------------------------
_local = threading.local()  # .stack: list of (module, qualified name); .path: name on top


def current_module_path():
    """Qualified name of the innermost module whose forward is running in this thread.

    "" is the outermost (root) module, like `named_modules()` names it; None outside any module.
    """
    return getattr(_local, "path", None)


# Function reads the name through this hook (see Function._link), so autograd needs no import of nn.
Function.current_module_path = staticmethod(current_module_path)


def _child_path(parent, parent_path, module):
    """The qualified name of `module` called from inside `parent`'s forward."""
    for name, m in parent._modules.items():  # usual case: a direct child
        if m is module:
            return f"{parent_path}.{name}" if parent_path else name
    # A deeper descendant (e.g. self.h[0] of a ModuleList): look it up in the root's name index,
    # built once per root call (not once per module call).
    if getattr(_local, "index", None) is None:
        root = _local.stack[0][0]
        _local.index = {id(m): name for name, m in root.named_modules()}
    name = _local.index.get(id(module))
    if name is not None:
        return name
    name = type(module).__name__  # a module that is not part of the caller's tree
    return f"{parent_path}.{name}" if parent_path else name


def _addindent(s, num_spaces):
    """Indent every line but the first (for nested reprs)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + ln if ln.strip() else "" for ln in lines)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys it could not match (both empty on success)."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _type_name(value):
    if isinstance(value, Tensor):
        return dtype_name(value.dtype)  # e.g. 'numpy2gpt.float32'
    return type(value).__name__


def _check_name(kind, name):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:  # PyTorch's message for a module names it
        raise KeyError(f'{kind} name can\'t contain "."' + (f", got: {name}" if kind == "module"
                                                             else ""))
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class Module:
    """Base class for all neural network modules (see the module docstring)."""

    training: bool
    _version = 1  # the format version of this module's state, shown to state-dict hooks

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; "
                            "Module.__init__ takes none")
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    # ----- calling: run forward under this module's name -------------------------------------
    def __call__(self, *args, **kwargs):
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        if stack:
            path = _child_path(stack[-1][0], stack[-1][1], self)
        else:  # a root call: the module tree may have changed since the last one
            path, _local.index = "", None
        stack.append((self, path))
        _local.path = path
        try:
            hooks = self.__dict__.get("_forward_hooks")
            if not (hooks or self.__dict__.get("_backward_hooks") or GLOBAL_BACKWARD_HOOKS):
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(hooks or {}, args, kwargs)
        finally:
            stack.pop()
            _local.path = stack[-1][1] if stack else None

    # ----- forward hooks -----------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call `hook(module, args)` before each forward; a result other than None replaces the
        positional arguments (a tuple, or one value). With `with_kwargs=True` it is
        `hook(module, args, kwargs)`, returning None or (args, kwargs). Returns a handle whose
        `remove()` unregisters it."""
        return self._add_hook("pre", hook, prepend, with_kwargs, False)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call `hook(module, args, output)` after each forward (`hook(module, args, kwargs,
        output)` with `with_kwargs=True`); a result other than None replaces the output. With
        `always_call=True` it runs even when forward raises. Returns a handle (`remove()`)."""
        return self._add_hook("post", hook, prepend, with_kwargs, always_call)

    def _add_hook(self, when, fn, prepend, with_kwargs, always_call):
        hooks = self.__dict__.setdefault("_forward_hooks", {})
        entry = _Hook(fn, with_kwargs, always_call)
        group = hooks.setdefault(when, [])
        group.insert(0, entry) if prepend else group.append(entry)
        return RemovableHandle(hooks, when, entry)

    def _call_with_hooks(self, hooks, args, kwargs):
        """Forward with the hooks: forward pre-hooks, then (for backward hooks) the inputs are
        wrapped, forward runs, forward hooks see the wrapped inputs and may replace the output,
        and the output is wrapped last, as PyTorch does (see _hooks.py)."""
        # The backward hooks registered now are the ones this call's backward will run.
        full, legacy = self._get_backward_hooks()
        pre = [h.fn for h in GLOBAL_BACKWARD_HOOKS.get("pre", []) +
               self.__dict__.get("_backward_hooks", {}).get("pre", [])]
        for h in list(hooks.get("pre", ())):
            if h.with_kwargs:
                result = h.fn(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = h.fn(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if (full or pre) and is_grad_enabled():
            backward_hook = BackwardHook(self, full, pre)
            args = backward_hook.setup_input_hook(args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for h in list(hooks.get("post", ())):
                if h.always_call:
                    h.fn(self, args, kwargs, None) if h.with_kwargs else h.fn(self, args, None)
            raise
        for h in list(hooks.get("post", ())):
            result = h.fn(self, args, kwargs, output) if h.with_kwargs else \
                h.fn(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            if not isinstance(output, Tensor | tuple):
                warnings.warn("For backward hooks to be called, module output should be a Tensor "
                              f"or a tuple of Tensors but received {type(output)}", stacklevel=3)
            output = backward_hook.setup_output_hook(output)
        if legacy:
            add_legacy_hooks(self, args, output, legacy)
        return output

    # ----- backward hooks ----------------------------------------------------------------------
    def register_full_backward_hook(self, hook, prepend=False):
        """Call `hook(module, grad_input, grad_output)` when the gradient with respect to the
        module's inputs has been computed: tuples with one entry per positional argument (None
        for a non-tensor one; zeros for a tensor that got no gradient) and per output. A tuple
        it returns replaces grad_input in what flows on. When no input requires grad it fires
        with the gradient w.r.t. the outputs, grad_input all None. Global hooks
        (register_module_full_backward_hook) fire first. Returns a handle (`remove()`).

        The forward then sees views of its input tensors, and the caller gets views of the
        output tensors, which may not be modified in place (as in PyTorch)."""
        return self._add_backward_hook("hook", hook, prepend, full=True)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call `hook(module, grad_output)` when the gradient with respect to the module's
        outputs has been computed, before it flows into the module; a tuple it returns
        replaces grad_output. Returns a handle (`remove()`)."""
        return self._add_backward_hook("pre", hook, prepend, full=None)

    def register_backward_hook(self, hook):
        """Deprecated (use register_full_backward_hook): `hook(module, grad_input, grad_output)`
        on the last op of the forward only, so its gradients are the module's own only when
        forward is one op; PyTorch and numpy2gpt warn when it is not."""
        return self._add_backward_hook("hook", hook, False, full=False)

    def _add_backward_hook(self, kind, hook, prepend, full):
        if full is not None:
            if self.__dict__.get("_is_full_backward_hook") is (not full):
                raise RuntimeError("Cannot use both regular backward hooks and full backward "
                                   "hooks on a single Module. Please use only one of them.")
            self.__dict__["_is_full_backward_hook"] = full
        hooks = self.__dict__.setdefault("_backward_hooks", {})
        entry = _Hook(hook)
        group = hooks.setdefault(kind, [])
        group.insert(0, entry) if prepend else group.append(entry)
        return RemovableHandle(hooks, kind, entry)

    def _get_backward_hooks(self):
        """(full hooks, legacy hooks) of this module, the global ones first."""
        full, legacy = [], []
        (full if _hooks._global_is_full[0] else legacy).extend(
            h.fn for h in GLOBAL_BACKWARD_HOOKS.get("hook", ()))
        own = self.__dict__.get("_backward_hooks", {}).get("hook", ())
        (full if self.__dict__.get("_is_full_backward_hook") else legacy).extend(h.fn for h in own)
        return full, legacy

    # ----- registration ------------------------------------------------------------------------
    def _require_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def register_parameter(self, name, param):
        """Add a Parameter (or None, a declared-but-absent one such as `bias=False`)."""
        self._require_init("parameter")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            "(numpy2gpt.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a non-learned state tensor; `persistent=False` keeps it out of `state_dict`."""
        self._require_init("buffer")
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            "(numpy2gpt Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None), reachable as attribute `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._require_init("child module")
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params, buffers, modules = d.get("_parameters"), d.get("_buffers"), d.get("_modules")
        if isinstance(value, Parameter):
            self._require_init("parameters")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                                "(numpy2gpt.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._require_init("module")
            self._forget(name, keep="_modules")
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                "(numpy2gpt.nn.Module or None expected)")
            modules[name] = None
        elif isinstance(value, Buffer):  # registers it, persistent as the Buffer says
            self.register_buffer(name, value, value.persistent)
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                "(numpy2gpt.nn.Buffer, numpy2gpt Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Unregister `name` everywhere but in dict `keep` (where re-assigning keeps its place)."""
        self.__dict__.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                self.__dict__[key].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers and modules live in the dicts.
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            items = d.get(key)
            if items is not None and name in items:
                return items[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, ()):
                del self.__dict__[key][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(object.__dir__(self))
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(k for k in set(keys) if not k[:1].isdigit())

    def get_submodule(self, target):
        """The module at dotted path `target` ("" is self), e.g. "transformer.h.0.attn"."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target):
        """The Parameter at dotted path `target`, e.g. "transformer.wte.weight"."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    # ----- walking the tree ----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (qualified name, module) for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield (name, module) for the direct children (each module once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        """Yield (qualified name, tensor) from `get_members(module)` over the tree.

        With remove_duplicate a tensor shared by two modules (tied weights) is yielded once,
        under the first name met, so an optimizer never updates it twice.
        """
        memo = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or (remove_duplicate and id(value) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(value))
                yield (module_prefix + ("." if module_prefix else "") + name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----- state dict ---------------------------------------------------------------------------
    def _local_state(self):
        """This module's own (name, tensor) pairs that belong in a state dict."""
        for name, p in self._parameters.items():
            if p is not None:
                yield name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield name, b

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict name -> tensor of every parameter and persistent buffer.

        The tensors are detached but share memory with the module (like PyTorch); tied
        parameters appear under each of their names, so keys match PyTorch's exactly.
        Each module runs its state-dict pre-hooks before adding its entries and its post-hooks
        after its children have added theirs.
        """
        if destination is None:
            destination = OrderedDict()
        hooks = self.__dict__.get("_state_dict_hooks", {})
        for h in list(hooks.get("pre", ())):
            h.fn(self, prefix, keep_vars)
        for name, t in self._local_state():
            destination[prefix + name] = t if keep_vars else t.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for h in list(hooks.get("post", ())):
            if h.fn(self, destination, prefix, {"version": self._version}) is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy tensors (or NumPy arrays) from `state_dict` into this module's parameters/buffers.

        The copy is in place, so tied parameters stay tied and an optimizer holding the
        parameters keeps working. Every key is checked before anything is written: on an error
        (size mismatch; missing/unexpected keys when `strict`) the module is left unchanged and a
        RuntimeError lists all the problems, worded like PyTorch's.
        Returns a NamedTuple (missing_keys, unexpected_keys).

        Hooks, walking the tree as PyTorch does: a module's load pre-hooks run before its own
        keys are checked and may edit the state dict it sees (a copy: the caller's is never
        changed) and the key lists; its post-hooks run after its children are loaded and may
        edit `incompatible_keys` in place (strict then judges the edited lists). With post-hooks
        in the tree, each module is loaded as it is visited, as in PyTorch, so that a hook sees
        its modules loaded: an error then leaves the valid entries copied.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)  # (a PyTorch state dict has one)
        missing, unexpected, error_msgs, copies = [], [], [], []
        eager = any(m.__dict__.get("_state_dict_hooks", {}).get("load_post")
                    for m in self.modules())

        def load(module, local, prefix):
            hooks = module.__dict__.get("_state_dict_hooks", {})
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            for h in list(hooks.get("load_pre", ())):
                h.fn(module, local, prefix, local_metadata, True, missing, unexpected, error_msgs)
            module._check_local_state(local, prefix, missing, unexpected, error_msgs, copies)
            if eager:
                _copy_into(copies)
                copies.clear()
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)},
                         child_prefix)
            for h in list(hooks.get("load_post", ())):
                if h.fn(module, _IncompatibleKeys(missing, unexpected)) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")

        load(self, OrderedDict(state_dict), "")
        if strict:
            if unexpected:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)))
        _copy_into(copies)  # (nothing left when eager)
        return _IncompatibleKeys(missing, unexpected)

    def _check_local_state(self, state_dict, prefix, missing, unexpected, error_msgs, copies):
        """Match this module's own entries (not its children's) against the keys under `prefix`:
        note missing and unexpected keys and bad values, and queue (target, array) copies."""
        local = dict(self._local_state())
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                array = value._data
            elif isinstance(value, np.ndarray | np.generic):
                array = np.asarray(value)
            else:
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "numpy2gpt.Tensor or a NumPy array from checkpoint but "
                                  f"received {type(value)}")
                continue
            if array.shape != target._data.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_size(array.shape)} from checkpoint, the shape in current model is "
                    f"{_size(target.shape)}.")
                continue
            if array.dtype.kind not in "fiub":
                error_msgs.append(f'While copying the parameter named "{key}": unsupported '
                                  f"dtype {array.dtype} in checkpoint")
                continue
            copies.append((target, array))
        for key in state_dict:  # a key under prefix that names neither an entry nor a child
            if key.startswith(prefix):
                first = key[len(prefix):].split(".", 1)[0]
                if first not in self._modules and first not in local:
                    unexpected.append(key)

    # ----- state-dict hooks --------------------------------------------------------------------
    def register_state_dict_pre_hook(self, hook):
        """Call `hook(module, prefix, keep_vars)` before `state_dict()` adds this module's
        entries. Returns a handle (`remove()`)."""
        return self._add_state_dict_hook("pre", hook)

    def register_state_dict_post_hook(self, hook):
        """Call `hook(module, state_dict, prefix, local_metadata)` after `state_dict()` has added
        this module's and its children's entries; it may edit `state_dict` in place and must
        return None. Returns a handle (`remove()`)."""
        return self._add_state_dict_hook("post", hook)

    def register_load_state_dict_pre_hook(self, hook):
        """Call `hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)` before `load_state_dict` checks this module's keys; it may
        edit `state_dict` (e.g. rename old keys) and the lists in place. Returns a handle."""
        return self._add_state_dict_hook("load_pre", hook)

    def register_load_state_dict_post_hook(self, hook):
        """Call `hook(module, incompatible_keys)` after `load_state_dict` has loaded the module;
        it may edit incompatible_keys.missing_keys / .unexpected_keys in place (before strict
        judges them) and must return None. Returns a handle (`remove()`)."""
        return self._add_state_dict_hook("load_post", hook)

    def _add_state_dict_hook(self, kind, hook):
        hooks = self.__dict__.setdefault("_state_dict_hooks", {})
        entry = _Hook(hook)
        hooks.setdefault(kind, []).append(entry)
        return RemovableHandle(hooks, kind, entry)

    # ----- modes, gradients, dtypes ---------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout active) on this module and all descendants."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: same as `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, else zero them in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            elif p.grad.is_sparse:
                p.grad.zero_()  # (no stored entries left)
            elif p.grad._data.flags.writeable:
                p.grad._data.fill(0)
            else:
                p.grad = Tensor._make(np.zeros_like(p.grad._data))

    def apply(self, fn):
        """Call `fn(module)` on every descendant and then on self (e.g. custom initialisation)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, fn):
        """Replace the array of every parameter and gradient by `fn(array)` in place, and every
        buffer that `fn` changes by a new tensor, as PyTorch's `_apply` does.

        The Parameter objects stay the same (so optimizers and tied weights keep working); a
        reference to an old buffer keeps the old values and dtype.
        """
        for module in self.modules():
            for t in module._parameters.values():
                if t is not None:
                    t._data = fn(t._data)
                    if t.grad is not None:
                        t.grad._data = fn(t.grad._data)
            for name, t in module._buffers.items():
                if t is None or (array := fn(t._data)) is t._data:
                    continue
                if type(t) is Tensor:
                    module._buffers[name] = Tensor._make(array).requires_grad_(t.requires_grad)
                else:  # an UninitializedBuffer (or other subclass) keeps its kind, cast
                    t._data = array
        return self

    def to(self, *args, dtype=None, device=None, **kwargs):
        """`to(dtype)`, `to("cpu")`, `to(device("cpu"), dtype)`: cast floating parameters and
        buffers."""
        dtype = dtype_of_to_args(args, dtype, device)
        if dtype is None:
            return self
        dtype = dtypes.to_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype_name(dtype)}")
        return self._apply_to_tensors(
            lambda a: a.astype(dtype, copy=False) if a.dtype.kind == "f" else a)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def type(self, dst_type):
        return self.to(dst_type)

    def cpu(self):
        return self

    def cuda(self, device=None):
        check_device("cuda")

    def share_memory(self):
        return self

    # ----- printing ------------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """Override to show a layer's settings inside its repr, e.g. 'in_features=4, ...'."""
        return ""

    def __repr__(self):
        extra_lines = self.extra_repr().split("\n") if self.extra_repr() else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _copy_into(copies):
    """Write each (target tensor, array) pair, unrecorded: cast to the target's dtype, in place."""
    with no_grad():
        for target, array in copies:
            target.copy_(Tensor._make(array))  # (bumps the target's version)


def _size(shape):
    return repr(Size(shape))  # numpy2gpt.Size([3, 4]), as PyTorch prints torch.Size([3, 4])
