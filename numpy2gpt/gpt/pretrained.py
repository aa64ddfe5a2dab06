"""Hugging Face GPT-2 checkpoints <-> numpy2gpt's GPT, with NumPy and safetensors only.

A Hugging Face GPT-2 folder holds `config.json` (the hyper-parameters) and `model.safetensors`
(the weights), often also the tokenizer's `vocab.json` + `merges.txt`. Three differences from
numpy2gpt's GPT (nanoGPT's layout) need translating:

1. Names: HF writes `transformer.h.0.attn.c_attn.weight` (or, in the original OpenAI upload,
   without the `transformer.` prefix); ours are the same names, always prefixed.
2. HF's GPT-2 uses `Conv1D` layers, which store a weight as (in_features, out_features) and
   compute x @ W; an `nn.Linear` stores (out_features, in_features) and computes x @ W.T. So the
   four projection weights (c_attn, attn.c_proj, c_fc, mlp.c_proj) are transposed both ways.
3. HF keeps the causal mask as a buffer (`h.N.attn.bias`, `h.N.attn.masked_bias`) in old files;
   it is not a weight, we skip it. `lm_head.weight` is tied to `wte.weight` and usually absent.

    model = from_pretrained("path/to/gpt2")      # or "gpt2", "gpt2-medium", ... from the HF cache
    save_pretrained(model, "out", tokenizer=tok)  # transformers loads "out" too
    model, tok = load_pretrained("path/to/gpt2")  # what `numpy2gpt sample/train --init_from` use

Nothing here downloads: a model name is looked up in the local Hugging Face cache only.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import struct
from pathlib import Path

import numpy as np
from safetensors import safe_open

import numpy2gpt as torch
from numpy2gpt import nn
from numpy2gpt.nn.utils import skip_init
from numpy2gpt.serialization import _atomic_write, bfloat16_to_float32, write_safetensors

from .model import GPT, GPTConfig

__all__ = ["from_pretrained", "save_pretrained", "load_pretrained", "find_in_hf_cache",
           "KNOWN_MODELS"]

# The OpenAI GPT-2 checkpoints; on the Hub they live under openai-community/ since 2024 (older
# caches hold them under their bare names).
KNOWN_MODELS = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")

# Weights stored by HF's Conv1D as (in, out): transposed relative to nn.Linear's (out, in).
CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
                  "mlp.c_proj.weight")
CONV1D_MODULES = tuple(w[: -len(".weight")] for w in CONV1D_WEIGHTS)
# The causal-mask buffers of older GPT-2 files (not weights): h.<i>.attn.bias / .masked_bias.
MASK_BUFFER = re.compile(r"^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$")

# config.json's activation_function -> GPTConfig.gelu. HF's "gelu" is the exact (erf) GELU;
# "gelu_new" (GPT-2's) and "gelu_pytorch_tanh" are the tanh approximation.
ACTIVATIONS = {"gelu_new": "tanh", "gelu_pytorch_tanh": "tanh", "gelu": "none"}
LAYER_NORM_EPS = 1e-5  # nn.LayerNorm's default, and GPT-2's layer_norm_epsilon

WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model.safetensors.index.json"  # a checkpoint split in shards
OUR_TOKENIZER_NAME = "numpy2gpt_tokenizer.json"  # for tokenizers GPT-2's files cannot hold
# What an export writes, or an earlier export or save_pretrained may have left: an export
# replaces all of them, so no stale tokenizer file outlives the model it belonged to.
EXPORT_FILES = ("config.json", WEIGHTS_NAME, INDEX_NAME, "generation_config.json", "vocab.json",
                "merges.txt", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "added_tokens.json", OUR_TOKENIZER_NAME)


# ----------------------------------------------------------------------------------------------
# Finding the folder: a path, or a model name in the local Hugging Face cache
# ----------------------------------------------------------------------------------------------
def hf_cache_dirs():
    """The Hugging Face hub cache folders to search, in huggingface_hub's order of precedence."""
    env = os.environ
    dirs = [env.get(v) for v in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE")]
    if env.get("HF_HOME"):
        dirs.append(os.path.join(env["HF_HOME"], "hub"))
    xdg = env.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    dirs += [os.path.join(xdg, "huggingface", "hub"),
             os.path.join("~", ".cache", "huggingface", "hub")]
    out = []
    for d in dirs:
        if d:
            p = Path(d).expanduser()
            if p not in out:
                out.append(p)
    return out


def _repo_ids(name):
    """The Hub repository ids a model name may be cached under."""
    base = name.split("/", 1)[1] if name.startswith("openai-community/") else name
    if base in KNOWN_MODELS:
        return [f"openai-community/{base}", base]
    return [name]


def _snapshot(repo_dir):
    """The snapshot folder of a cached repo: the one refs/main points to, else the newest one
    holding a config.json; None when there is none."""
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        snap = repo_dir / "snapshots" / ref.read_text().strip()
        if (snap / "config.json").is_file():
            return snap
    snaps = [s for s in (repo_dir / "snapshots").glob("*") if (s / "config.json").is_file()]
    return max(snaps, key=lambda s: s.stat().st_mtime) if snaps else None


def find_in_hf_cache(name):
    """(folder or None, [places looked]) for a model name such as "gpt2" or "org/model"."""
    looked = []
    for cache in hf_cache_dirs():
        for repo_id in _repo_ids(name):
            repo_dir = cache / ("models--" + repo_id.replace("/", "--"))
            looked.append(repo_dir / "snapshots")
            if repo_dir.is_dir():
                snap = _snapshot(repo_dir)
                if snap is not None:
                    return snap, looked
    return None, looked


def resolve(path_or_name):
    """The local folder for a path or a model name (see find_in_hf_cache); a clear error else."""
    if not isinstance(path_or_name, str | os.PathLike):
        raise TypeError(f"expected a folder path or a model name, got "
                        f"{type(path_or_name).__name__}")
    path = Path(path_or_name).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise NotADirectoryError(f"{path} is a file; a Hugging Face GPT-2 checkpoint is a folder "
                                 f"with config.json and {WEIGHTS_NAME}")
    name = os.fspath(path_or_name)
    looks_like_repo_id = re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name) and not name.startswith(".")
    if not looks_like_repo_id:
        raise FileNotFoundError(f"no such folder: {name}")
    folder, looked = find_in_hf_cache(name)
    if folder is not None:
        return folder
    places = "\n  ".join(map(str, looked))
    raise FileNotFoundError(
        f"{name!r} is neither a local folder nor a model in the local Hugging Face cache "
        f"(numpy2gpt never downloads). Looked in:\n  {places}\n"
        f"Known GPT-2 names: {', '.join(KNOWN_MODELS)}. Download one once where there is "
        f"network (e.g. `hf download openai-community/gpt2`, huggingface_hub's command line), "
        f"or pass a folder holding config.json and {WEIGHTS_NAME}.")


