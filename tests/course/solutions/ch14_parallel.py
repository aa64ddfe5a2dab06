"""Reference solution of docs/course/exercises/ch14_parallel.py."""


def average_gradients(shard_grads, shard_sizes):
    total = sum(shard_sizes)
    # shard r's mean gradient is (sum of its examples' gradients) / n_r: weight it by n_r / total
    return [sum(grads[i] * (n / total) for grads, n in zip(shard_grads, shard_sizes))
            for i in range(len(shard_grads[0]))]
