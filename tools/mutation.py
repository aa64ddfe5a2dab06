"""Mutation check: do the tests catch small real bugs?

    python tools/mutation.py              # every mutant; exit status 0 only if all are caught
    python tools/mutation.py -k adamw     # the mutants whose name or file contains "adamw"
    python tools/mutation.py --list       # the mutants and their tests, nothing run
    python tools/mutation.py --explore -k lr   # run the mutants' whole test files, no -x, and
                                               # list every failing test (to choose the subset)

Each mutant below is a one-line bug: a string that must occur exactly once in one file of the
package, and what replaces it. The runner copies the package and the tests to a temporary
folder, checks that the unmutated copy passes every test the mutants name (the baseline: a
failure there would make "caught" meaningless), then for each mutant patches the copy, runs
`pytest -x` on that mutant's tests with the copy first on PYTHONPATH, and restores the file.
A mutant is caught when a test fails, survived when they all pass. It reports both, with the
first failing test of each caught mutant; the exit status is 1 if any mutant survived, its
line is not found exactly once, or its run errs. A surviving mutant means a missing test: add
one (or tighten one) until it fails, and name it here.

The whole run takes about 5 minutes on 2 cores (most of it pytest starting up, once per mutant).
The mutants' tests need no real training text (the GPT tests train on a generated one).
"""

import argparse
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Mutant:
    name: str  # what the bug is, as a reader would describe it
    path: str  # file inside numpy2gpt/
    old: str  # one line (or part of one) that occurs exactly once in the file
    new: str  # what it becomes
    tests: list  # pytest node ids (files or file::test) that must catch it


