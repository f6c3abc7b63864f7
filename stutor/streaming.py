"""Encode a text file larger than memory into a ``.npy`` file, in chunks, resumably.

The input holds one sentence per line; row ``i`` of the output is the embedding of line ``i + 1``.
The file is read lazily (one pass to count and check the lines, then one pass to encode them), and
each chunk of lines is encoded and written straight into its rows of the ``.npy`` file through a
small memory map that is closed again, so memory stays flat whatever the size of the file.

Two small files beside the output record the progress:

- ``OUT.npy.progress.json``: the input's size, modification time and line count, the chunk size,
  the model's dimension and the embedding of a probe sentence (to recognise the same model);
- ``OUT.npy.progress.npy``: one byte per chunk, set to 1 once the chunk's rows are on disk.

A rerun resumes where the last one stopped and refuses, with a ``ValueError``, an input file or a
model that changed. With ``world_size`` processes (``torchrun`` or ``python -m stutor.cli.encode
--processes N``), process ``rank`` encodes chunks ``rank, rank + world_size, ...`` into the same file.

:func:`prepare_encode_run` checks a whole run (input, output, resume, model) before any model loads.

Taught in: no notebook; it is the tool for corpora that do not fit in memory (README, "Memory
guide"), run as ``python -m stutor.cli.encode`` (see :mod:`stutor.cli.encode`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from stutor import runtime
from stutor.checks import check_device, check_positive, check_writable

FORMAT_VERSION = 1
DEFAULT_BATCH_SIZE = 32
DEFAULT_CHUNK_LINES = 4096
"""Lines encoded and written at a time: the unit of progress and of resuming."""

PROBE_TEXT = "A probe sentence that tells a resumed run whether the model is still the same one."
PROBE_MIN_COSINE = 0.999
_BOM = b"\xef\xbb\xbf"


class Encoder(Protocol):
    """What :func:`encode_file` needs from a model (a ``SentenceTransformer`` has both methods)."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...

    def get_embedding_dimension(self) -> int | None: ...


@dataclass(frozen=True)
class TextFileInfo:
    """What one pass over the input file found.

    Attributes:
        path: the file, resolved.
        n_lines: number of lines (a final line without a newline counts; a final newline adds none).
        size: size in bytes.
        mtime_ns: modification time, in nanoseconds.
    """

    path: Path
    n_lines: int
    size: int
    mtime_ns: int


def progress_paths(out_path: str | Path) -> tuple[Path, Path]:
    """Return the two progress files of an output: ``OUT.progress.json`` and ``OUT.progress.npy``.

    Args:
        out_path: the ``.npy`` output.

    Returns:
        ``(json_path, chunks_path)``.
    """
    out = Path(out_path)
    return out.with_name(out.name + ".progress.json"), out.with_name(out.name + ".progress.npy")


def iter_lines(path: str | Path) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file one at a time, without their line ending.

    Lines end with ``\\n`` or ``\\r\\n``; a byte-order mark at the start is dropped.

    Args:
        path: the text file.

    Yields:
        Each line's text.

    Raises:
        ValueError: a line is not valid UTF-8, or holds NUL bytes (a binary file); the message gives its line number.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if b"\x00" in raw:
                hint = "UTF-16 text: save it as UTF-8" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "a binary file"
                raise ValueError(
                    f"Line {number} of {path} holds NUL bytes, so it is {hint}, not UTF-8 text with one sentence "
                    "per line (e.g. `iconv -f UTF-16 -t UTF-8 in.txt > out.txt` for UTF-16)."
                )
            if raw.endswith(b"\n"):
                raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"Line {number} of {path} is not valid UTF-8 ({error.reason} at byte {error.start}). "
                    "Convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8 in.txt > out.txt`."
                ) from None


