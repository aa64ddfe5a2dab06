"""Running PyTorch code unchanged: with `as_torch()`, `import torch` gives numpy2gpt.

`as_torch()` puts a finder at the front of `sys.meta_path` that answers the import of `torch`, or
of `torch.X.Y`, with the module `numpy2gpt`, or `numpy2gpt.X.Y`: the same module object, not a
copy, so `torch.nn is numpy2gpt.nn` and a debugger steps from the script into numpy2gpt's code.
A torch module numpy2gpt has no counterpart for fails at its import with one line naming it.
`run_script` runs a file the way `python SCRIPT ARGS` would, with the finder installed: it is
`numpy2gpt run SCRIPT ARGS`.
"""

import importlib
import importlib.abc
import importlib.util
import os
import pkgutil
import runpy
import sys

import numpy2gpt

# numpy2gpt's own modules: they stand in for no torch module, so `import torch.gpt` is refused.
_OWN = frozenset({"cli", "dtypes", "gpt", "kernels", "ops", "tensor", "torch_hook"})


class NotCoveredError(ModuleNotFoundError):
    """`import torch.X` where numpy2gpt has no `numpy2gpt.X`."""


def covered():
    """The torch modules numpy2gpt stands in for: 'torch', 'torch.amp', 'torch.nn', ..."""
    names = sorted(m.name for m in pkgutil.iter_modules(numpy2gpt.__path__)
                   if m.name not in _OWN and not m.name.startswith("_"))
    return ["torch"] + [f"torch.{name}" for name in names]


def _stand_in(fullname):
    """The numpy2gpt module for `torch` / `torch.X.Y`, imported; NotCoveredError if none."""
    parts = fullname.split(".")
    target = ".".join(["numpy2gpt"] + parts[1:])
    if len(parts) == 1 or parts[1] not in _OWN:
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as e:
            if e.name is None or not (target == e.name or target.startswith(e.name + ".")):
                raise  # a module numpy2gpt.X itself imports is missing: not ours to rename
    raise NotCoveredError(f"numpy2gpt does not cover {fullname}: it stands in for "
                          f"{', '.join(covered())} (not every submodule of those)",
                          name=fullname)


class _SameModule(importlib.abc.Loader):
    """Loads `torch.X` as the already imported `numpy2gpt.X` itself."""

    def __init__(self, module):
        self.module, self.own_spec = module, module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.own_spec  # importlib set it to torch's; numpy2gpt.X keeps its own


class _TorchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        return importlib.util.spec_from_loader(fullname, _SameModule(_stand_in(fullname)))


def as_torch():
    """From now on, in this process, `import torch` (and `torch.X`) gives numpy2gpt (`numpy2gpt.X`).

    For notebooks: run `numpy2gpt.as_torch()` in the first cell, then the PyTorch code as it is.
    Refused when real PyTorch is already imported: the two cannot share the name `torch`.
    Returns the numpy2gpt module.
    """
    imported = sys.modules.get("torch")
    if imported is not None and imported is not numpy2gpt:
        raise RuntimeError("PyTorch is already imported in this process, so numpy2gpt cannot "
                           "stand in for it: call numpy2gpt.as_torch() (or use `numpy2gpt run`) "
                           "before anything imports torch")
    if not any(isinstance(finder, _TorchFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TorchFinder())
    return numpy2gpt


def run_script(path, args=()):
    """Run the Python file `path` as `python path *args` would (`__name__ == "__main__"`,
    `sys.argv`, the script's folder first on `sys.path`), with numpy2gpt standing in for torch."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"can't open file {path!r}: no such file")
    as_torch()
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    runpy.run_path(path, run_name="__main__")
