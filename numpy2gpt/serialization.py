"""numpy2gpt.save / numpy2gpt.load: checkpoints as one safetensors file.

PyTorch pickles checkpoints, and unpickling can run any code the file contains. numpy2gpt
never does: a checkpoint is a safetensors file, which holds
  * the arrays, each under its own name: the path of keys that leads to it in the saved object
    ("transformer.wte.weight" in a state dict, "model.transformer.wte.weight" in a training
    checkpoint), so any safetensors reader sees the state dict's names, and
  * in the header's text metadata, a JSON description of the object's structure, where each
    tensor is replaced by a reference to its array ({"__tensor__": "transformer.wte.weight"}),
    with its requires_grad flag and whether it is an nn.Parameter, and
  * a SHA-256 checksum of each array's bytes, checked on load: damaged weights are refused
    instead of training on NaN.
Loading parses JSON and copies bytes into arrays; nothing from the file is ever executed.

What can be saved: nested dicts (any str/int/float/bool/None keys), lists, tuples, Tensors, NumPy
arrays, numbers, strings, bools and None - which covers model and optimizer state dicts,
training-loop counters and RNG states. A tensor reached twice (tied weights) is stored once and
loads as one shared tensor. A plain safetensors file (no numpy2gpt metadata, e.g. downloaded model
weights) loads as a flat dict name -> Tensor; bfloat16 arrays, which NumPy lacks, load as float32.

Writes are atomic: the file is written under a temporary name in the same directory, flushed to
disk (fsync) and renamed over the target, so a failed or interrupted save leaves the previous
checkpoint intact (and no temporary file behind).
"""

import hashlib
import io
import json
import os
import re
import secrets
import struct
import warnings
from collections import OrderedDict

import numpy as np
from numpy.lib.array_utils import byte_bounds

from .tensor import Tensor, device

__all__ = ["save", "load"]

FORMAT = "numpy2gpt"
FORMAT_VERSION = "2"  # version 1 stored the arrays under the keys t0, t1, ...
READABLE_VERSIONS = ("1", "2")
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header

# NumPy dtype <-> safetensors dtype code (safetensors stores little-endian data)
DTYPE_CODES = {np.dtype(t): code for t, code in [
    (np.bool_, "BOOL"), (np.uint8, "U8"), (np.int8, "I8"), (np.uint16, "U16"), (np.int16, "I16"),
    (np.float16, "F16"), (np.uint32, "U32"), (np.int32, "I32"), (np.float32, "F32"),
    (np.uint64, "U64"), (np.int64, "I64"), (np.float64, "F64")]}
CODE_DTYPES = {code: dt.newbyteorder("<") for dt, code in DTYPE_CODES.items()}


def bfloat16_to_float32(raw):
    """bfloat16 values (as uint16 bit patterns) -> float32: a bfloat16 is the top 16 bits of a
    float32, so shifting them back into place gives the same number exactly."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def _raw(array):
    """The bytes of a C-contiguous array, as a flat uint8 view (no copy)."""
    return array.reshape(-1).view(np.uint8)


def checksum(array):
    """SHA-256 of an array's bytes (hardware-accelerated on current CPUs: ~1 GB/s)."""
    return hashlib.sha256(_raw(array)).hexdigest()