def check_input(path: str | Path) -> Path:
    """Check that the input is an existing file, before any work.

    Args:
        path: the text file.

    Returns:
        The path.

    Raises:
        TypeError: not a path.
        ValueError: it does not exist or is not a file.
    """
    if not isinstance(path, str | Path) or not str(path).strip():
        raise TypeError(f"The input must be the path of a text file (a str or Path), not {path!r}.")
    file = Path(path).expanduser()
    if not file.exists():
        raise ValueError(f"The input file {file} does not exist. Pass a text file with one sentence per line.")
    if not file.is_file():
        raise ValueError(f"{file} is not a file. Pass a text file with one sentence per line.")
    return file


def scan_text_file(path: str | Path, *, allow_empty_lines: bool = False) -> TextFileInfo:
    """Count and check the lines of a text file in one pass, holding one line at a time.

    Args:
        path: the text file, one sentence per line.
        allow_empty_lines: accept empty (or whitespace-only) lines; they are encoded as they are,
            so that row ``i`` stays the embedding of line ``i + 1``.

    Returns:
        A :class:`TextFileInfo`.

    Raises:
        ValueError: the file is missing, is a folder, is empty, is not UTF-8, or (unless
            ``allow_empty_lines``) has empty lines; the message names the first ones.
    """
    file = check_input(path)
    stat = file.stat()
    n_lines, empty, n_empty = 0, [], 0
    for n_lines, text in enumerate(iter_lines(file), start=1):
        if not allow_empty_lines and not text.strip():
            n_empty += 1
            if len(empty) < 5:
                empty.append(n_lines)
    if n_lines == 0:
        raise ValueError(f"{file} is empty: there is nothing to encode.")
    if n_empty:
        raise ValueError(
            f"{file} has {n_empty} empty line(s), the first at line(s) {', '.join(map(str, empty))}. "
            "Row i of the output is line i, so every line must hold a sentence: remove them "
            "(e.g. `grep -v '^[[:space:]]*$' in.txt > clean.txt`) or pass allow_empty_lines=True "
            "(--allow-empty-lines) to encode them as empty strings."
        )
    return TextFileInfo(file.resolve(), n_lines, stat.st_size, stat.st_mtime_ns)


def check_output(out_path: str | Path, *, resume: bool = True, input_path: str | Path | None = None) -> Path:
    """Check an output path before any model work: ``.npy`` name, writable folder, not the input, resumable.

    Args:
        out_path: where the embeddings go.
        resume: whether an existing output will be resumed (else it is overwritten).
        input_path: the input file, which the output must not be.

    Returns:
        The output path.

    Raises:
        TypeError: not a path.
        ValueError: the input file itself, not a ``.npy`` name, its folder is missing or cannot be
            written, it is a folder, or it exists without a progress file while ``resume`` is true.
    """
    if not isinstance(out_path, str | Path) or not str(out_path).strip():
        raise TypeError(f"The output must be the path of a .npy file (a str or Path), not {out_path!r}.")
    out = Path(out_path).expanduser()
    if input_path is not None and Path(input_path).expanduser().resolve() == out.resolve():
        raise ValueError(f"The output {out} is the input file: it would be overwritten. Choose another output path.")
    if out.suffix != ".npy":
        raise ValueError(f"The output {out} must end in .npy (it is a NumPy array file), e.g. {out.stem}.npy.")
    if not out.parent.is_dir():
        raise ValueError(
            f"The folder {out.parent} of the output does not exist. Create it first: mkdir -p {out.parent}"
        )
    if out.is_dir():
        raise ValueError(f"The output {out} is a folder. Pass a file name ending in .npy.")
    check_writable(out.parent, name="The output", what=str(out))
    if out.exists() and not os.access(out, os.W_OK):
        raise ValueError(f"The output {out} exists and cannot be written (no permission). Choose another output path.")
    if resume and out.exists() and not progress_paths(out)[0].exists():
        raise ValueError(
            f"{out} exists but has no progress file {progress_paths(out)[0].name}, so it is not an encoding "
            "run that can be resumed. Pass resume=False (--no-resume) to overwrite it, or choose another output."
        )
    return out