# ----------------------------------------------------------------------------------------------
# config.json <-> GPTConfig
# ----------------------------------------------------------------------------------------------
def _read_json(path):
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: a Hugging Face GPT-2 checkpoint folder holds "
                                f"config.json and {WEIGHTS_NAME}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None


def config_from_hf(hf, where="config.json", dropout=0.0):
    """A GPTConfig from a GPT-2 config.json dict; anything GPT cannot reproduce is an error."""
    def bad(why):
        return ValueError(f"{where}: {why}")

    if not isinstance(hf, dict):
        raise bad("expected a JSON object")
    if hf.get("model_type") != "gpt2":
        raise bad(f"model_type is {hf.get('model_type')!r}, not 'gpt2': only GPT-2 checkpoints "
                  "can be loaded into numpy2gpt's GPT")
    archs = hf.get("architectures") or ["GPT2LMHeadModel"]
    others = [a for a in archs if a not in ("GPT2LMHeadModel", "GPT2Model")]
    if others:
        raise bad(f"architectures {others} are not a GPT-2 language model (expected "
                  "GPT2LMHeadModel): their extra heads have no place in GPT")
    # GPT2Config's defaults for keys the file leaves out (what transformers would use)
    get = {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12,
           "n_head": 12, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}
    get = {k: hf.get(k, v) for k, v in get.items()}
    act = get["activation_function"]
    if act not in ACTIVATIONS:
        raise bad(f"activation_function {act!r} is not supported; GPT has the GELUs "
                  f"{sorted(ACTIVATIONS)}")
    eps = get["layer_norm_epsilon"]
    if not isinstance(eps, int | float) or abs(eps - LAYER_NORM_EPS) > 1e-12:
        raise bad(f"layer_norm_epsilon is {eps!r}; GPT's LayerNorms use {LAYER_NORM_EPS} "
                  "(GPT-2's value), so this checkpoint would give different results")
    n_inner = hf.get("n_inner")
    if n_inner is not None and n_inner != 4 * get["n_embd"]:
        raise bad(f"n_inner is {n_inner}; GPT's MLP is 4 * n_embd = {4 * get['n_embd']} wide")
    for key, want in [("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False),
                      ("add_cross_attention", False)]:
        if hf.get(key, want) != want:
            raise bad(f"{key} is {hf[key]!r}; GPT supports only {want!r} (GPT-2's attention)")
    kwargs = dict(block_size=get["n_positions"], vocab_size=get["vocab_size"],
                  n_layer=get["n_layer"], n_head=get["n_head"], n_embd=get["n_embd"],
                  dropout=dropout, bias=True, gelu=ACTIVATIONS[act])
    try:
        return GPTConfig(**kwargs)
    except (TypeError, ValueError) as e:
        raise bad(str(e)) from None


def config_to_hf(config, eps=LAYER_NORM_EPS, dtype="float32", eot=None, bos=None):
    """A GPT-2 config.json dict (transformers' GPT2Config fields) for a GPTConfig.

    eot: the id of '<|endoftext|>' (GPT-2's is 50256), which begins and ends a text; bos: the id
    generation starts from when there is no prompt, if not eot.
    """
    eot = eot if eot is not None else (50256 if config.vocab_size > 50256 else None)
    bos = bos if bos is not None else eot
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": config.vocab_size,
        "n_positions": config.block_size,
        "n_ctx": config.block_size,
        "n_embd": config.n_embd,
        "n_layer": config.n_layer,
        "n_head": config.n_head,
        "n_inner": None,
        "activation_function": "gelu_new" if config.gelu == "tanh" else "gelu",
        "layer_norm_epsilon": eps,
        "attn_pdrop": config.dropout,
        "embd_pdrop": config.dropout,
        "resid_pdrop": config.dropout,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True,
        "use_cache": True,
        "bos_token_id": bos,
        "eos_token_id": eot,
        "dtype": dtype,
    }