class _Encoder:
    """Turn a Python object into a JSON-able structure plus a dict name -> array."""

    def __init__(self):
        self.arrays = {}  # name -> contiguous little-endian array
        self.keys_by_id = {}  # id(array) -> name: a shared array (tied weights) is stored once
        self.keep_alive = []  # the arrays whose id we remember must not be freed meanwhile
        self.tensor_nodes = []  # (node, array) of every tensor, for link_views
        self.ndarray_keys = set()  # the names of arrays saved as NumPy arrays (never views)

    def array_key(self, arr, path, where):
        key = self.keys_by_id.get(id(arr))
        if key is None:
            if arr.dtype.newbyteorder("=") not in DTYPE_CODES:
                raise TypeError(f"numpy2gpt.save cannot store dtype {arr.dtype} (at {where}); "
                                f"safetensors holds bool, integers and float16/32/64")
            key = _unique(".".join(path) or "tensor", self.arrays)
            stored = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
            # (not np.ascontiguousarray: it would turn a 0-d array into a 1-d one)
            self.arrays[key] = stored if stored.flags.c_contiguous else stored.copy(order="C")
            self.keys_by_id[id(arr)] = key
            self.keep_alive.append(arr)
        return key

    def encode(self, obj, where, path=()):
        if obj is None or isinstance(obj, bool | int | str):
            return obj
        if isinstance(obj, float):
            if obj != obj or obj in (float("inf"), float("-inf")):
                return {"__float__": repr(obj)}  # JSON has no NaN/inf
            return obj
        if isinstance(obj, Tensor):
            node = {"__tensor__": self.array_key(obj._data, path, where)}
            self.tensor_nodes.append((node, obj._data))
            if obj.requires_grad:  # kept, as torch.save keeps it
                node["requires_grad"] = True
            if type(obj).__name__ == "Parameter":
                node["parameter"] = True
            return node
        if isinstance(obj, np.ndarray):
            key = self.array_key(obj, path, where)
            self.ndarray_keys.add(key)
            return {"__ndarray__": key}
        if isinstance(obj, np.generic):  # NumPy scalar: store as the Python number
            return self.encode(obj.item(), where, path)
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]", (*path, str(i))) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]", (*path, str(i)))
                                  for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = [[self.encode_key(k, where), self.encode(v, f"{where}[{k!r}]", (*path, str(k)))]
                     for k, v in obj.items()]
            plain = type(obj) is dict and all(
                isinstance(k, str) and not k.startswith("__") for k in obj)
            if plain:  # the common case stays a readable JSON object
                return {k: v for k, v in items}
            return {"__odict__" if isinstance(obj, OrderedDict) else "__dict__": items}
        if callable(getattr(obj, "state_dict", None)):  # a whole Module, optimizer, scheduler
            raise TypeError(f"numpy2gpt.save stores data, never objects (loading those would "
                            f"run code from the file); got a {type(obj).__name__} at {where}: "
                            f"save its .state_dict() and load that with .load_state_dict()")
        raise TypeError(f"numpy2gpt.save can store tensors, arrays, numbers, strings, None and "
                        f"dicts/lists/tuples of them; got {type(obj).__name__} at {where}")

    def link_views(self):
        """Store each tensor that views another saved tensor's memory as a view of it, as
        torch.save does (both share one storage): {"__tensor__": name of the other, "view":
        [offset, shape, strides]} in elements. It then loads as a view too: writes through it
        reach the other tensor. Memory that no single saved tensor covers whole (two slices of
        an unsaved tensor, say) is stored once per tensor, and loads unshared."""
        groups = {}  # the arrays that are views of one base array
        for _, arr in self.tensor_nodes:
            if arr.size:
                groups.setdefault(id(_root(arr)), {})[id(arr)] = arr
        for members in groups.values():
            if len(members) < 2:
                continue
            bounds = {i: byte_bounds(a) for i, a in members.items()}
            whole = (min(b[0] for b in bounds.values()), max(b[1] for b in bounds.values()))
            owner = next((a for i, a in members.items()
                          if bounds[i] == whole and a.flags.c_contiguous), None)
            if owner is None:
                continue
            item = owner.itemsize
            for node, arr in self.tensor_nodes:
                if (id(arr) in members and arr is not owner and arr.dtype == owner.dtype
                        and all(st >= 0 and st % item == 0 for st in arr.strides)):
                    node["__tensor__"] = self.keys_by_id[id(owner)]
                    node["view"] = [(bounds[id(arr)][0] - whole[0]) // item, list(arr.shape),
                                    [st // item for st in arr.strides]]
        used = {node["__tensor__"] for node, _ in self.tensor_nodes} | self.ndarray_keys
        self.arrays = {k: a for k, a in self.arrays.items() if k in used}

    def encode_key(self, k, where):
        if k is None or isinstance(k, bool | int | float | str):
            return self.encode(k, where)
        if isinstance(k, np.generic):
            return k.item()
        raise TypeError(f"numpy2gpt.save: dict keys must be str, int, float, bool or None; got "
                        f"{type(k).__name__} at {where}")


def _root(array):
    """The array that owns the memory `array` views (NumPy's chain of .base; as_strided, which
    makes expand()'s views, puts a wrapper holding the array in that chain)."""
    while True:
        base = array.base
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)  # as_strided's DummyArray
        if not isinstance(base, np.ndarray):
            return array
        array = base


def _unique(name, taken):
    """`name`, or `name#2`, `name#3`... when it is taken ({"a.b": x, "a": {"b": y}} gives two
    "a.b") or is safetensors' reserved "__metadata__"."""
    candidate, n = name, 1
    while candidate in taken or candidate == "__metadata__":
        n += 1
        candidate = f"{name}#{n}"
    return candidate


def _decode(node, arrays, cache):
    """The inverse of _Encoder.encode (`cache` makes a shared array one shared Tensor again)."""
    if isinstance(node, list):
        return [_decode(v, arrays, cache) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        view = json.dumps(node.get("view"))
        key = (node["__tensor__"], view, bool(node.get("requires_grad")),
               bool(node.get("parameter")))
        if key not in cache:
            array = arrays[key[0]]
            if node.get("view") is not None:
                array = _view(array, *node["view"])
            cache[key] = _tensor(array, *key[2:])
        return cache[key]
    if len(node) == 1:
        (tag, value), = node.items()
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


def _view(array, offset, shape, strides):
    """The view of `array`'s memory starting at element `offset` with `shape` and `strides` (in
    elements); a view reaching outside the array is a damaged record (ValueError)."""
    flat = array.reshape(-1)
    shape, strides = tuple(int(n) for n in shape), tuple(int(st) for st in strides)
    reach = sum((n - 1) * st for n, st in zip(shape, strides)) if all(shape) else -1
    if (len(shape) != len(strides) or min(strides, default=0) < 0 or min(shape, default=0) < 0
            or offset < 0 or offset + reach >= max(flat.size, 1)):
        raise ValueError(f"a view (offset {offset}, shape {list(shape)}, strides "
                         f"{list(strides)}) reaches outside its {flat.size} elements")
    return np.lib.stride_tricks.as_strided(flat[offset:], shape,
                                           [st * array.itemsize for st in strides])


def _tensor(array, requires_grad, parameter):
    if parameter:
        from .nn.parameter import Parameter

        return Parameter(array, requires_grad=requires_grad)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save `obj` (e.g. a state dict) to the path `f`, or into a binary file object `f`."""
    enc = _Encoder()
    structure = enc.encode(obj, "obj")
    enc.link_views()
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "structure": json.dumps(structure, separators=(",", ":")),
                "sha256": json.dumps({k: checksum(a) for k, a in enc.arrays.items()},
                                     separators=(",", ":"))}
    if not _is_path(f):
        if not hasattr(f, "write"):
            raise AttributeError("expected 'f' to be string, path, or a file-like object with "
                                 "a 'write' attribute")
        write_safetensors(f, enc.arrays, metadata)
        return
    path = os.fspath(f)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent or "."):
        raise RuntimeError(f"Parent directory {parent} does not exist.")
    # through a symbolic link, as torch.save writes: the file it points to is replaced
    _atomic_write(os.path.realpath(path), lambda fh: write_safetensors(fh, enc.arrays, metadata))


def _is_path(f):
    """A file name, as torch.save and torch.load take one: a str or an os.PathLike."""
    return isinstance(f, str | os.PathLike)


def write_safetensors(fh, arrays, metadata=None):
    """Write `arrays` (name -> C-contiguous little-endian array) to the binary file `fh` in the
    safetensors layout: the header's length (8 bytes, little-endian), the JSON header (name ->
    dtype, shape and byte offsets, plus the text `metadata`), then each array's bytes.

    Written here rather than by safetensors.numpy.save_file so that a failed write is a plain
    OSError (ENOSPC, EFBIG...) and no second copy of the data is built in memory.
    """
    # the widest dtypes first: every array then starts at a multiple of its item size
    names = sorted(arrays, key=lambda k: -arrays[k].dtype.itemsize)
    header = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for k in names:
        a = arrays[k]
        header[k] = {"dtype": DTYPE_CODES[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                     "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # safetensors pads its header to 8 bytes with spaces
    fh.write(struct.pack("<Q", len(text)) + text)
    for k in names:
        fh.write(_raw(arrays[k]))


def stage(path, write):
    """Run `write(fh)` on a new temporary file beside `path` and fsync it; return the temporary
    file's path (not yet in place: the caller renames it over `path`).

    When writing fails (disk full, file size limit, read-only folder) or is interrupted, the
    temporary file is removed and an OSError says in one line which file was not written and why.
    """
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # the bytes are on disk before the rename makes them visible
    except BaseException as e:
        try:
            os.remove(tmp)
        except OSError:
            pass  # never created
        if isinstance(e, OSError):
            raise not_written(path, e) from None
        raise
    return tmp


def _atomic_write(path, write):
    """Write `path` all or nothing: `stage` a temporary file, then rename it over `path`.

    A failed or interrupted write leaves the previous file at `path` untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"numpy2gpt.save: directory {directory!r} does not exist")
    tmp = stage(path, write)
    try:
        os.replace(tmp, path)
    except OSError as e:
        os.remove(tmp)
        raise not_written(path, e) from None
    try:  # make the rename itself durable (POSIX; not possible on every platform)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def not_written(path, e):
    """The one-line OSError for a failed write of `path` (keeps the errno of the cause `e`)."""
    kept = ("the previous file there is unchanged" if os.path.exists(path) else
            "no file was created")
    err = OSError(f"could not write {path}: {e.strerror or e}; nothing was saved ({kept})")
    err.errno = e.errno
    return err


