"""Reference solution of docs/course/exercises/ch10_gpt.py."""


def layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * weight + bias


def num_params(n_layer, n_embd, vocab_size, block_size, bias=True):
    C = n_embd
    per_block = 12 * C * C + (13 * C if bias else 2 * C)  # biases: 3C+C+4C+C, LN: 2 x (w [+ b])
    final_ln = 2 * C if bias else C
    return vocab_size * C + block_size * C + n_layer * per_block + final_ln