# ----------------------------------------------------------------------------------------------
# Reading the weights
# ----------------------------------------------------------------------------------------------
def _header(path):
    """(offset of the data, JSON header: name -> {dtype, shape, data_offsets}) of a safetensors
    file: 8 bytes little-endian header length, then the header as JSON, then the data."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        first = f.read(8)
        n = struct.unpack("<Q", first)[0] if len(first) == 8 else None
        header = None
        if n is not None and 8 + n <= min(size, 100 * 2**20):
            try:
                header = json.loads(f.read(n).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                pass
    ok = isinstance(header, dict) and all(
        isinstance(v, dict) and {"dtype", "shape", "data_offsets"} <= v.keys()
        for k, v in header.items() if k != "__metadata__")
    if not ok:
        zip_or_pickle = first[:2] == b"PK" or first[:1] == b"\x80"
        pickle = " (it looks like a PyTorch zip/pickle file)" if zip_or_pickle else ""
        raise ValueError(f"{path} is not a safetensors file{pickle}")
    return 8 + n, header


class _Weights:
    """The tensors of a checkpoint folder (one file or shards): shapes without reading data,
    then one array at a time (so loading needs little memory beyond the model itself)."""

    def __init__(self, folder):
        index = folder / INDEX_NAME
        if (folder / WEIGHTS_NAME).is_file():
            files = {folder / WEIGHTS_NAME: None}
        elif index.is_file():
            weight_map = _read_json(index).get("weight_map")
            if not isinstance(weight_map, dict):
                raise ValueError(f"{index} has no weight_map")
            files = {folder / f: None for f in sorted(set(weight_map.values()))}
            for f in files:
                if not f.is_file():
                    raise FileNotFoundError(f"{f} is listed in {index} but missing")
        else:
            found = sorted(p.name for ext in ("bin", "pt", "h5", "msgpack")
                           for p in folder.glob(f"*.{ext}"))
            hint = (f" It holds {', '.join(found)}: numpy2gpt reads only safetensors (it never "
                    "unpickles, which could run code from the file). Convert once with "
                    "transformers: GPT2LMHeadModel.from_pretrained(folder).save_pretrained(folder)"
                    if found else "")
            raise FileNotFoundError(f"{folder / WEIGHTS_NAME} not found.{hint}")
        self.entries = {}  # name -> (file, dtype string, shape tuple, absolute data offsets)
        for f in files:
            start, header = _header(f)
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                if name in self.entries:
                    raise ValueError(f"tensor {name!r} is stored twice ({self.entries[name][0]} "
                                     f"and {f})")
                lo, hi = (start + offset for offset in info["data_offsets"])
                self.entries[name] = (f, info["dtype"], tuple(info["shape"]), lo, hi)

    def shape(self, name):
        return self.entries[name][2]

    def get(self, name):
        """The tensor `name` as a NumPy array (bfloat16, which NumPy lacks, becomes float32)."""
        f, dtype, shape, lo, hi = self.entries[name]
        if dtype == "BF16":  # the top 16 bits of a float32: shift them back into place
            raw = np.fromfile(f, dtype="<u2", count=(hi - lo) // 2, offset=lo)
            return bfloat16_to_float32(raw).reshape(shape)
        if dtype not in ("F16", "F32", "F64"):
            raise ValueError(f"{f}: tensor {name!r} has dtype {dtype}; GPT-2 weights are floats")
        try:
            with safe_open(f, framework="numpy") as st:
                return st.get_tensor(name)
        except Exception as e:  # safetensors' own errors (truncated file...) name no file
            raise ValueError(f"{f}: cannot read tensor {name!r}: {e}") from None


def _hf_to_ours(name):
    """HF tensor name -> our parameter name (None for a mask buffer)."""
    if MASK_BUFFER.match(name):
        return None
    if name == "lm_head.weight":
        return name
    return name if name.startswith("transformer.") else "transformer." + name


def _fmt(shape):
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def from_pretrained(path_or_name, dtype=None, dropout=0.0):
    """A GPT with the weights of a Hugging Face GPT-2 checkpoint (folder or cached model name).

    dtype:   the parameters' dtype (default: numpy2gpt's default dtype, float32).
    dropout: the GPTConfig dropout (0.0 for inference; set it for fine-tuning).
    Every tensor in the file must be used and every parameter of GPT filled; a mismatch names
    the tensors. The model is returned in training mode, as nanoGPT's from_pretrained does, and
    numpy2gpt's global random state is left as it was.
    """
    folder = resolve(path_or_name)
    config = config_from_hf(_read_json(folder / "config.json"), folder / "config.json", dropout)
    weights = _Weights(folder)

    # Every stored tensor's parameter name; then check names and shapes before copying any data.
    mapping = {}  # our name -> HF name
    for name in weights.entries:
        ours = _hf_to_ours(name)
        if ours is None:
            continue
        if ours in mapping:
            raise ValueError(f"{folder}: tensors {mapping[ours]!r} and {name!r} are the same "
                             "weight (with and without the 'transformer.' prefix)")
        mapping[ours] = name

    model = skip_init(GPT, config)  # every weight is loaded below: no random init, no draws
    if dtype is not None:
        with np.errstate(invalid="ignore"):  # casting the not-yet-loaded arbitrary values
            model.to(dtype)
    params = dict(model.named_parameters(remove_duplicate=False))
    tied = params["lm_head.weight"] is params["transformer.wte.weight"]
    expected = [n for n in params if not (tied and n == "lm_head.weight")]
    unused = [mapping[n] for n in mapping if n not in params]
    missing = [n for n in expected if n not in mapping]
    if unused or missing:
        parts = []
        if missing:
            parts.append(f"missing weights for {', '.join(missing)}")
        if unused:
            parts.append(f"tensors GPT has no place for: {', '.join(unused)}")
        raise ValueError(f"{folder}: the checkpoint does not match a GPT-2 with "
                         f"n_layer={config.n_layer}: " + "; ".join(parts))
    for ours, name in mapping.items():
        want = params[ours].shape
        if ours.endswith(CONV1D_WEIGHTS):
            want = want[::-1]  # stored as (in, out)
        if weights.shape(name) != tuple(want):
            raise ValueError(f"shape mismatch for {name!r} in {folder}: the checkpoint has "
                             f"{_fmt(weights.shape(name))}, config.json implies {_fmt(want)}")

    with torch.no_grad():
        for ours, name in mapping.items():
            array = weights.get(name)
            if ours.endswith(CONV1D_WEIGHTS):
                array = array.T
            if ours == "lm_head.weight" and tied:
                if not np.array_equal(array, weights.get(mapping["transformer.wte.weight"])):
                    raise ValueError(f"{folder}: lm_head.weight differs from wte.weight, but "
                                     "GPT ties them (one matrix); this checkpoint cannot be "
                                     "represented")
                continue
            params[ours].copy_(torch.from_numpy(array))  # casts to the model's dtype
    return model


# ----------------------------------------------------------------------------------------------
# Writing the weights (and the tokenizer)
# ----------------------------------------------------------------------------------------------
def _write_json(path, obj):
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    _atomic_write(os.fspath(path), lambda f: f.write(text.encode("utf-8")))


def _save_tokenizer(tokenizer, folder, config):
    """Write the tokenizer in GPT-2's files when it can be, else in numpy2gpt's JSON."""
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's "
                         f"vocab_size is only {config.vocab_size}")
    if hasattr(tokenizer, "to_gpt2"):  # our trained BPETokenizer
        tokenizer = tokenizer.to_gpt2()
    if hasattr(tokenizer, "merge_texts"):  # a GPT2Tokenizer: vocab.json + merges.txt
        tokenizer.save_pretrained(folder)
        eot = "<|endoftext|>" if tokenizer.eot_token is not None else None
        _write_json(folder / "tokenizer_config.json", {
            "tokenizer_class": "GPT2Tokenizer", "model_max_length": config.block_size,
            "bos_token": eot, "eos_token": eot, "unk_token": eot, "add_prefix_space": False})
    else:
        tokenizer.save(folder / OUR_TOKENIZER_NAME)  # what numpy2gpt reads back
        if hasattr(tokenizer, "to_hf_tokenizer_json"):  # the same vocabulary for transformers
            _write_json(folder / "tokenizer.json", tokenizer.to_hf_tokenizer_json())
            _write_json(folder / "tokenizer_config.json", {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "model_max_length": config.block_size, "clean_up_tokenization_spaces": False})


@contextlib.contextmanager
def _replacing_folder(folder):
    """Yield an empty temporary folder beside `folder`, in which the caller writes a whole
    export; when the block succeeds, that export replaces the one in `folder`.

    Every file an export may write (EXPORT_FILES) that is in `folder` is replaced or removed,
    so nothing of an earlier export (a stale vocab.json, say) survives next to the new one;
    other files are kept. A folder holding nothing else is swapped for the new one by renames,
    so a reader sees the old export or the new one, never a mix. On failure the temporary
    folder is removed and `folder` is left as it was.
    """
    folder = Path(os.path.abspath(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.tmp")
    tmp.mkdir()  # (not tempfile.mkdtemp: its folder would keep mode 0o700 once renamed)
    try:
        yield tmp
        if not folder.exists():
            os.replace(tmp, folder)
        elif (folder.is_symlink() or folder == Path.cwd()
              or any(p.name not in EXPORT_FILES for p in folder.iterdir())):
            # the user's own files stay (and the folder itself): replace ours one by one
            for name in EXPORT_FILES:
                if (tmp / name).exists():
                    os.replace(tmp / name, folder / name)  # each rename is atomic
                elif (folder / name).is_file():
                    (folder / name).unlink()
        else:
            old = folder.with_name(tmp.name[:-len(".tmp")] + ".old")
            os.replace(folder, old)
            try:
                os.replace(tmp, folder)
            except OSError:
                os.replace(old, folder)
                raise
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_pretrained(model, path, tokenizer=None):
    """Write `model` (a GPT) as a Hugging Face GPT-2 folder: config.json + model.safetensors,
    plus the tokenizer's files when one is given. transformers.GPT2LMHeadModel.from_pretrained
    loads it; so does from_pretrained here.

    Like transformers, the tied lm_head.weight is not stored. A model with bias=False gets zero
    biases (HF's GPT-2 always has them), which computes the same function. Saving into a folder
    that holds an earlier export replaces that export whole (see _replacing_folder).
    """
    config = model.config
    folder = Path(path)
    params = dict(model.named_parameters(remove_duplicate=False))
    if params["lm_head.weight"] is not params["transformer.wte.weight"] and not np.array_equal(
            params["lm_head.weight"]._data, params["transformer.wte.weight"]._data):
        raise ValueError("lm_head.weight is not tied to transformer.wte.weight; GPT-2's format "
                         "stores one matrix for both")
    dtype = params["transformer.wte.weight"].dtype
    tensors = {}  # HF name -> array; lm_head.weight is left out (tied), as transformers does
    for name, module in model.named_modules():
        if not name.startswith("transformer.") or not isinstance(
                module, nn.Linear | nn.LayerNorm | nn.Embedding):
            continue
        weight = module.weight._data
        tensors[name + ".weight"] = weight.T if name.endswith(CONV1D_MODULES) else weight
        if not isinstance(module, nn.Embedding):
            bias = module.bias._data if module.bias is not None else np.zeros(len(weight), dtype)
            tensors[name + ".bias"] = bias
    left_out = [n for n in params if n != "lm_head.weight" and n not in tensors]
    if left_out:
        raise ValueError(f"GPT-2's format has no place for the parameters {', '.join(left_out)}")
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    eps = getattr(model.transformer.ln_f, "eps", LAYER_NORM_EPS)
    eot = tokenizer.eot_token if tokenizer is not None else None
    # A char model has no '<|endoftext|>': without a prompt, generation starts from a newline,
    # as `numpy2gpt sample` does (transformers needs a bos_token_id for that).
    bos = getattr(tokenizer, "stoi", {}).get("\n") if eot is None else None
    with _replacing_folder(folder) as new:
        if tokenizer is not None:
            _save_tokenizer(tokenizer, new, config)
        _atomic_write(os.fspath(new / WEIGHTS_NAME),
                      lambda f: write_safetensors(f, tensors, {"format": "pt"}))
        _write_json(new / "config.json", config_to_hf(config, eps, str(np.dtype(dtype)), eot, bos))
    return folder


def load_tokenizer_from(folder):
    """The tokenizer saved in a checkpoint folder, or None if it holds none."""
    from .tokenizers import GPT2Tokenizer, load_tokenizer

    folder = Path(folder)
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        return GPT2Tokenizer.from_pretrained(folder)
    if (folder / OUR_TOKENIZER_NAME).is_file():
        return load_tokenizer(folder / OUR_TOKENIZER_NAME)
    return None


def load_pretrained(path_or_name, dtype=None, dropout=0.0):
    """(GPT, tokenizer or None) from a Hugging Face GPT-2 folder or cached model name."""
    folder = resolve(path_or_name)
    return from_pretrained(folder, dtype=dtype, dropout=dropout), load_tokenizer_from(folder)