def _bad_file(name, why):
    return RuntimeError(f"numpy2gpt.load: {name} is not a valid checkpoint: {why}")


def _read_header(fh, size, name):
    """Check the safetensors layout of the open file `fh` of `size` bytes; return its header
    and where its data begins.

    Every check names the file and says what is wrong, instead of failing deep inside a parser.
    """
    def bad(why):
        return _bad_file(name, why)

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
    return header, 8 + n


def _read_arrays(fh, header, start, name, checksums):
    """The arrays described by `header`, read from `fh` whose data section begins at `start`;
    each is checked against its SHA-256 in `checksums` (name -> hex) when there is one."""
    def bad(why):
        return _bad_file(name, why)

    arrays = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            code, shape = info["dtype"], tuple(int(n) for n in info["shape"])
            lo, hi = (int(n) for n in info["data_offsets"])
        except (TypeError, KeyError, ValueError):
            raise bad(f"entry {key!r} of its header has no valid dtype, shape and "
                      "data_offsets") from None
        dtype = np.dtype("<u2") if code == "BF16" else CODE_DTYPES.get(code)
        if dtype is None:
            raise bad(f"tensor {key!r} has dtype {code}, which NumPy cannot hold (numpy2gpt "
                      "reads BOOL, U8-U64, I8-I64, F16, BF16, F32 and F64)")
        if min(shape, default=0) < 0 or hi - lo != int(np.prod(shape)) * dtype.itemsize or lo < 0:
            raise bad(f"tensor {key!r} has shape {list(shape)} of {code} but "
                      f"data_offsets [{lo}, {hi}]")
        buf = bytearray(hi - lo)  # a writable buffer: the tensor owns its memory
        fh.seek(start + lo)
        if fh.readinto(buf) != len(buf):
            raise bad(f"tensor {key!r} is cut short (truncated file?)")
        if key in checksums and hashlib.sha256(buf).hexdigest() != checksums[key]:
            raise RuntimeError(f"numpy2gpt.load: {name} is damaged: the data of tensor {key!r} "
                               "does not match the checksum saved with it (restore the file "
                               "from a copy, or train again)")
        array = np.frombuffer(buf, dtype).reshape(shape)
        arrays[key] = bfloat16_to_float32(array) if code == "BF16" else array
    return arrays


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by `numpy2gpt.save` from a path or a binary file object.

    numpy2gpt never unpickles: it always loads data only, as `weights_only=True` does, and
    `mmap` reads the file as usual. The arguments get torch.load's checks: `pickle_module` with
    `weights_only=True`, the keyword arguments of its unpickler, `mmap` for a path only, and
    `map_location` (`_check_map_location`).
    """
    if weights_only is None:  # PyTorch's default: data only, unless a pickle module is given
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    _check_unpickler_args(pickle_load_args, weights_only)
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if not _is_path(f):  # a file object: read it whole
        _check_seekable(f)
        data = f.read()
        return _load_from(io.BytesIO(data), len(data),
                          repr(getattr(f, "name", "<file object>")), map_location)
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"numpy2gpt.load: no such file: {path!r}")
    with open(path, "rb") as fh:
        return _load_from(fh, os.fstat(fh.fileno()).st_size, repr(path), map_location)


def _check_unpickler_args(kwargs, weights_only):
    """torch.load passes its extra keyword arguments to its unpickler, which refuses those it
    does not know: the weights-only one takes `encoding`, pickle's also `fix_imports`, `errors`
    and `buffers` (all ignored here: nothing is unpickled)."""
    if weights_only:
        if kwargs:
            warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=3)
        for key in kwargs:
            if key != "encoding":
                raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument "
                                f"'{key}'")
    for key in kwargs:
        if key not in ("encoding", "fix_imports", "errors", "buffers"):
            raise TypeError(f"'{key}' is an invalid keyword argument for Unpickler()")


def _check_seekable(f):
    """torch.load's check of a file object: it must be seekable (one line naming what to do)."""
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as e:
        if "seek" in str(e) or "tell" in str(e):
            raise type(e)(f"{e}. You can only torch.load from a file that is seekable. Please "
                          "pre-load the data into a buffer like io.BytesIO and try to load from "
                          "it instead.") from None
        raise