def encoding_progress(out_path: str | Path) -> dict[str, int | bool]:
    """Tell how far the encoding of an output file has got.

    Args:
        out_path: the ``.npy`` output of :func:`encode_file`.

    Returns:
        ``{"n_lines", "rows_done", "chunks_done", "n_chunks", "complete"}``.

    Raises:
        ValueError: the output has no progress file.
    """
    json_path, chunks_path = progress_paths(out_path)
    if not json_path.exists() or not chunks_path.exists():
        raise ValueError(f"{out_path} has no progress files ({json_path.name}): it was not written by encode_file.")
    state = json.loads(json_path.read_text(encoding="utf-8"))
    done = np.load(chunks_path)
    n, size = state["n_lines"], state["chunk_lines"]
    rows = sum(_chunk_rows(c, n, size) for c in np.flatnonzero(done))
    return {
        "n_lines": n,
        "rows_done": int(rows),
        "chunks_done": int(done.sum()),
        "n_chunks": len(done),
        "complete": bool(done.all()),
    }


def distributed_rank(rank: int | None = None, world_size: int | None = None) -> tuple[int, int]:
    """Return ``(rank, world_size)``: the arguments, else ``torchrun``'s ``RANK``/``WORLD_SIZE``, else ``(0, 1)``.

    Raises:
        ValueError: only one of the two given, or ``rank`` outside ``0 .. world_size - 1``.
    """
    if (rank is None) != (world_size is None):
        raise ValueError("Pass both rank and world_size, or neither (then RANK/WORLD_SIZE of torchrun are used).")
    if rank is None:
        rank, world_size = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if not isinstance(world_size, int) or not isinstance(rank, int) or world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(
            f"rank must be in 0 .. world_size - 1 and world_size >= 1, not rank={rank}, world_size={world_size}."
        )
    return rank, world_size


def _chunk_rows(chunk: int, n_lines: int, chunk_lines: int) -> int:
    return min(chunk_lines, n_lines - chunk * chunk_lines)


def _encode(model: Encoder, texts: list[str], batch_size: int) -> np.ndarray:
    vectors = model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def _dimension(model: Encoder) -> int:
    if not callable(getattr(model, "encode", None)) or not callable(getattr(model, "get_embedding_dimension", None)):
        raise TypeError(
            f"model must be a SentenceTransformer (encode and get_embedding_dimension), not {type(model).__name__}."
        )
    dimension = model.get_embedding_dimension()
    if not dimension:
        raise ValueError("The model does not report its embedding dimension; add a Pooling layer to it.")
    return int(dimension)


def _data_offset(out_path: Path) -> int:
    with open(out_path, "rb") as handle:
        major, _ = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(handle)
        if fortran or dtype != np.dtype("<f4"):
            raise ValueError(f"{out_path} is not a float32 C-order array; pass resume=False to overwrite it.")
        return handle.tell()


