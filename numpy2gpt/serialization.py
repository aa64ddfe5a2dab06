"""numpy2gpt.save / numpy2gpt.load: checkpoints as one safetensors file.

PyTorch pickles checkpoints, and unpickling can run any code the file contains. numpy2gpt
never does: a checkpoint is a safetensors file, which holds
  * the arrays (each tensor of the saved object, stored under a key "t0", "t1", ...), and
  * in the header's text metadata, a JSON description of the object's structure, where each
    tensor is replaced by a reference to its key: {"__tensor__": "t0"}.
Loading parses JSON and copies bytes into arrays; nothing from the file is ever executed.

What can be saved: nested dicts (any str/int/float/bool/None keys), lists, tuples, Tensors, NumPy
arrays, numbers, strings, bools and None - which covers model and optimizer state dicts,
training-loop counters and RNG states. A plain safetensors file (no numpy2gpt metadata, e.g.
downloaded model weights) loads as a flat dict name -> Tensor.

Writes are atomic: the file is written under a temporary name in the same directory, flushed to
disk (fsync) and renamed over the target, so a crash mid-save leaves the previous checkpoint intact.
"""

import io
import json
import os
import secrets
import stat
import struct
from collections import OrderedDict

import numpy as np
import safetensors.numpy

from .tensor import Tensor

__all__ = ["save", "load"]

FORMAT = "numpy2gpt"
FORMAT_VERSION = "1"
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


class _Encoder:
    """Turn a Python object into a JSON-able structure plus a dict key -> array."""

    def __init__(self):
        self.arrays = {}  # "t0" -> contiguous array
        self.keys_by_id = {}  # id(array) -> key: a shared array (tied weights) is stored once
        self.keep_alive = []  # the arrays whose id we remember must not be freed meanwhile

    def array_key(self, arr):
        key = self.keys_by_id.get(id(arr))
        if key is None:
            key = f"t{len(self.arrays)}"
            # (not np.ascontiguousarray: it would turn a 0-d array into a 1-d one)
            self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
            self.keys_by_id[id(arr)] = key
            self.keep_alive.append(arr)
        return key

    def encode(self, obj, where):
        if obj is None or isinstance(obj, bool | int | str):
            return obj
        if isinstance(obj, float):
            if obj != obj or obj in (float("inf"), float("-inf")):
                return {"__float__": repr(obj)}  # JSON has no NaN/inf
            return obj
        if isinstance(obj, Tensor):
            return {"__tensor__": self.array_key(obj.data)}
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self.array_key(obj)}
        if isinstance(obj, np.generic):  # NumPy scalar: store as the Python number
            return self.encode(obj.item(), where)
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = [[self.encode_key(k, where), self.encode(v, f"{where}[{k!r}]")]
                     for k, v in obj.items()]
            plain = type(obj) is dict and all(
                isinstance(k, str) and not k.startswith("__") for k in obj)
            if plain:  # the common case stays a readable JSON object
                return {k: v for k, v in items}
            return {"__odict__" if isinstance(obj, OrderedDict) else "__dict__": items}
        raise TypeError(f"numpy2gpt.save can store tensors, arrays, numbers, strings, None and "
                        f"dicts/lists/tuples of them; got {type(obj).__name__} at {where}")

    def encode_key(self, k, where):
        if k is None or isinstance(k, bool | int | float | str):
            return self.encode(k, where)
        if isinstance(k, np.generic):
            return k.item()
        raise TypeError(f"numpy2gpt.save: dict keys must be str, int, float, bool or None; got "
                        f"{type(k).__name__} at {where}")


