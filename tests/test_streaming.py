"""Streaming encode: rows equal ``model.encode``, memory flat in the file size, resumable, multi-process."""

from __future__ import annotations

import ctypes
import gc
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from stutor import models, streaming
from stutor.cli import encode

WORDS = (
    "how do i learn python what is the best way to cook rice why does the sky look blue can dogs eat grapes "
    "where should we travel in spring which laptop is good for students when will the train arrive"
).split()
DIMENSION = 384  # as all-MiniLM-L6-v2, so the memory bound below is about realistic rows
BIG_LINES, SMALL_LINES = 100_000, 10_000


def write_lines(path: Path, n_lines: int, seed: int = 0) -> Path:
    """Short synthetic sentences from a small vocabulary, one per line, deterministic."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(n_lines):
            handle.write(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + f" {number}\n")
    return path


def static_model(dimension: int = DIMENSION, seed: int = 0):
    """A tiny, fast Sentence Transformer: seeded static token embeddings over the embedded tokenizer."""
    import torch
    from sentence_transformers.sentence_transformer import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer

    torch.manual_seed(seed)
    tokenizer = Tokenizer.from_file(str(models.embedded_model_path() / "tokenizer.json"))
    return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=dimension)], device="cpu")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny model, and the folder it is saved in (for the command and its subprocesses)."""
    folder = tmp_path_factory.mktemp("tiny") / "model"
    model = static_model()
    model.save(str(folder))
    return model, folder


class Interruption(Exception):
    """Stands for Ctrl-C or a lost machine in the middle of a run."""


class CountingModel:
    """Wraps a model, records the texts it encodes and can fail after some chunks."""

    def __init__(self, model, fail_after: int | None = None):
        self.model, self.fail_after, self.chunks = model, fail_after, []

    def get_embedding_dimension(self):
        return self.model.get_embedding_dimension()

    def encode(self, sentences, **kwargs):
        if sentences != [streaming.PROBE_TEXT]:
            if self.fail_after is not None and len(self.chunks) == self.fail_after:
                raise Interruption
            self.chunks.append(list(sentences))
        return self.model.encode(sentences, **kwargs)


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(re.search(rf"{field}:\s+(\d+) kB", status.read()).group(1))


def _reset_peak_memory() -> bool:
    """Reset this process' peak resident memory (``VmHWM``) to its current size; False where Linux refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return _status_kb("VmHWM") <= _status_kb("VmRSS") + 1024


def _free_heap() -> None:
    """Collect garbage and hand the free heap back to the OS, so that a run cannot reuse it unseen."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - another C library
        pass


def peak_growth_mb(run) -> float:
    """Run ``run()`` in this process; return how far its resident memory peaked above where it started (MB).

    The peak is read from ``/proc/self/status`` (``VmHWM``) after resetting it, so this large test
    process measures one run at a time without starting a new Python (and its imports) per run.
    """
    _free_heap()
    assert _reset_peak_memory(), "could not reset the peak memory (VmHWM)"
    start = _status_kb("VmRSS")
    run()
    return (_status_kb("VmHWM") - start) / 1024