T = "tests/"
LR_EVERY_IT = T + "optim/test_lr_scheduler.py::test_warmup_cosine_lr_is_nanogpts_at_every_iteration"
MUTANTS = [
    # ----- the engine (numpy2gpt/autograd)
    Mutant("engine: two leaves handed the same gradient array (an optimizer edits both)",
           "autograd/engine.py",
           "owned = a is None or not (shared or a.base is not None or id(a) in given_to_leaves or",
           "owned = a is None or not (shared or",
           [T + "autograd/test_engine.py::"
            "test_grads_handed_to_different_leaves_are_separate_arrays"]),
    Mutant("engine: a leaf's gradient replaced instead of summed",
           "autograd/engine.py", "t.grad = old + g.detach()", "t.grad = g.detach()",
           [T + "autograd/test_engine.py::test_tensor_used_several_times_sums_its_gradients"]),
    Mutant("engine: a second backward replaces .grad instead of adding into it",
           "autograd/engine.py", "np.add(old._data, g._data, out=old._data)",
           "np.copyto(old._data, g._data)",
           [T + "autograd/test_engine.py::test_leaf_grad_accumulates_across_calls"]),
    Mutant("engine: two gradients for one output keep only the second",
           "autograd/engine.py", "    return b + a if a.is_sparse else a + b", "    return b",
           [T + "autograd/test_engine.py::test_residual_first_derivative_is_the_known_value"]),
    Mutant("engine: a retained non-leaf gradient replaced instead of summed",
           "autograd/engine.py", "y.grad = g if y.grad is None else y.grad + g", "y.grad = g",
           [T + "autograd/test_engine.py::test_retained_grad_accumulates_across_calls"]),
    Mutant("engine: autograd.grad skips the node that created a non-leaf input",
           "autograd/engine.py", "reach[fn] = leads_on or fn in targets", "reach[fn] = leads_on",
           [T + "autograd/test_engine.py::test_autograd_grad_with_respect_to_a_non_leaf"]),
    Mutant("engine: create_graph=True records no graph",
           "autograd/engine.py",
           'with set_grad_enabled(create_graph), np.errstate(all="ignore"):',
           'with set_grad_enabled(False), np.errstate(all="ignore"):',
           [T + "autograd/test_engine.py::test_second_order_through_backward_create_graph"]),
    # ----- primitive ops
    Mutant("x ** c: the first derivative built as a constant (no second derivative)",
           "ops/arithmetic.py", "return gy * (pow(x, c - 1) * c)",
           "return gy * (pow(x.detach(), c - 1) * c)",
           [T + "ops/test_join.py::test_cat_split_double_backward",
            T + "ops/test_indexing.py::test_getitem_double_backward"]),
    Mutant("a / b: d/db without its minus sign",
           "ops/arithmetic.py", "gb = sum_to(-gy * ((self.saved_input(0) / b) / b), b.shape)",
           "gb = sum_to(gy * ((self.saved_input(0) / b) / b), b.shape)",
           [T + "ops/test_arithmetic.py::test_binary_tensor_tensor_matches_torch"]),
    Mutant("tanh: derivative 1 - y instead of 1 - y^2",
           "ops/elementwise.py", "return gy * (1.0 - y * y)", "return gy * (1.0 - y)",
           [T + "ops/test_elementwise.py::test_unary_function_and_method_match_torch"]),
    Mutant("mean: gradient not divided by the element count",
           "ops/reduction.py", "return _spread(gy, shape, self.dims, self.keepdim) * (1.0 / n)",
           "return _spread(gy, shape, self.dims, self.keepdim)",
           [T + "ops/test_reduction.py::test_reduction_matches_torch"]),
    Mutant("broadcasting backward: the leading axes not summed away",
           "ops/_util.py", "axes = tuple(range(lead)) + tuple(",
           "axes = tuple(range(lead - 1)) + tuple(",
           [T + "ops/test_arithmetic.py::test_binary_tensor_tensor_matches_torch"]),
    Mutant("advanced indexing backward: repeated indices assigned, not accumulated",
           "ops/indexing.py", "np.add.at(gx, self.index, gy)", "gx[self.index] = gy",
           [T + "ops/test_indexing.py::test_getitem_matches_torch"]),
    # ----- fused ops (nn/functional)
    Mutant("layer_norm: eps left out of the variance",
           "kernels/layer_norm.py", "np.sqrt(var + eps, out=r)",
           "np.sqrt(var, out=r)",
           [T + "kernels/test_layer_norm.py::test_layer_norm_matches_torch"]),
    Mutant("softmax backward: the row sum of gy instead of gy * y",
           "kernels/softmax.py", "np.subtract(gyb, row_sum(gxb)[:, None], out=gxb)",
           "np.subtract(gyb, row_sum(gyb)[:, None], out=gxb)",
           [T + "nn/test_functional_softmax.py::test_matches_torch"]),
    Mutant("log_softmax backward: softmax not normalised",
           "kernels/softmax.py",
           "np.multiply(e2[lo:hi], (row_sum(gyb) / s1[lo:hi])[:, None], out=gxb)",
           "np.multiply(e2[lo:hi], row_sum(gyb)[:, None], out=gxb)",
           [T + "nn/test_functional_softmax.py::test_matches_torch"]),
    Mutant("cross_entropy: label smoothing's backward without the 1/C",
           "nn/functional/loss.py",
           "g_soft = g * (self.eps / self.saved[0].shape[1]) if self.eps else None",
           "g_soft = g * self.eps if self.eps else None",
           [T + "nn/test_functional_loss.py::test_cross_entropy_class_indices_match_torch"]),
    Mutant("cross_entropy: mean over all rows instead of the weights of the kept ones",
           "nn/functional/loss.py", "return np.asarray(_safe_divide(total, den) if den",
           "return np.asarray(_safe_divide(total, self.wt.size) if den",
           [T + "nn/test_functional_loss.py::test_cross_entropy_class_indices_match_torch"]),
    Mutant("gelu(tanh): derivative of x^3 without its 3",
           "kernels/gelu.py", "three_kappa_sqrt_2_pi=3 * _KAPPA * _SQRT_2_PI",
           "three_kappa_sqrt_2_pi=_KAPPA * _SQRT_2_PI",
           [T + "nn/test_functional_activation.py::test_gelu_matches_torch"]),
    Mutant("dropout: kept elements not scaled by 1 / (1 - p)",
           "kernels/dropout.py",
           "np.divide(v < below, scale, out=",
           "np.divide(v < below, 1, out=",
           [T + "nn/test_functional_activation.py::test_dropout_mask_scale_and_gradient"]),
    Mutant("causal mask: each query also sees the next key",
           "kernels/attention.py", "np.where(np.tri(n_q, n_k, dtype=bool)",
           "np.where(np.tri(n_q, n_k, 1, dtype=bool)",
           [T + "nn/test_functional_attention.py::test_matches_torch"]),
    Mutant("causal_self_attention backward: dK = dS Q (the transpose forgotten)",
           "kernels/attention.py", "np.matmul(ds.swapaxes(-1, -2), q, out=gk)",
           "np.matmul(ds, q, out=gk)",
           [T + "nn/test_functional_attention.py::"
            "test_causal_self_attention_matches_torch_and_the_split_path"]),
    Mutant("linear: the bias gradient averaged over rows instead of summed",
           "kernels/linear.py",
           "gb = _to_bias_shape(ones_vector(gy2.shape[0], gy2.dtype) @ gy2, bias_shape)",
           "gb = _to_bias_shape(ones_vector(gy2.shape[0], gy2.dtype) @ gy2 / gy2.shape[0], "
           "bias_shape)",
           [T + "kernels/test_linear.py::test_linear_matches_torch"]),
    Mutant("attention dropout: backward forgets the dropout multiplier",
           "kernels/attention.py", "ds *= mask  # dP = dP~ * M", "ds *= 1",
           [T + "nn/test_functional_attention.py::"
            "test_dropout_uses_the_generator_and_matches_the_reference"]),
    Mutant("cross_entropy: an ignored row's 0 * inf left in the loss (NaN)",
           "nn/functional/loss.py",
           "return loss if self.valid.all() else np.where(self.valid, loss, 0).astype(loss.dtype)",
           "return loss",
           [T + "nn/test_functional_loss.py::"
            "test_an_ignored_row_with_minus_inf_logits_adds_nothing_like_torch"]),
    Mutant("scatter: the overwritten positions of the input keep their gradient",
           "ops/indexing.py", "gx = masked_fill(gy, written, 0.0) if self.needs_input_grad[0]",
           "gx = gy if self.needs_input_grad[0]",
           [T + "ops/test_indexing.py::test_scatter_matches_torch"]),
    # ----- optimizers and gradient clipping
    Mutant("AdamW: no weight decay",
           "kernels/adamw.py", "return dict(decay=1 - s.lr * s.weight_decay,",
           "return dict(decay=1.0,",
           [T + "gpt/test_same_run_as_nanogpt.py::test_numpy2gpt_train_is_nanogpts_run[1]"]),
    Mutant("AdamW: half the weight decay",
           "kernels/adamw.py", "return dict(decay=1 - s.lr * s.weight_decay,",
           "return dict(decay=1 - s.lr * s.weight_decay / 2,",
           [T + "gpt/test_same_run_as_nanogpt.py::test_numpy2gpt_train_is_nanogpts_run[1]"]),
    Mutant("Adam: no bias correction of the first moment",
           "kernels/adamw.py", "minus_step_size=-(s.lr / (1 - s.beta1 ** s.step)))",
           "minus_step_size=-s.lr)",
           [T + "optim/test_optimizers.py::test_100_steps_match_pytorch_float64"]),
    Mutant("SGD: dampening ignored",
           "optim/sgd.py", "one_minus_dampening=1 - group[\"dampening\"]",
           "one_minus_dampening=1.0",
           [T + "optim/test_optimizers.py::test_100_steps_match_pytorch_float64"]),
    Mutant("clip_grad_norm_: the largest per-parameter norm instead of the joint norm",
           "kernels/clip.py",
           "return math.sqrt(sum(float(np.vdot(a, a)) for a in map(_wide, arrays)))",
           "return max(math.sqrt(float(np.vdot(a, a))) for a in map(_wide, arrays))",
           [T + "nn/test_utils.py::test_clip_grad_norm_matches_torch"]),
    Mutant("AdamW(amsgrad): the running maximum of v not kept",
           "kernels/adamw.py",
           "if vmax is not None:  # amsgrad: the running maximum of v replaces v in the "
           "denominator",
           "if False:  # amsgrad: the running maximum of v replaces v in the denominator",
           [T + "optim/test_optimizers.py::test_100_steps_match_pytorch_float64"]),
    # ----- learning-rate schedules
    Mutant("LR schedule: linear decay instead of nanoGPT's cosine",
           "optim/lr_scheduler.py", "coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))",
           "coeff = 1 - ratio",
           [LR_EVERY_IT,
            T + "gpt/test_train.py::test_every_step_uses_nanogpts_lr_through_a_resume"]),
    Mutant("LR schedule: warmup from 0 (it / warmup_iters)",
           "optim/lr_scheduler.py", "return learning_rate * (it + 1) / (warmup_iters + 1)",
           "return learning_rate * it / warmup_iters",
           [LR_EVERY_IT]),
    Mutant("LR schedule: the floor after lr_decay_iters is 0, not min_lr",
           "optim/lr_scheduler.py", "        return min_lr\n", "        return 0.0\n",
           [LR_EVERY_IT]),
    Mutant("train: decay_lr=False still decays",
           "gpt/train.py", "if not config.decay_lr:", "if False:",
           [T + "gpt/test_train.py::test_every_step_uses_nanogpts_lr_through_a_resume"]),
    Mutant("LR scheduler: load_state_dict loads nothing",
           "optim/lr_scheduler.py", "        self.__dict__.update(state_dict)",
           "        pass",
           [T + "optim/test_lr_scheduler.py::"
            "test_warmup_cosine_scheduler_is_nanogpts_and_resumes_mid_schedule"]),
    # ----- data batching and the training step
    Mutant("batches: targets are the inputs, not the next tokens",
           "gpt/data.py", "y = np.asarray(data[rows + 1], dtype=np.int64)",
           "y = np.asarray(data[rows], dtype=np.int64)",
           [T + "gpt/test_data.py::test_get_batch_shapes_targets_and_offsets"]),
    Mutant("batches: the last start position is never drawn",
           "gpt/data.py", "return rng.randint(0, n_tokens - block_size, (batch_size,))",
           "return rng.randint(0, n_tokens - block_size - 1, (batch_size,))",
           [T + "gpt/test_data.py::test_get_batch_uses_every_offset_up_to_the_last"]),
    Mutant("evaluation: the last batch's loss instead of the mean",
           "gpt/train.py", "out[split] = float(ranks.sum(losses).mean())",
           "out[split] = float(ranks.sum(losses)[-1])",
           [T + "gpt/test_same_run_as_nanogpt.py::test_numpy2gpt_train_is_nanogpts_run[1]"]),
    Mutant("gradient accumulation: micro-batch losses not divided by their number",
           "gpt/train.py", "(loss / steps).backward()", "loss.backward()",
           [T + "gpt/test_train.py::test_gradient_accumulation_equals_one_big_batch"]),
    Mutant("memory: blocks above 32 MiB mapped afresh at every allocation (a plain loop's "
           "page faults)", "utils/memory.py",
           "RELEASED = ((M_MMAP_THRESHOLD, 32 << 20), (M_MMAP_MAX, 0),",
           "RELEASED = ((M_MMAP_THRESHOLD, 32 << 20), (M_MMAP_MAX, 65536),",
           [T + "utils/test_tune_malloc.py::"
            "test_importing_numpy2gpt_keeps_freed_buffers_for_reuse"]),
    # ----- tokenizers
    Mutant("BPE training: pairs counted once per distinct chunk, not per occurrence",
           "gpt/tokenizers/bpe.py", "pair_counts[pair] += freqs[w]", "pair_counts[pair] += 1",
           [T + "gpt/test_tokenizers.py::test_bpe_counts_every_occurrence_of_a_pair"]),
    Mutant("BPE: overlapping occurrences of a pair merged (aaa -> two merges)",
           "gpt/tokenizers/bytelevel.py", "            i += 2", "            i += 1",
           [T + "gpt/test_tokenizers.py::test_gpt2_matches_hf_hand_picked"]),
    Mutant("char tokenizer: ids in order of appearance, not sorted",
           "gpt/tokenizers/char.py", "return cls(sorted(set(text)))",
           "return cls(list(dict.fromkeys(text)))",
           [T + "gpt/test_tokenizers.py::test_char_vocab_is_sorted_unique_chars"]),
    # ----- checkpoints and resume
    Mutant("resume: the random generator's state not restored",
           "gpt/train.py", "numpy2gpt.set_rng_state(rng[\"numpy2gpt\"])", "rng[\"numpy2gpt\"]",
           [T + "gpt/test_train.py::test_resume_after_max_iters_is_exact"]),
    Mutant("resume: AdamW's moments not restored",
           "gpt/train.py", "if \"optimizer\" in ckpt:",
           "if False:",
           [T + "gpt/test_train.py::test_resume_after_max_iters_is_exact"]),
    Mutant("checkpoint: iter_num saved one too high",
           "gpt/train.py", "\"iter_num\": self.iter_num, \"best_val_loss\"",
           "\"iter_num\": self.iter_num + 1, \"best_val_loss\"",
           [T + "gpt/test_train.py::test_resume_after_max_iters_is_exact"]),
    Mutant("resume: the evaluation at the checkpoint's iteration runs again",
           "gpt/train.py", "last_eval_iter = ckpt.get(\"last_eval_iter\")", "last_eval_iter = None",
           [T + "gpt/test_train.py::test_resume_after_max_iters_is_exact"]),
    # ----- sampling
    Mutant("top_k: the k-th largest logit dropped too",
           "gpt/decode.py", "logits[logits < kth] = -np.inf", "logits[logits <= kth] = -np.inf",
           [T + "gpt/test_decode.py::test_sample_keeps_ties_at_the_kth_logit_and_rejects_nan"]),
    Mutant("temperature: logits multiplied by it",
           "gpt/decode.py", "logits = logits / temperature", "logits = logits * temperature",
           [T + "gpt/test_model.py::test_sampling_filters_and_frequencies"]),
    Mutant("top_p: the token that crosses top_p dropped",
           "gpt/decode.py", "before = np.cumsum(sorted_probs, axis=-1) - sorted_probs",
           "before = np.cumsum(sorted_probs, axis=-1)",
           [T + "gpt/test_model.py::test_sampling_filters_and_frequencies"]),
    Mutant("KV cache: every new token gets position 0's embedding",
           "gpt/decode.py", "x = (self.wte[idx] + self.wpe[start:start + t])",
           "x = (self.wte[idx] + self.wpe[:t])",
           [T + "gpt/test_decode.py::test_logits_equal_model_forward"]),
    Mutant("generation: the window that slides past block_size drops one token too many",
           "gpt/model.py", "logits = decoder.prefill(tokens[:, max(0, n - block_size):n])",
           "logits = decoder.prefill(tokens[:, max(0, n - block_size + 1):n])",
           [T + "gpt/test_model.py::test_cached_generation_equals_uncached_past_block_size"]),
    Mutant("KV cache: the new token does not attend to itself",
           "gpt/decode.py", "p = softmax_forward(np.matmul(q, kt[..., :end]))",
           "p = softmax_forward(np.matmul(q, kt[..., :start]))",
           [T + "gpt/test_decode.py::test_logits_equal_model_forward"]),
    Mutant("double backward through a fused op: the inputs themselves, not stand-ins (a path "
           "between two inputs counts twice)",
           "autograd/engine.py",
           "stand_ins = [_StandIn()(x) if need else x for", "stand_ins = [x if need else x for",
           [T + "autograd/test_function.py::"
            "test_double_backward_through_a_fused_op_takes_partial_derivatives_like_pytorch"]),
    # ----- the wider PyTorch surface: tensor(), ops, layers, schedulers, data loading
    Mutant("tensor([t1, t2]): one-element tensors kept as rows (shape (2, 1))",
           "tensor.py", "        return data._data.reshape(()), data.requires_grad",
           "        return data._data, data.requires_grad",
           [T + "test_pytorch_compat.py::"
            "test_tensors_inside_a_list_are_read_as_the_number_they_hold"]),
    Mutant("stack: every input's gradient read along dim 0",
           "ops/join.py", "        return Unbind(self.dim)(gy)", "        return Unbind(0)(gy)",
           [T + "ops/test_join.py::test_stack_matches_torch"]),
    Mutant("einsum: a repeated letter's gradient not kept to the diagonal",
           "ops/linalg.py",
           "terms.append((letter + new, Tensor._make(np.eye(size, dtype=gy.dtype))))",
           "terms.append((letter + new, Tensor._make(np.ones((size, size), gy.dtype))))",
           [T + "ops/test_einsum.py::test_einsum_matches_torch"]),
    Mutant("cumprod with zeros: the suffix products skip a factor",
           "ops/stats.py", "a[k + 1] == 0, 0, a[k + 1] * s[k + 1])",
           "a[k + 1] == 0, 0, a[k] * s[k + 1])",
           [T + "ops/test_scans.py::test_cumprod_gradient_with_zeros"]),
    Mutant("rms_norm: the gradient through the root-mean-square left out",
           "nn/functional/normalization.py",
           "gx = rstd * (g - xhat * mean_gx)",
           "gx = rstd * g",
           [T + "nn/test_functional_more.py::test_rms_norm_matches_pytorch"]),
    Mutant("ReduceLROnPlateau: a relative threshold read as absolute",
           "optim/lr_scheduler.py", "return a < best * (1.0 - self.threshold)",
           "return a < best - self.threshold",
           [T + "optim/test_lr_scheduler_more.py::test_reduce_on_plateau_matches_pytorch"]),
    Mutant("DataLoader: no base seed drawn per epoch (the global stream drifts from PyTorch's)",
           "utils/data/dataloader.py", "self._base_seed = draw_seed(loader.generator)",
           "self._base_seed = 0",
           [T + "utils/test_dataloader.py::"
            "test_shuffled_epochs_and_the_generator_after_equal_pytorchs"]),
    Mutant("random_: a float tensor's integers stop one short of 2^mantissa",
           "ops/inplace.py", "(1 << np.finfo(self.dtype).nmant + 1) + 1",
           "(1 << np.finfo(self.dtype).nmant + 1)",
           [T + "test_random.py::test_random__equals_pytorchs_for_every_dtype_and_range"]),
]