def _write_json(path: Path, state: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


_STATE_KEYS = ("input_size", "input_mtime_ns", "n_lines", "chunk_lines", "dimension", "model", "probe")


def _chunk_ok(chunk_lines: int | None, state: dict[str, Any]) -> bool:
    return chunk_lines is None or chunk_lines == state["chunk_lines"]


def check_saved_run(
    text_path: str | Path, out_path: str | Path, chunk_lines: int | None = None, *, model_name: str | None = None
) -> dict[str, Any]:
    """Check, without a model, that an output can be resumed: same input file, same chunk size, whole files.

    Args:
        text_path: the input file.
        out_path: the ``.npy`` output, with its two progress files.
        chunk_lines: the chunk size asked for now (None: keep the saved one).
        model_name: the model asked for now, as the run records it (``--model``); a different name is
            refused here, before any weights load (the same name with changed weights is caught after
            loading, by the probe sentence).

    Returns:
        The saved progress state.

    Raises:
        ValueError: damaged progress files, an input changed since the run started, another
            chunk size, or an output of the wrong shape; each message says how to start over.
    """
    redo = "Pass resume=False (--no-resume) to start over."
    json_path, chunks = progress_paths(out_path)
    try:
        state = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    if (
        not isinstance(state, dict)
        or state.get("version") != FORMAT_VERSION
        or not all(k in state for k in _STATE_KEYS)
    ):
        raise ValueError(f"{json_path} has an unknown format or is damaged. {redo}")
    stat = Path(text_path).stat()
    if (stat.st_size, stat.st_mtime_ns) != (state["input_size"], state["input_mtime_ns"]):
        raise ValueError(
            f"{text_path} changed since this encoding started (size {state['input_size']} -> {stat.st_size} bytes, "
            f"or its modification time), so the rows written so far may not match its lines. {redo}"
        )
    recorded = state["model"]
    named = recorded != "SentenceTransformer"  # a name, not the class name recorded by default
    if model_name is not None and named and model_name != recorded and _chunk_ok(chunk_lines, state):
        raise ValueError(
            f"{out_path} was started with the model {state['model']!r}, not {model_name!r}: rows of two models must "
            f"not be mixed. Resume with --model {state['model']} (model_name={state['model']!r}), or "
            f"{redo[0].lower() + redo[1:]}"
        )
    if chunk_lines is not None and chunk_lines != state["chunk_lines"]:
        raise ValueError(
            f"{out_path} was started with chunk_lines={state['chunk_lines']}, not {chunk_lines}. Leave chunk_lines "
            f"unset (or pass {state['chunk_lines']}) to resume, or {redo[0].lower() + redo[1:]}"
        )
    n_chunks = math.ceil(state["n_lines"] / state["chunk_lines"])
    try:
        shape = np.load(out_path, mmap_mode="r").shape
        done = np.load(chunks, mmap_mode="r").shape if chunks.exists() else None
    except (OSError, ValueError):
        shape = done = None
    if shape != (state["n_lines"], state["dimension"]) or done != (n_chunks,):
        raise ValueError(f"{out_path} or its progress files are damaged (shape {shape}). {redo}")
    return state


def _check_state(state: dict[str, Any], model: Encoder, out_path: Path) -> None:
    """Refuse to resume with another model than the one that started the run (its dimension and a probe)."""
    redo = "pass resume=False (--no-resume) to start over."
    dimension = _dimension(model)
    if dimension != state["dimension"]:
        raise ValueError(
            f"The model gives {dimension}-dimensional embeddings but {out_path} holds {state['dimension']}-dimensional "
            f"ones from {state['model']}. Resume with the same model, or {redo}"
        )
    probe, stored = _encode(model, [PROBE_TEXT], 1)[0], np.asarray(state["probe"], dtype=np.float32)
    cosine = float(probe @ stored / (np.linalg.norm(probe) * np.linalg.norm(stored) + 1e-12))
    if cosine < PROBE_MIN_COSINE:
        raise ValueError(
            f"This model is not the one that started {out_path} ({state['model']}): its embedding of a probe sentence "
            f"differs (cosine {cosine:.3f}). Resume with the same model, or {redo}"
        )


def _prepare(
    model: Encoder,
    text_path: Path,
    out_path: Path,
    *,
    chunk_lines: int | None,
    resume: bool,
    allow_empty_lines: bool,
    model_name: str | None,
    info: TextFileInfo | None = None,
) -> dict[str, Any]:
    """Create the output and its progress files, or check that an existing run can be resumed."""
    json_path, chunks_path = progress_paths(out_path)
    check_output(out_path, resume=resume)
    if resume and out_path.exists():
        state = check_saved_run(text_path, out_path, chunk_lines)
        _check_state(state, model, out_path)
        return state
    stat = text_path.stat()
    if info is None or (info.path, info.size, info.mtime_ns) != (text_path.resolve(), stat.st_size, stat.st_mtime_ns):
        info = scan_text_file(text_path, allow_empty_lines=allow_empty_lines)
    dimension, size = _dimension(model), chunk_lines or DEFAULT_CHUNK_LINES
    json_path.unlink(missing_ok=True)
    array = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.float32, shape=(info.n_lines, dimension))
    del array  # the file now has its header and full size; rows are written chunk by chunk
    np.save(chunks_path, np.zeros(math.ceil(info.n_lines / size), dtype=np.uint8))
    state = {
        "version": FORMAT_VERSION,
        "input": str(info.path),
        "input_size": info.size,
        "input_mtime_ns": info.mtime_ns,
        "n_lines": info.n_lines,
        "chunk_lines": size,
        "dimension": dimension,
        "model": model_name or type(model).__name__,
        "probe": [float(x) for x in _encode(model, [PROBE_TEXT], 1)[0]],
    }
    _write_json(json_path, state)
    return state