def _decode(node, arrays, cache):
    """The inverse of _Encoder.encode (`cache` makes a shared array one shared Tensor again)."""
    if isinstance(node, list):
        return [_decode(v, arrays, cache) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (tag, value), = node.items()
        if tag == "__tensor__":
            if value not in cache:
                cache[value] = Tensor._make(arrays[value])
            return cache[value]
        if tag == "__ndarray__":
            return arrays[value]
        if tag == "__float__":
            return float(value)
        if tag == "__tuple__":
            return tuple(_decode(v, arrays, cache) for v in value)
        if tag in ("__dict__", "__odict__"):
            pairs = ((_decode(k, arrays, cache), _decode(v, arrays, cache)) for k, v in value)
            return OrderedDict(pairs) if tag == "__odict__" else dict(pairs)
    return {k: _decode(v, arrays, cache) for k, v in node.items()}


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save `obj` (e.g. a state dict) to the path `f`, or into a binary file object `f`."""
    enc = _Encoder()
    structure = enc.encode(obj, "obj")
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "structure": json.dumps(structure, separators=(",", ":"))}
    if hasattr(f, "write"):
        f.write(safetensors.numpy.save(enc.arrays, metadata=metadata))
        return
    path = os.fspath(f)
    _atomic_write(path, lambda tmp: safetensors.numpy.save_file(enc.arrays, tmp, metadata))


def _atomic_write(path, write):
    """Run `write(tmp_path)`, fsync, then rename tmp over `path` (all or nothing)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"numpy2gpt.save: directory {directory!r} does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}."
                                  f"{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb"):  # created the usual way, to learn the mode a new file gets here
            pass                # (0o666 less the umask), which safetensors' own 0o600 file lacks
        mode = stat.S_IMODE(os.stat(tmp).st_mode)
        write(tmp)
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable (POSIX; not possible on every platform)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _read_header(fh, size, name):
    """Check the safetensors layout of the open file `fh` of `size` bytes; return its header.

    Every check names the file and says what is wrong, instead of failing deep inside a parser.
    """
    def bad(why):
        return RuntimeError(f"numpy2gpt.load: {name} is not a valid checkpoint: {why}")

    first = fh.read(8)
    if len(first) < 8:
        raise bad(f"the file is {size} bytes long, too short for a safetensors header "
                  "(truncated or empty file?)")
    (n,) = struct.unpack("<Q", first)
    if n > _MAX_HEADER or 8 + n > size:
        # Only now suspect a PyTorch file: a valid header length can start with b"\x80" too.
        if first[:2] == b"PK" or first[:1] == b"\x80":
            raise bad("it looks like a PyTorch (zip/pickle) checkpoint. numpy2gpt never "
                      "unpickles (that could run code from the file); convert it with torch.load "
                      "and then numpy2gpt.save(state_dict) after turning tensors into NumPy arrays")
        if n > _MAX_HEADER:
            raise bad(f"its header length field says {n} bytes: not a safetensors file")
        raise bad(f"the header needs {n} bytes but the file has only {size - 8} after the "
                  "length field (truncated file?)")
    try:
        header = json.loads(fh.read(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad("its header is not valid JSON: not a safetensors file") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object: not a safetensors file")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            raise bad(f"entry {key!r} of its header has no valid data_offsets") from None
    if 8 + n + end > size:
        raise bad(f"the header describes {end} bytes of tensor data but only "
                  f"{size - 8 - n} are present (truncated file?)")
    return header


def _safetensors_call(fn, arg, name):
    """Run a safetensors loader; its own errors (unknown dtype, bad offsets...) name the file."""
    try:
        return fn(arg)
    except OSError:
        raise
    except Exception as e:
        raise RuntimeError(f"numpy2gpt.load: {name} is not a valid checkpoint: "
                           f"{type(e).__name__}: {e}") from None


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by `numpy2gpt.save` from a path or a binary file object.

    `map_location`, `weights_only` and `mmap` are accepted for PyTorch compatibility and ignored
    (numpy2gpt is CPU-only and always loads data only).
    """
    if hasattr(f, "read"):  # a file object: read it whole
        data = f.read()
        name = repr(getattr(f, "name", "<file object>"))
        header = _read_header(io.BytesIO(data), len(data), name)
        arrays = _safetensors_call(safetensors.numpy.load, data, name)
    else:
        path = os.fspath(f)
        name = repr(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"numpy2gpt.load: no such file: {path!r}")
        with open(path, "rb") as fh:
            header = _read_header(fh, os.fstat(fh.fileno()).st_size, name)
        arrays = _safetensors_call(safetensors.numpy.load_file, path, name)
    meta = header.get("__metadata__") or {}
    if meta.get("format") != FORMAT:  # a plain safetensors file: a flat dict of tensors
        return {k: Tensor._make(a) for k, a in arrays.items()}
    if meta.get("format_version") != FORMAT_VERSION:
        raise RuntimeError(f"numpy2gpt.load: {name} has checkpoint format version "
                           f"{meta.get('format_version')!r}; this numpy2gpt reads version "
                           f"{FORMAT_VERSION}")
    try:
        structure = json.loads(meta["structure"])
        return _decode(structure, arrays, {})
    except (KeyError, ValueError, TypeError) as e:
        raise RuntimeError(f"numpy2gpt.load: {name} has a damaged structure record: "
                           f"{type(e).__name__}: {e}") from None