# ----------------------------------------------------------------------------------------------
def make_copy():
    """A temporary copy of the package, the tests and pyproject.toml (no bytecode caches)."""
    root = Path(tempfile.mkdtemp(prefix="numpy2gpt-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("numpy2gpt", "tests"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def environment(root):
    return dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")


def pytest_command(tests, stop_at_first=True):
    cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"]
    if importlib.util.find_spec("xdist") is not None:
        cmd += ["-p", "no:xdist"]
    if importlib.util.find_spec("pytest_randomly") is not None:
        cmd += ["-p", "no:randomly"]
    return cmd + (["-x"] if stop_at_first else []) + list(tests)


def run_pytest(root, env, tests, timeout, stop_at_first=True):
    """(exit status or "timeout", output, seconds)."""
    t0 = time.monotonic()
    try:
        out = subprocess.run(pytest_command(tests, stop_at_first), cwd=root, env=env,
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode(errors="replace"), time.monotonic() - t0
    return out.returncode, out.stdout + out.stderr, time.monotonic() - t0


def failed_tests(output):
    return re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.M)


class Patch:
    """Apply a mutant to the copy (its line must occur exactly once) and undo it."""

    def __init__(self, root, mutant):
        self.file = root / "numpy2gpt" / mutant.path
        self.original = self.file.read_text(encoding="utf-8")
        self.count = self.original.count(mutant.old)
        self.mutant = mutant

    def __enter__(self):
        if self.count == 1:
            self.file.write_text(self.original.replace(self.mutant.old, self.mutant.new),
                                 encoding="utf-8")
        return self

    def __exit__(self, *exc):
        self.file.write_text(self.original, encoding="utf-8")


def check_mutants():
    """Each mutant is one line, in an existing file, and names existing tests to catch it."""
    for m in MUTANTS:
        assert "\n" not in m.old.strip("\n") and "\n" not in m.new.strip("\n"), m.name
        assert (REPO / "numpy2gpt" / m.path).is_file(), f"{m.name}: no file {m.path}"
        assert m.tests, m.name
        for node in m.tests:
            file, _, name = node.partition("::")
            assert (REPO / file).is_file(), f"{m.name}: no file {file}"
            if name:  # a test function (a parametrized one may carry [id])
                function = re.escape(name.split("[")[0])
                assert re.search(rf"^def {function}\(", (REPO / file).read_text(), re.M), \
                    f"{m.name}: no test {node}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-k", default="", help="only the mutants whose name or file contains this")
    p.add_argument("--list", action="store_true", help="list the mutants and their tests")
    p.add_argument("--explore", action="store_true",
                   help="run each mutant's whole test files without -x; list every failure")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the run of the unmutated copy")
    p.add_argument("--timeout", type=float, default=600, help="seconds per pytest run")
    args = p.parse_args(argv)
    check_mutants()
    mutants = [m for m in MUTANTS if args.k.lower() in f"{m.name} {m.path}".lower()]
    if args.list:
        for m in mutants:
            print(f"{m.name}\n    numpy2gpt/{m.path}: {m.old.strip()!r} -> {m.new.strip()!r}\n"
                  f"    {' '.join(m.tests)}")
        return 0
    if not mutants:
        print(f"no mutant matches {args.k!r}")
        return 2

    root = make_copy()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the copy
    try:
        env = environment(root)
        probe = [sys.executable, "-c", "import numpy2gpt; print(numpy2gpt.__file__)"]
        where = subprocess.run(probe, cwd=root, env=env, capture_output=True,
                               text=True).stdout.strip()
        if not where.startswith(str(root)):
            print(f"the tests would import numpy2gpt from {where}, not from the copy in {root}")
            return 2
        files = lambda m: list(dict.fromkeys(t.split("::")[0] for t in m.tests))  # noqa: E731
        if not args.no_baseline:
            tests = list(dict.fromkeys(t for m in mutants
                                       for t in (files(m) if args.explore else m.tests)))
            rc, out, dt = run_pytest(root, env, tests, args.timeout * 2, stop_at_first=False)
            print(f"baseline (unmutated copy): {len(tests)} test selections, {dt:.0f} s, "
                  f"{'passed' if rc == 0 else 'FAILED'}", flush=True)
            if rc != 0:
                print(out[-3000:])
                return 1

        results = {"caught": [], "survived": [], "error": []}
        for i, m in enumerate(mutants, 1):
            with Patch(root, m) as patch:
                if patch.count != 1:
                    status, detail, dt = "error", f"line found {patch.count} times, not once", 0
                else:
                    tests = files(m) if args.explore else m.tests
                    rc, out, dt = run_pytest(root, env, tests, args.timeout,
                                             stop_at_first=not args.explore)
                    failures = failed_tests(out)
                    if rc == 1 and failures:
                        status = "caught"
                        detail = ("\n        ".join(failures) if args.explore else failures[0])
                    elif rc == 0:
                        status = "survived"
                        summary = out.strip().splitlines()[-1] if out.strip() else ""
                        detail = f"{' '.join(tests)} all passed ({summary})"
                    else:
                        status, detail = "error", f"pytest exit {rc}:\n{out[-2000:]}"
            results[status].append(m)
            print(f"[{i:2d}/{len(mutants)}] {status.upper():8s} {m.name} ({dt:.0f} s)\n"
                  f"        {detail}", flush=True)

        print(f"\n{len(mutants)} mutants: {len(results['caught'])} caught, "
              f"{len(results['survived'])} survived, {len(results['error'])} errors")
        for status in ("survived", "error"):
            for m in results[status]:
                print(f"  {status}: {m.name} (numpy2gpt/{m.path})")
        return 0 if not results["survived"] and not results["error"] else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