def _prepare_everywhere(model: Encoder, text_path: Path, out_path: Path, rank: int, world_size: int, **options: Any):
    """Rank 0 prepares the output; the other ranks wait for it, then check the same run."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise ValueError(
            f"world_size={world_size} needs torch.distributed initialised in every process. Launch with "
            "`torchrun --nproc-per-node N -m stutor.cli.encode ...` or "
            "`python -m stutor.cli.encode --processes N ...`, which do it for you."
        )
    if (dist.get_rank(), dist.get_world_size()) != (rank, world_size):
        raise ValueError(
            f"rank={rank}, world_size={world_size} differ from torch.distributed's "
            f"rank={dist.get_rank()}, world_size={dist.get_world_size()}."
        )
    message = [None]
    if rank == 0:
        try:
            state = _prepare(model, text_path, out_path, **options)
        except Exception as error:  # tell the other ranks, so that they stop instead of waiting
            message = [f"{type(error).__name__}: {error}"]
            dist.broadcast_object_list(message, src=0)
            raise
    dist.broadcast_object_list(message, src=0)
    if message[0] is not None:
        raise RuntimeError(f"Rank 0 could not prepare {out_path}: {message[0]}")
    if rank != 0:
        state = check_saved_run(text_path, out_path, options["chunk_lines"])
        _check_state(state, model, out_path)
    return state


def encode_file(
    model: Encoder,
    text_path: str | Path,
    out_path: str | Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    chunk_lines: int | None = None,
    resume: bool = True,
    allow_empty_lines: bool = False,
    show_progress: bool | None = None,
    rank: int | None = None,
    world_size: int | None = None,
    model_name: str | None = None,
    info: TextFileInfo | None = None,
) -> Path:
    """Encode every line of a text file into a float32 ``.npy`` of shape ``(n_lines, dimension)``.

    Memory stays flat in the size of the file: one chunk of lines is held at a time and written
    into its rows through a memory map that is closed after each chunk. The progress files make a
    rerun resume after an interruption (``Ctrl-C``, a lost machine) without redoing finished chunks.

    Args:
        model: a ``SentenceTransformer`` (anything with ``encode`` and ``get_embedding_dimension``).
        text_path: UTF-8 text, one sentence per line.
        out_path: the ``.npy`` file to write; its folder must exist.
        batch_size: sentences per forward pass.
        chunk_lines: lines encoded and saved at a time (default 4096; a resumed run keeps its own).
        resume: continue an earlier run on the same file with the same model; False starts over.
        allow_empty_lines: encode empty lines as empty strings instead of refusing the file.
        show_progress: draw a progress bar (rank 0 only); default: unless ``STUTOR_QUIET`` is set.
        rank: this process' index; default: ``RANK`` of ``torchrun``, else 0.
        world_size: number of processes; default: ``WORLD_SIZE`` of ``torchrun``, else 1. Above 1,
            ``torch.distributed`` must be initialised (``python -m stutor.cli.encode`` does it).
        model_name: recorded in the progress file for people; default: the model's class name.
        info: the input's :class:`TextFileInfo` when the caller scanned it already (the command
            does, before loading the model); None, or a file changed since, scans it here.

    Returns:
        ``out_path``. Rows are complete once every process has returned.

    Raises:
        ValueError: bad arguments or input file (see :func:`scan_text_file`, :func:`check_output`),
            or a resumed run whose input file, model or chunk size changed.

    Example:
        >>> from stutor import models, streaming
        >>> model = models.load_pretrained_sentence_transformer()  # doctest: +SKIP
        >>> streaming.encode_file(model, "corpus.txt", "corpus.npy")  # doctest: +SKIP
        >>> vectors = np.load("corpus.npy", mmap_mode="r")  # doctest: +SKIP
    """
    rank, world_size = distributed_rank(rank, world_size)
    # An existing output is looked at by rank 0 only (in _prepare): the others may see it half created.
    text_path = check_input(text_path)
    out_path = check_output(out_path, resume=False, input_path=text_path)
    check_positive("batch_size", batch_size)
    if chunk_lines is not None:
        check_positive("chunk_lines", chunk_lines)
    if info is not None and not isinstance(info, TextFileInfo):
        raise TypeError(f"info must be the TextFileInfo of scan_text_file() or None, not {type(info).__name__}.")
    _dimension(model)
    options = {"chunk_lines": chunk_lines, "resume": resume, "allow_empty_lines": allow_empty_lines, "info": info}
    if world_size == 1:
        state = _prepare(model, text_path, out_path, model_name=model_name, **options)
    else:
        state = _prepare_everywhere(model, text_path, out_path, rank, world_size, model_name=model_name, **options)
    _encode_chunks(model, state, text_path, out_path, batch_size, rank, world_size, show_progress)
    return out_path


def _encode_chunks(
    model: Encoder,
    state: dict[str, Any],
    text_path: Path,
    out_path: Path,
    batch_size: int,
    rank: int,
    world_size: int,
    show_progress: bool | None,
) -> None:
    """Encode this rank's unfinished chunks, writing each one's rows and then marking it done."""
    from tqdm.auto import tqdm

    n_lines, size, dimension = state["n_lines"], state["chunk_lines"], state["dimension"]
    offset = _data_offset(out_path)
    done = np.load(progress_paths(out_path)[1], mmap_mode="r+")
    mine = range(rank, len(done), world_size)
    todo = {chunk for chunk in mine if not done[chunk]}
    show = runtime.show_progress() if show_progress is None else show_progress
    bar = tqdm(
        total=sum(_chunk_rows(c, n_lines, size) for c in mine),
        initial=sum(_chunk_rows(c, n_lines, size) for c in mine if c not in todo),
        unit="lines",
        desc=f"encoding {text_path.name}" + (f" (rank 0 of {world_size})" if world_size > 1 else ""),
        disable=not show or rank != 0,
    )
    buffer: list[str] = []
    count = 0
    with bar:
        for count, text in enumerate(iter_lines(text_path), start=1):
            chunk = (count - 1) // size
            if chunk not in todo:
                continue
            buffer.append(text)
            if count % size and count != n_lines:
                continue
            vectors = _encode(model, buffer, batch_size)
            if vectors.shape != (len(buffer), dimension):
                raise ValueError(f"The model returned shape {vectors.shape} for {len(buffer)} sentences.")
            rows = np.memmap(
                out_path, dtype=np.float32, mode="r+", offset=offset + chunk * size * dimension * 4, shape=vectors.shape
            )
            rows[:] = vectors
            rows.flush()
            del rows  # unmap, so the written pages do not add up in this process' memory
            done[chunk] = 1
            done.flush()
            bar.update(len(buffer))
            buffer = []
    if count != n_lines:
        raise ValueError(
            f"{text_path} had {n_lines} lines when the run started but has {count} now. Rerun with resume=False."
        )


# --- models and processes (what ``stutor-encode`` runs) --------------------------------------


def encoder_source(model: str) -> str:
    """Say which model to load for encoding, before any weights are read.

    Args:
        model: ``"embedded"`` (or its name), a folder holding a saved Sentence Transformer, a Hub
            name, or any folder :func:`stutor.models.resolve_model` accepts.

    Returns:
        ``"embedded"``, a resolved model folder, or a Hub name.

    Raises:
        TypeError: not a string.
        ValueError: a model that is neither (see :func:`stutor.models.resolve_model`), or a model
            folder whose files are missing, damaged or cut off (:func:`stutor.models.check_model_folder`).
    """
    from stutor import models

    if not isinstance(model, str):
        raise TypeError(f"model must be 'embedded', a Hub name or a model folder (a str), not {type(model).__name__}.")
    if model.strip().lower() in models.EMBEDDED_ALIASES:
        return "embedded"
    folder = Path(model).expanduser()
    if folder.is_dir() and (folder / "modules.json").is_file():
        models.check_model_folder(folder)  # sizes and headers only: a cut-off copy is refused before loading
        return str(folder.resolve())  # a saved Sentence Transformer, e.g. one trained in the course
    choice = models.resolve_model(model, verbose=False)
    return "embedded" if choice.embedded else choice.name_or_path


def load_encoder(source: str, device: str | None = None):
    """Load the model chosen by :func:`encoder_source` on ``device``.

    Args:
        source: ``"embedded"``, a model folder or a Hub name.
        device: where to run it; default: the GPU of this process' local rank if there is one.

    Returns:
        A ``SentenceTransformer``. A plain Hugging Face model gets mean pooling, as in the course.

    Raises:
        ValueError: a device this machine does not have (checked before any weights are read).
    """
    import torch

    from stutor import models

    device = check_device("device", device)
    if device is None:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        device = f"cuda:{local_rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu"
    if source == "embedded":
        model = models.load_pretrained_sentence_transformer()
    else:
        from sentence_transformers.sentence_transformer import SentenceTransformer

        runtime.configure()
        model = SentenceTransformer(source, device="cpu")
    return model.to(device)


def encode_with_torchrun(
    source: str, text_path: str | Path, out_path: str | Path, *, device: str | None = None, **options: Any
) -> Path:
    """Load the model and encode the file: alone, or as one process of a ``torchrun`` launch.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) a gloo process group is created to coordinate the
    processes (each takes every N-th chunk); alone, this is :func:`encode_file` on a loaded model.

    Args:
        source: see :func:`encoder_source`.
        text_path, out_path, **options: as :func:`encode_file`.
        device: see :func:`load_encoder`.

    Returns:
        ``out_path``.
    """
    rank, world_size = distributed_rank()
    if world_size == 1:
        return encode_file(load_encoder(source, device), text_path, out_path, rank=0, world_size=1, **options)
    import torch.distributed as dist

    created = not dist.is_initialized()
    if created:
        dist.init_process_group("gloo")  # only used to wait for each other: any device
    try:
        model = load_encoder(source, device)
        encode_file(model, text_path, out_path, rank=dist.get_rank(), world_size=dist.get_world_size(), **options)
        dist.barrier()
    finally:
        if created:
            dist.destroy_process_group()
    return Path(out_path)


def _worker(rank: int, world_size: int, init_file: str, arguments: tuple, options: dict[str, Any]) -> None:
    """One of the processes of :func:`encode_in_processes`: join the group, share the cores, encode."""
    import sys

    import torch
    import torch.distributed as dist

    source, text_path, out_path, device, folder, environment = arguments
    os.chdir(folder)  # the caller's folder and environment, not the fork server's (started at the first call)
    os.environ.clear()
    os.environ.update(environment)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    os.environ["LOCAL_RANK"] = str(rank)  # one GPU per process when there are GPUs, as under torchrun
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        model = load_encoder(source, device)
        encode_file(model, text_path, out_path, rank=rank, world_size=world_size, **options)
        dist.barrier()
    except (ValueError, RuntimeError) as error:
        print(f"encoding failed in process {rank}: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        dist.destroy_process_group()


def check_processes(processes: int, *, name: str = "processes") -> int:
    """Refuse a process count that is not a positive integer or exceeds this machine's CPU cores.

    Raises:
        ValueError: not a positive integer, or more processes than cores (they would only wait on each other).
    """
    check_positive(name, processes)
    cores = os.cpu_count() or 1
    if processes > cores:
        raise ValueError(
            f"{name} is {processes}, but this machine has {cores} CPU core(s); use at most {cores} "
            "(more processes than cores only wait on each other)."
        )
    return processes


def prepare_encode_run(
    text_path: str | Path,
    out_path: str | Path,
    *,
    model: str = "embedded",
    chunk_lines: int | None = None,
    processes: int = 1,
    resume: bool = True,
    allow_empty_lines: bool = False,
) -> tuple[str, TextFileInfo | None]:
    """Check an encoding run before any model loads, and say which model to load: what ``stutor-encode`` checks.

    Under ``torchrun`` only rank 0 (:func:`distributed_rank`) looks at the output and reads the
    input: the other ranks start at the same time and could see an output that rank 0 is creating.
    A resumed run is checked against its progress files (:func:`check_saved_run`; its input was
    scanned when it started); a new one scans its input once (:func:`scan_text_file`).

    Args:
        text_path, out_path, chunk_lines, resume, allow_empty_lines: as :func:`encode_file`.
        model: as :func:`encoder_source`; a resumed run must have been started with the same name.
        processes: processes on this machine (:func:`encode_in_processes`); more than one is refused under ``torchrun``.

    Returns:
        ``(source, info)``: the model to load (:func:`encoder_source`) and the input's
        :class:`TextFileInfo` to pass on to :func:`encode_file` as ``info``, or None when not scanned here.

    Raises:
        ValueError / TypeError: ``torchrun`` and ``processes`` both, a bad input or output, a run that
            cannot be resumed, or a model that is neither embedded, a model folder nor a Hub name.
    """
    rank, world_size = distributed_rank()
    if processes > 1 and world_size > 1:
        raise ValueError("Use either torchrun or --processes, not both.")
    check_input(text_path)
    first = rank == 0
    out = check_output(out_path, resume=resume and first, input_path=text_path)
    info = None
    if first and resume and out.exists():
        check_saved_run(text_path, out, chunk_lines, model_name=model)
    elif first:
        info = scan_text_file(text_path, allow_empty_lines=allow_empty_lines)
    return encoder_source(model), info


def encode_in_processes(
    source: str,
    text_path: str | Path,
    out_path: str | Path,
    processes: int,
    *,
    device: str | None = None,
    **options: Any,
) -> int:
    """Encode a file with several processes on this machine, each taking every N-th chunk.

    Args:
        source: see :func:`encoder_source`.
        text_path, out_path, **options: as :func:`encode_file`.
        processes: how many processes (each gets its share of the cores).
        device: see :func:`load_encoder`.

    Returns:
        0 when every process finished; 1 otherwise (the others are stopped; rerun to resume).
    """
    import multiprocessing
    import multiprocessing.connection
    import sys
    import tempfile

    check_processes(processes)
    # A fork server imports the libraries once and forks every worker from that clean process: N workers
    # cost one import of torch and sentence-transformers, not N, and no worker inherits this process's
    # threads (which a plain fork after torch has run could deadlock on).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["stutor.streaming", "sentence_transformers", "torch.distributed"])
    with tempfile.TemporaryDirectory() as folder:
        init_file = str(Path(folder) / "rendezvous")
        arguments = (source, str(text_path), str(out_path), device, os.getcwd(), dict(os.environ))
        workers = [
            context.Process(target=_worker, args=(rank, processes, init_file, arguments, options))
            for rank in range(processes)
        ]
        for worker in workers:
            worker.start()
        pending = list(workers)
        while pending:  # if one worker fails, stop the others instead of letting them wait for it
            ready = multiprocessing.connection.wait([worker.sentinel for worker in pending])
            for worker in [worker for worker in pending if worker.sentinel in ready]:
                worker.join()
                pending.remove(worker)
                if worker.exitcode != 0:
                    for other in pending:
                        other.terminate()
    failed = [rank for rank, worker in enumerate(workers) if worker.exitcode != 0]
    if failed:
        print(f"process(es) {failed} failed; rerun the same command to resume.", file=sys.stderr)
        return 1
    return 0