@pytest.mark.skipif(not _reset_peak_memory(), reason="resets and reads the peak memory through Linux' /proc/self")
def test_100k_lines_equal_model_encode_and_memory_is_flat(tiny, tmp_path):
    model, folder = tiny
    small, big = write_lines(tmp_path / "small.txt", SMALL_LINES), write_lines(tmp_path / "big.txt", BIG_LINES)
    options = ["--model", str(folder), "--batch-size", "256", "--chunk-lines", "4096", "--no-resume"]

    statuses: list[int] = []

    def command(text: Path, out: Path):
        """The command, run in this process (``stutor-encode text out ...``)."""
        return lambda: statuses.append(encode.main([str(text), str(out), *options]))

    command(small, tmp_path / "warm-up.npy")()  # what only a first run pays (lazy imports, caches) is paid here
    # Holding the extra 90,000 rows in memory, as encoding a list would, costs 90,000 x 384 x 4 B = 132 MB
    # (plus the lines themselves); the streamed run must stay within a fraction of that.
    naive_growth_mb = (BIG_LINES - SMALL_LINES) * DIMENSION * 4 / 2**20
    held = peak_growth_mb(lambda: np.ones((BIG_LINES - SMALL_LINES, DIMENSION), dtype=np.float32).sum())
    assert naive_growth_mb > 130 and held > 0.95 * naive_growth_mb, f"the measurement missed {naive_growth_mb:.0f} MB"
    small_peak = peak_growth_mb(command(small, tmp_path / "small.npy"))
    big_peak = peak_growth_mb(command(big, tmp_path / "big.npy"))
    assert statuses == [0, 0, 0]
    growth_mb = big_peak - small_peak
    assert growth_mb < 40, f"peak memory grew by {growth_mb:.0f} MB from 10k to 100k lines"

    vectors = np.load(tmp_path / "big.npy", mmap_mode="r")
    assert vectors.shape == (BIG_LINES, DIMENSION) and vectors.dtype == np.float32
    assert streaming.encoding_progress(tmp_path / "big.npy")["complete"]
    # Rows spread through the file, and both sides of every chunk boundary.
    boundaries = [row for start in range(0, BIG_LINES, 4096) for row in (start - 1, start) if 0 <= row]
    sample = sorted(set(range(0, BIG_LINES, 53)) | set(boundaries) | {BIG_LINES - 1})
    wanted = set(sample)
    lines = [text for number, text in enumerate(streaming.iter_lines(big)) if number in wanted]
    assert lines[-1].endswith(f" {BIG_LINES - 1}")
    expected = model.encode(lines, batch_size=256, show_progress_bar=False)
    np.testing.assert_allclose(vectors[sample], expected, rtol=1e-5, atol=1e-6)


def test_real_model_rows_equal_model_encode(st_model, tmp_path):
    text = write_lines(tmp_path / "fifty.txt", 50, seed=3)
    out = streaming.encode_file(st_model, text, tmp_path / "fifty.npy", batch_size=8, chunk_lines=20)
    expected = st_model.encode(list(streaming.iter_lines(text)), show_progress_bar=False)
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-4, atol=1e-5)


def test_interrupted_run_resumes_without_redoing_chunks(tiny, tmp_path):
    model, _ = tiny
    text = write_lines(tmp_path / "lines.txt", 1000, seed=1)
    lines = list(streaming.iter_lines(text))
    whole = streaming.encode_file(model, text, tmp_path / "whole.npy", chunk_lines=100)

    first = CountingModel(model, fail_after=3)
    with pytest.raises(Interruption):
        streaming.encode_file(first, text, tmp_path / "part.npy", chunk_lines=100)
    progress = streaming.encoding_progress(tmp_path / "part.npy")
    assert (progress["chunks_done"], progress["rows_done"], progress["complete"]) == (3, 300, False)

    second = CountingModel(model)
    streaming.encode_file(second, text, tmp_path / "part.npy")
    assert [text for chunk in second.chunks for text in chunk] == lines[300:]
    assert streaming.encoding_progress(tmp_path / "part.npy")["complete"]
    np.testing.assert_array_equal(np.load(tmp_path / "part.npy"), np.load(whole))

    third = CountingModel(model)  # a finished run: nothing left to do
    streaming.encode_file(third, text, tmp_path / "part.npy")
    assert third.chunks == []


def test_resume_refuses_a_changed_input_or_model(tiny, tmp_path):
    model, _ = tiny
    text = write_lines(tmp_path / "lines.txt", 300, seed=2)
    out = tmp_path / "out.npy"
    with pytest.raises(Interruption):
        streaming.encode_file(CountingModel(model, fail_after=1), text, out, chunk_lines=100)

    with pytest.raises(ValueError, match="64-dimensional embeddings but .* holds 384-dimensional"):
        streaming.encode_file(static_model(dimension=64), text, out)
    with pytest.raises(ValueError, match="not the one that started"):
        streaming.encode_file(static_model(seed=1), text, out)
    with pytest.raises(ValueError, match="started with chunk_lines=100, not 50"):
        streaming.encode_file(model, text, out, chunk_lines=50)
    with text.open("a", encoding="utf-8") as handle:
        handle.write("one more line\n")
    with pytest.raises(ValueError, match="changed since this encoding started"):
        streaming.encode_file(model, text, out)
    streaming.encode_file(model, text, out, resume=False)  # starting over is always possible
    assert np.load(out).shape == (301, DIMENSION)


