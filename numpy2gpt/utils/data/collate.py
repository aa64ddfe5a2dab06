"""Collation: a list of samples -> one batch (`default_collate`), as PyTorch's DataLoader does it.

The rules, by the type of the batch's first sample (PyTorch's, in its order):
  * Tensor -> the samples stacked on a new first dimension;
  * NumPy array -> as tensors, then stacked (arrays of strings or objects are refused);
    NumPy scalar -> one tensor of its dtype;
  * float -> a float64 tensor; int -> an int64 tensor (bool -> a bool tensor);
  * str, bytes -> the list as it is;
  * Mapping -> the same keys, each value collated over the batch;
  * namedtuple -> the same namedtuple, each field collated;
  * other sequences (tuples, lists) -> transposed, each position collated (a tuple gives a list).
`default_collate_fn_map` holds the type -> function table; a user may extend it, as in PyTorch.
"""

import collections
import copy
import re

import numpy as np

from ... import dtypes
from ...ops.join import stack
from ...tensor import Tensor, as_tensor, tensor

np_str_obj_array_pattern = re.compile(r"[SaUO]")  # NumPy dtypes of strings and objects

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def _rebuild_mapping(elem, values):
    """A mapping like `elem` (its own type when that can be made) holding `values`."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)  # keeps a subclass's own attributes
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:  # a mapping type that cannot be copied or built from a dict
        return values


def _rebuild_sequence(elem, values):
    """A sequence like `elem` (its own type when that can be made) holding `values`."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(elem)(values)
    except TypeError:  # e.g. range: no item assignment, no constructor from a list
        return list(values)


def default_convert(data):
    """Turn the NumPy arrays inside `data` into tensors, leaving everything else as it is: the
    DataLoader's collate function when automatic batching is off (`batch_size=None`)."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data  # arrays of strings or objects have no tensor
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as PyTorch
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate `batch` (a list of samples) by the type of its first element: a function of
    `collate_fn_map` for that type (or a base class of it), else the container rules above."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch],
                                                    collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        elem_size = len(elem)
        if not all(len(e) == elem_size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as PyTorch
        return _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=dtypes.float64)  # Python floats are doubles


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)  # int64 (bool for bools)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,  # and np.memmap, a subclass
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,  # NumPy scalars but strings
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Put a list of samples together as one batch, with PyTorch's rules (see the module's
    docstring): e.g. [(x0, 0), (x1, 1)] -> [stack([x0, x1]), tensor([0, 1])]."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