def _check_map_location(map_location):
    """torch.load's check of where `map_location` sends a tensor saved on the CPU (made when
    the file holds a tensor, as PyTorch's is): a function (not called: it would need a PyTorch
    storage), a dict (its entry for "cpu", if any), or a device or device string. The CPU and
    PyTorch's "meta" load as CPU tensors; a CUDA device is PyTorch's error on a machine without
    one, any other place the error of a device PyTorch cannot restore to."""
    if map_location is None:
        return
    if isinstance(map_location, dict):
        location = map_location.get("cpu", "cpu")
    elif isinstance(map_location, str | device):
        location = str(map_location)
    elif not callable(map_location):
        raise TypeError(f"'{type(map_location).__name__}' object is not callable")
    else:
        return
    if location in ("cpu", "meta"):
        return
    if location == "cuda" or re.match("cuda(:|[0-9]+)", location):
        device(location)  # "Invalid device string" for a malformed one
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "torch.cuda.is_available() is False. If you are running on a CPU-only "
                           "machine, please use torch.load with map_location=torch.device('cpu') "
                           "to map your storages to the CPU.")
    raise RuntimeError("don't know how to restore data location of "
                       f"torch.storage.UntypedStorage (tagged with {location})")


def _load_from(fh, size, name, map_location=None):
    header, start = _read_header(fh, size, name)
    if any(key != "__metadata__" for key in header):  # the file holds a tensor
        _check_map_location(map_location)
    meta = header.get("__metadata__") or {}
    ours = isinstance(meta, dict) and meta.get("format") == FORMAT
    if ours and meta.get("format_version") not in READABLE_VERSIONS:
        raise RuntimeError(f"numpy2gpt.load: {name} has checkpoint format version "
                           f"{meta.get('format_version')!r}; this numpy2gpt reads versions "
                           f"{', '.join(READABLE_VERSIONS)}")
    try:
        checksums = json.loads(meta["sha256"]) if ours and "sha256" in meta else {}
        if not isinstance(checksums, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        raise RuntimeError(f"numpy2gpt.load: {name} has a damaged checksum record: {e}") from None
    arrays = _read_arrays(fh, header, start, name, checksums)
    if not ours:  # a plain safetensors file: a flat dict of tensors
        return {k: Tensor._make(a) for k, a in arrays.items()}
    try:
        structure = json.loads(meta["structure"])
        return _decode(structure, arrays, {})
    except (KeyError, ValueError, TypeError) as e:
        raise RuntimeError(f"numpy2gpt.load: {name} has a damaged structure record: "
                           f"{type(e).__name__}: {e}") from None