def test_an_existing_file_without_progress_is_not_overwritten_silently(tiny, tmp_path):
    model, _ = tiny
    text = write_lines(tmp_path / "lines.txt", 10)
    out = tmp_path / "mine.npy"
    np.save(out, np.ones(3))
    with pytest.raises(ValueError, match="no progress file .* resume=False"):
        streaming.encode_file(model, text, out)
    streaming.encode_file(model, text, out, resume=False)
    assert np.load(out).shape == (10, DIMENSION)


def test_empty_lines_are_refused_by_number_or_encoded_when_allowed(tiny, tmp_path):
    model, _ = tiny
    text = tmp_path / "gaps.txt"
    text.write_text("first\n\nthird\n   \nfifth\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"2 empty line\(s\), the first at line\(s\) 2, 4"):
        streaming.encode_file(model, text, tmp_path / "gaps.npy")
    out = streaming.encode_file(model, text, tmp_path / "gaps.npy", allow_empty_lines=True)
    expected = model.encode(["first", "", "third", "   ", "fifth"], show_progress_bar=False)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)


def test_line_endings_byte_order_mark_and_bad_utf8(tmp_path):
    text = tmp_path / "mixed.txt"
    text.write_bytes(b"\xef\xbb\xbfone\r\ntwo\nthree")
    assert list(streaming.iter_lines(text)) == ["one", "two", "three"]
    assert streaming.scan_text_file(text).n_lines == 3
    text.write_bytes(b"fine\ncaf\xe9\n")
    with pytest.raises(ValueError, match="Line 2 .* not valid UTF-8"):
        streaming.scan_text_file(text)
    text.write_bytes(b"")
    with pytest.raises(ValueError, match="is empty"):
        streaming.scan_text_file(text)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"chunk_lines": -1}, ValueError, "chunk_lines must be a positive integer"),
        ({"rank": 0}, ValueError, "Pass both rank and world_size"),
        ({"rank": 2, "world_size": 2}, ValueError, "rank must be in 0 .. world_size - 1"),
        ({"rank": 0, "world_size": 2}, ValueError, "needs torch.distributed initialised"),
    ],
)
def test_bad_arguments_are_refused(tiny, tmp_path, options, error, message):
    text = write_lines(tmp_path / "lines.txt", 5)
    with pytest.raises(error, match=message):
        streaming.encode_file(tiny[0], text, tmp_path / "out.npy", **options)


def test_bad_paths_and_models_are_refused(tiny, tmp_path):
    text = write_lines(tmp_path / "lines.txt", 5)
    with pytest.raises(ValueError, match="does not exist"):
        streaming.encode_file(tiny[0], tmp_path / "missing.txt", tmp_path / "out.npy")
    with pytest.raises(ValueError, match="must end in .npy"):
        streaming.encode_file(tiny[0], text, tmp_path / "out.txt")
    with pytest.raises(ValueError, match="does not exist. Create it first"):
        streaming.encode_file(tiny[0], text, tmp_path / "nowhere" / "out.npy")
    with pytest.raises(TypeError, match="must be a SentenceTransformer"):
        streaming.encode_file("all-MiniLM-L6-v2", text, tmp_path / "out.npy")


