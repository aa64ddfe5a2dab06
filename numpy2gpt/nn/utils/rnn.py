"""Batches of sequences of different lengths for the recurrent layers (PyTorch's
torch.nn.utils.rnn): pad them to one length, or pack them so an RNN skips the padding.

A PackedSequence holds the steps of all sequences time-major without padding: `data` has the
first step of every sequence, then the second step of those that have one, and so on;
`batch_sizes[t]` says how many sequences have a step t. The sequences are in decreasing order of
length (so those are always the first batch_sizes[t] ones); `sorted_indices` gives that order in
the caller's batch and `unsorted_indices` undoes it (both None if the batch came sorted).
Packing and unpacking are indexing, so gradients flow through them.
"""

from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ...ops.creation import full
from ...ops.indexing import index_select
from ...ops.join import cat, stack
from ...tensor import Tensor, as_tensor, tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]


def _invert_permutation(permutation):
    if permutation is None:
        return None
    inverse = np.empty(len(permutation), dtype=np.int64)
    inverse[permutation.numpy()] = np.arange(len(permutation))
    return tensor(inverse)


class PackedSequence(namedtuple("PackedSequence_",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices): see the module docstring. Made by
    pack_padded_sequence or pack_sequence, not by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = _invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with its data converted (Tensor.to's arguments)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, *self[1:])

    def cpu(self):
        return self

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    @property
    def is_cuda(self):
        return False


def _pack_padded(padded, batch_sizes):
    """The packed data of a time-major padded batch (T, B, *) whose first batch_sizes[t]
    sequences have a step t (one gather: step t's rows are t * B + 0 .. batch_sizes[t] - 1)."""
    sizes = np.asarray(batch_sizes)
    steps, batch = padded.shape[:2]
    rows = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(sizes)])
    return padded.reshape(steps * batch, *padded.shape[2:])[rows]


def _packed_to_padded(data, batch_sizes, padding_value=0.0, total_length=None):
    """The time-major padded batch (T, B, *) of packed `data`: one gather from the data with a
    row of padding_value appended, which every padded position takes."""
    sizes = np.asarray(batch_sizes)
    steps = len(sizes) if total_length is None else total_length
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    batch = np.arange(sizes[0])
    rows = np.full((steps, sizes[0]), len(data), dtype=np.int64)  # the padding row
    for t, (start, n) in enumerate(zip(starts, sizes)):
        rows[t, :n] = start + batch[:n]
    padding = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    return cat([data, padding])[rows]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into one (T, B, *) tensor (or (B, T, *) with batch_first), T the
    longest length, the shorter ones padded with padding_value after (or before, with
    padding_side="left") their steps."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(s).__name__}")
    if any(s.dim() == 0 for s in sequences):
        raise RuntimeError("pad_sequence: every sequence must have at least one dimension (its "
                           "steps), got a 0-d tensor")
    first = sequences[0]
    longest = max(s.size(0) for s in sequences)
    padded = []
    for s in sequences:
        if s.shape[1:] != first.shape[1:]:
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing shape "
                               f"{list(first.shape[1:])} of the first, got {list(s.shape[1:])}")
        padding = full((longest - s.size(0), *s.shape[1:]), padding_value, dtype=first.dtype)
        s = s.to(first.dtype)
        padded.append(cat([s, padding] if padding_side == "right" else [padding, s]))
    return stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) whose sequence b has
    lengths[b] steps. With enforce_sorted, lengths must decrease; otherwise the batch is sorted
    (longest first; equal lengths keep their order) and the order kept in the PackedSequence."""
    lengths = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
    if lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D cpu Long tensor")
    lengths = lengths.astype(np.int64)
    sorted_indices = None
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths, sorted_indices = lengths[order], tensor(order)
        input = index_select(input, 0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    if len(lengths) != input.size(1):
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={input.size(1)})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if lengths[0] > input.size(0):
        raise RuntimeError(f"pack_padded_sequence: a length of {lengths[0]} is longer than the "
                           f"{input.size(0)} steps of the padded input")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(1)
    return PackedSequence(_pack_padded(input, batch_sizes), tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: (padded batch, lengths), in the batch's original order,
    padded to total_length steps if given."""
    steps = len(sequence.batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    sizes = sequence.batch_sizes.numpy()
    padded = _packed_to_padded(sequence.data, sizes, padding_value, steps)
    lengths = (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(1)  # steps of each sequence
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.numpy()]
    return padded, tensor(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Undo pad_sequence: the list of sequences padded[:lengths[b], b]."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, as_tensor(lengths).tolist())]


def unpack_sequence(packed_sequences):
    """Undo pack_sequence: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
