from __future__ import annotations

import http.server
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from stutor import models


def test_embedded_files_match_the_official_revision():
    folder = models.verify_model_files()
    assert (folder / "model.safetensors").is_file()
    assert models.EMBEDDED_SHA256["model.safetensors"].startswith("53aa5117")


def _small_copy(tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(models.embedded_model_path() / name, target / name)
    return target


def test_changed_file_is_refused_with_the_fix(tmp_path):
    copy = _small_copy(tmp_path)
    expected = {k: models.EMBEDDED_SHA256[k] for k in ("config.json", "tokenizer.json")}
    assert models.verify_model_files(copy, expected) == copy
    (copy / "config.json").write_text((copy / "config.json").read_text() + "\n")
    with pytest.raises(ValueError, match=r"config.json .*SHA-256.*reinstall"):
        models.verify_model_files(copy, expected)


def test_missing_file_is_refused(tmp_path):
    copy = _small_copy(tmp_path)
    with pytest.raises(ValueError, match="lacks model.safetensors"):
        models.verify_model_files(copy)


def test_default_offline_is_the_embedded_model(capsys, monkeypatch):
    monkeypatch.delenv(models.MODEL_ENV, raising=False)
    choice = models.resolve_model()
    assert choice.embedded and choice.source == "embedded"
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("Using all-MiniLM-L6-v2 (embedded)")


def test_environment_variable_forces_the_choice(monkeypatch, tmp_path):
    monkeypatch.setenv(models.MODEL_ENV, "embedded")
    assert models.resolve_model(verbose=False).source == "environment"
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")  # an empty but whole file
    monkeypatch.setenv(models.MODEL_ENV, str(folder))
    choice = models.resolve_model(verbose=False)
    assert choice.name_or_path == str(folder.resolve()) and not choice.embedded


def test_argument_wins_over_environment(monkeypatch):
    monkeypatch.setenv(models.MODEL_ENV, "no-such-model-anywhere")
    assert models.resolve_model("embedded", verbose=False).source == "argument"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("not a model name!", "neither an existing folder nor a valid Hub model name"),
        ("someone/unknown-model-xyz", "cannot be reached"),
    ],
)
def test_bad_names_are_refused(value, message):
    with pytest.raises(ValueError, match=message):
        models.resolve_model(value, verbose=False)


def test_non_string_model_is_a_type_error():
    with pytest.raises(TypeError, match="model must be a string"):
        models.resolve_model(42, verbose=False)  # type: ignore[arg-type]


def test_folder_without_weights_or_config(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        models.resolve_model(str(tmp_path), verbose=False)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="no weights"):
        models.resolve_model(str(tmp_path), verbose=False)
    with pytest.raises(ValueError, match="is a file"):
        models.resolve_model(str(tmp_path / "config.json"), verbose=False)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):  # noqa: N802
        self.send_response(200 if "distilroberta-base" in self.path else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def fake_hub(monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield
    server.shutdown()


def test_hub_status_reads_the_answer(fake_hub):
    assert models.hub_status("distilroberta-base") == "found"
    assert models.hub_status("nobody/nothing") == "missing"
    assert models.hub_status("sentence-transformers/stsb", repo_type="dataset") == "missing"
    with pytest.raises(ValueError, match="repo_type"):
        models.hub_status("x", repo_type="space")


def test_reachable_hub_picks_the_reference_model(fake_hub, monkeypatch):
    monkeypatch.delenv(models.MODEL_ENV, raising=False)
    choice = models.resolve_model(verbose=False)
    assert choice.name_or_path == models.REFERENCE_MODEL and choice.source == "hub"
    with pytest.raises(ValueError, match="has no model named"):
        models.resolve_model("nobody/nothing", verbose=False)


def test_closed_port_is_unreachable(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    assert models.hub_status("distilroberta-base", timeout=1) == "unreachable"


def test_offline_env_is_unreachable_without_asking(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # never contacted
    assert models.hub_status("distilroberta-base") == "unreachable"


def test_build_from_modules(st_model):
    names = [type(module).__name__ for module in st_model]
    assert names == ["Transformer", "Pooling"]
    vectors = st_model.encode(["I am a student", "Hello"])
    assert vectors.shape == (2, 384) and np.isfinite(vectors).all()


def test_build_refuses_bad_pooling_and_length(choice):
    with pytest.raises(ValueError, match="Valid pooling modes"):
        models.build_sentence_transformer(choice, pooling="median")
    with pytest.raises(ValueError, match="max_seq_length"):
        models.build_sentence_transformer(choice, max_seq_length=0)


def test_pretrained_model_has_normalize():
    model = models.load_pretrained_sentence_transformer()
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    norms = np.linalg.norm(model.encode(["A cat sleeps."]), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)


def test_load_hf_model(raw_and_tokenizer):
    raw, tokenizer = raw_and_tokenizer
    assert raw.config.hidden_size == 384 and not raw.training
    assert tokenizer("hi")["input_ids"][0] == tokenizer.cls_token_id


def test_choice_prints_one_line(choice):
    assert "\n" not in str(choice) and choice.display_name == "all-MiniLM-L6-v2"