def test_two_processes_write_the_same_rows(tiny, tmp_path, capsys):
    model, folder = tiny
    text = write_lines(tmp_path / "lines.txt", 1000, seed=4)
    out = tmp_path / "two.npy"
    args = [str(text), str(out), "--model", str(folder), "--processes", "2", "--chunk-lines", "100"]
    assert encode.main(args) == 0
    assert "1000 of 1000 rows written" in capsys.readouterr().out
    expected = model.encode(list(streaming.iter_lines(text)), show_progress_bar=False)
    # Rank 0 wrote the even chunks and rank 1 the odd ones: every row must hold its line's vector.
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/missing.txt", "{tmp}/out.npy"], "does not exist. Pass a text file"),
        (["{text}", "{tmp}/no/such/dir/out.npy"], "does not exist. Create it first"),
        (["{text}", "{tmp}/out.npy", "--batch-size", "0"], "--batch-size must be a positive integer"),
        (["{text}", "{tmp}/out.npy", "--processes", "0"], "--processes must be a positive integer"),
        (["{text}", "{tmp}/out.npy", "--chunk-lines", "0"], "--chunk-lines must be a positive integer"),
        (["{text}", "{tmp}/out.csv"], "must end in .npy"),
        (["{text}", "{tmp}/out.npy", "--model", "not a model name!"], "neither an existing folder nor a valid Hub"),
        (["{gaps}", "{tmp}/out.npy"], "empty line"),
    ],
)
def test_command_refuses_bad_arguments_before_loading_a_model(tmp_path, monkeypatch, capsys, args, message):
    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(streaming, "load_encoder", no_model)
    text = write_lines(tmp_path / "lines.txt", 5)
    gaps = tmp_path / "gaps.txt"
    gaps.write_text("one\n\nthree\n", encoding="utf-8")
    argv = [a.format(tmp=tmp_path, text=text, gaps=gaps) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        encode.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_command_encodes_with_the_embedded_model(tmp_path, capsys):
    text = write_lines(tmp_path / "lines.txt", 12, seed=5)
    assert encode.main([str(text), str(tmp_path / "out.npy"), "--batch-size", "4"]) == 0
    assert "12 of 12 rows written" in capsys.readouterr().out
    model = models.load_pretrained_sentence_transformer()
    expected = model.encode(list(streaming.iter_lines(text)), show_progress_bar=False)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-4, atol=1e-5)
    progress = json.loads(streaming.progress_paths(tmp_path / "out.npy")[0].read_text())
    assert progress["model"] == "embedded" and progress["dimension"] == 384


def test_command_interrupted_says_how_far_it_got(tiny, tmp_path, monkeypatch, capsys):
    _, folder = tiny
    text = write_lines(tmp_path / "lines.txt", 300, seed=6)
    real_encode = streaming._encode

    def interrupt_after_two_chunks(model, texts, batch_size):
        if texts != [streaming.PROBE_TEXT] and streaming.encoding_progress(tmp_path / "out.npy")["chunks_done"] == 2:
            raise KeyboardInterrupt
        return real_encode(model, texts, batch_size)

    monkeypatch.setattr(streaming, "_encode", interrupt_after_two_chunks)
    args = [str(text), str(tmp_path / "out.npy"), "--model", str(folder), "--chunk-lines", "100"]
    assert encode.main(args) == 130
    assert "Interrupted: 200 of 300 rows are saved. Rerun the same command to resume." in capsys.readouterr().err
    monkeypatch.setattr(streaming, "_encode", real_encode)
    assert encode.main(args) == 0
    assert "300 of 300 rows written" in capsys.readouterr().out


def test_a_resume_with_another_model_name_exits_2_before_any_model_loads(tiny, tmp_path, monkeypatch, capsys):
    from stutor.cli import encode as command

    _, folder = tiny
    text = write_lines(tmp_path / "lines.txt", 50)
    out = tmp_path / "lines.npy"
    assert command.main([str(text), str(out), "--model", str(folder), "--chunk-lines", "16"]) == 0
    json_path = streaming.progress_paths(out)[1]
    done = np.load(json_path)
    done[-1] = 0  # as if interrupted before the last chunk
    np.save(json_path, done)

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the resume was checked")

    monkeypatch.setattr(streaming, "load_encoder", refuse)
    with pytest.raises(SystemExit) as stop:
        command.main([str(text), str(out), "--model", "embedded"])
    assert stop.value.code == 2
    assert f"was started with the model {str(folder)!r}, not 'embedded'" in capsys.readouterr().err


def test_prepare_encode_run_scans_on_rank_0_only_and_refuses_torchrun_with_processes(tmp_path, monkeypatch):
    text = write_lines(tmp_path / "lines.txt", 5)
    source, info = streaming.prepare_encode_run(text, tmp_path / "out.npy")
    assert source == "embedded" and info.n_lines == 5
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert streaming.prepare_encode_run(text, tmp_path / "out.npy") == ("embedded", None)  # rank 0 scans
    with pytest.raises(ValueError, match="Use either torchrun or --processes, not both"):
        streaming.prepare_encode_run(text, tmp_path / "out.npy", processes=2)
