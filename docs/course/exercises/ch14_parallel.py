"""Chapter 14 exercise: the full batch's gradient from shards of unequal sizes.

Fill in the function, then run `pytest docs/course/exercises -k ch14`.
"""


def average_gradients(shard_grads, shard_sizes):
    """The gradient of the whole batch's mean loss, from each shard's mean-loss gradients.

    shard_grads: one list per shard, holding that shard's gradients (NumPy arrays, one per
                 parameter, in the same order in every shard);
    shard_sizes: how many examples each shard had.
    Returns one list of arrays, one per parameter. With equal sizes it is the plain mean over
    shards; with unequal ones, a shard of more examples must count for more.
    """
    raise NotImplementedError("ch14: weight each shard's mean gradient by its share of the batch")
