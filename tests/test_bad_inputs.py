"""Bad input never leaks a library traceback: one table of bad inputs, one of unusual inputs that are valid.

Each bad row is (the call, the exception type or exit code 2, words its message must contain). A
function must raise exactly that type (a pyarrow or numpy subclass of ValueError would fail); a
command must exit 2 with the words on stderr, no traceback, and without loading any model.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from datasets import Dataset, DatasetDict

from stutor import (
    cases,
    checks,
    classification,
    costs,
    data,
    evaluation,
    layers,
    losses,
    models,
    runs,
    schemas,
    sources,
    streaming,
    training,
    triplets,
)
from stutor.cli import encode, train

NAN, INF = float("nan"), float("inf")
TRIPLETS = [{"anchor": f"question {i}", "positive": f"same question {i}", "negative": f"other {i}"} for i in range(4)]
PAIRS = {"sentence1": ["A cat sleeps.", "A dog runs.", "It rains."], "sentence2": ["A cat naps.", "Birds.", "Wet."]}
QQP = {"set": {"query": "How do I learn chess?", "pos": ["How to get better at chess?"], "neg": ["Who made chess?"]}}


def _safetensors(path: Path, *, cut: int = 0) -> Path:
    """A small valid safetensors file (one float32 tensor of 4 values), optionally cut short by ``cut`` bytes."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    raw = struct.pack("<Q", len(header)) + header + bytes(16)
    path.write_bytes(raw[: len(raw) - cut])
    return path


@dataclass
class Env:
    """Everything the rows need, built once for the module."""

    tmp: Path
    st: Any
    raw: Any
    tokenizer: Any
    choice: models.ModelChoice
    clf: Any
    unwritable: Path
    files: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return str(self.files[name])

    def tiny(self) -> Any:
        """A fresh 8-dimensional static-embedding model."""
        from sentence_transformers.sentence_transformer import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding

        torch.manual_seed(0)
        return SentenceTransformer(modules=[StaticEmbedding(self.tokenizer, embedding_dim=8)], device="cpu")

    def out(self, name: str = "out.npy") -> str:
        return str(self.tmp / "outputs" / name)


def _write(env: Env, name: str, content: bytes | str) -> None:
    path = env.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    env.files[name] = path


def _folder(env: Env, name: str, files: dict[str, bytes | str | None]) -> None:
    """A model folder; a value None writes a valid small safetensors file."""
    folder = env.tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, content in files.items():
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            _safetensors(folder / file)
        else:
            (folder / file).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    env.files[name] = folder


@pytest.fixture(scope="module")
def env(tmp_path_factory, st_model, raw_and_tokenizer, choice) -> Env:
    from transformers import BertConfig, BertForSequenceClassification

    tmp = tmp_path_factory.mktemp("bad-inputs")
    raw, tokenizer = raw_and_tokenizer
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=1,
        intermediate_size=8,
        num_labels=2,
    )
    if os.geteuid() == 0:  # root writes anywhere a permission allows: /proc refuses new files even to root
        unwritable = Path("/proc")
    else:
        unwritable = tmp / "read-only"
        unwritable.mkdir()
        unwritable.chmod(0o500)
    e = Env(tmp, st_model, raw, tokenizer, choice, BertForSequenceClassification(config), unwritable)
    (tmp / "outputs").mkdir()
    lines = "\n".join(json.dumps(row) for row in TRIPLETS) + "\n"
    for name, content in {
        # data files a reader refuses (sources.read_file)
        "empty.csv": b"",
        "header.csv": "sentence1,sentence2\n",
        "quote.csv": 'sentence1,sentence2\nA cat.,"cut off\n',
        "fields.csv": "sentence1,sentence2\na,b,c\n",
        "utf16.csv": "sentence1,sentence2\na,b\n".encode("utf-16"),
        "latin1.csv": "sentence1,sentence2\ncafé,crème\n".encode("latin-1"),
        "gzip.jsonl": gzip.compress(lines.encode()),
        "binary.csv": b"a,b\n\x00\x01\x02,\x03\n",
        "broken.jsonl": '{"anchor": "a", "positive": "b"\n',
        "keys.jsonl": '{"anchor": "a", "positive": "b"}\n{"anchor": "a", "other": "b"}\n',
        "null.jsonl": '{"anchor": "a", "positive": null}\n',
        "mixed.jsonl": '{"sentence": "a", "label": 1}\n{"sentence": "b", "label": "two"}\n',
        "odd.jsonl": '{"question": "a", "answer": 3}\n',
        "notes.txt": "not a data file\n",
        "triplets.jsonl": lines,
        "qpn.jsonl": lines.replace('"anchor"', '"q"').replace('"positive"', '"p"').replace('"negative"', '"n"'),
        "pairs.csv": "sentence1,sentence2,label\nA cat.,A cat sleeps.,1\nA dog.,It rains.,0\n",
        "wrong.csv": "a,b\nx,y\n",
        "stsb-latin1.tsv": "main\tfile\t2012\t1\t4.0\tcafé\tcrème\n".encode("latin-1"),
        "stsb-short.tsv": "main\tfile\t4.0\n",
        # text files for stutor-encode
        "in.txt": "one\ntwo\n",
        "empty.txt": b"",
        "gaps.txt": "one\n\nthree\n",
        "nul.txt": b"one\n\x00\x01\x02\n",
        "latin1.txt": "café\n".encode("latin-1"),
        "utf16.txt": "one\ntwo\n".encode("utf-16"),
        "same.npy": "one\ntwo\n",
        "outputs/existing.npy": b"\x93NUMPY",
        # config files
        "typo.yaml": "bach-size: 8\n",
        "seed.yaml": "seed: 99999999999\n",
        "latin1.yaml": "data: café\n".encode("latin-1"),
        "afile": "x",
        # unusual but valid
        "crlf.csv": "sentence1,sentence2,label\r\nGrüße 👋,Hello 👋,1\r\nA cat.,It rains.,0\r\n",
        "bom.csv": "\ufeffsentence1,sentence2,label\nA cat.,A cat sleeps.,1\nA dog.,It rains.,0\n",
        "crlf.jsonl": lines.replace("\n", "\r\n"),
        "bom.jsonl": "\ufeff" + lines,
        "bom-crlf.tsv": "\ufeffanchor\tpositive\r\nnaïve café\tcafé 😀\r\nsame\tsame\r\n",
        "array-bom.json": "\ufeff" + json.dumps(TRIPLETS),
        "stsb-crlf.tsv": "\ufeffmain\tf\t2012\t1\t4.0\tA cat.\tA cat naps.\r\nmain\tf\t2012\t2\t1.0\tA dog.\tRain.\r\n",
        "quora.csv": "id,qid1,qid2,question1,question2,is_duplicate\n0,1,2,How to cook?,How do I cook?,1\n"
        "1,3,4,How to swim?,Who swims?,0\n",
        "duplicates-crlf-bom.jsonl": "\ufeff"
        + (json.dumps(TRIPLETS[0]) + "\r\n") * 3
        + json.dumps(TRIPLETS[1])
        + "\r\n",
        "crlf-bom-emoji.txt": "\ufeffGrüße 👋🏽\r\n" + "very long " * 2000 + "\r\n你好\r\n",
    }.items():
        _write(e, name, content)
    config = json.dumps({"model_type": "bert"})
    _folder(e, "no-config", {"README.md": "empty"})
    _folder(e, "no-weights", {"config.json": config})
    _folder(e, "empty-weights", {"config.json": config, "model.safetensors": b""})
    _folder(e, "bad-config", {"config.json": "{broken", "model.safetensors": None})
    _folder(e, "bad-header", {"config.json": config, "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00notjson!"})
    _folder(e, "bad-bin", {"config.json": config, "pytorch_model.bin": b"PK\x03\x04 cut off"})
    _folder(
        e,
        "bad-index",
        {"config.json": config, "model.safetensors.index.json": '{"weight_map": {"w": "s.safetensors"}}'},
    )
    _folder(e, "fake-model", {"config.json": config, "model.safetensors": None})
    _folder(e, "truncated", {"config.json": config, "model.safetensors": None})
    _safetensors(e.files["truncated"] / "model.safetensors", cut=5)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]
    _folder(e, "st-no-config", {"modules.json": json.dumps(modules), "model.safetensors": None})
    _folder(e, "st-bad-modules", {"modules.json": "[{broken", "model.safetensors": None})
    e.tiny().save(str(tmp / "static"))
    e.files["static"] = tmp / "static"
    _folder(e, "static-truncated", {})
    for file in (tmp / "static").iterdir():
        (e.files["static-truncated"] / file.name).write_bytes(file.read_bytes())
    weights = e.files["static-truncated"] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    state = json.dumps({"global_step": 2})
    _folder(e, "run-bad-state/checkpoint-2", {"trainer_state.json": "{broken", "model.safetensors": None})
    _folder(e, "run-cut/checkpoint-2", {"trainer_state.json": state, "model.safetensors": None})
    _safetensors(e.files["run-cut/checkpoint-2"] / "model.safetensors", cut=3)
    _folder(e, "run-no-weights/checkpoint-2", {"trainer_state.json": state})
    _folder(e, "run-bad-args/checkpoint-2", {"trainer_state.json": state, "model.safetensors": None})
    (tmp / "run-bad-args" / "train_args.json").write_text("{broken")
    _folder(e, "run-ok/checkpoint-2", {"trainer_state.json": state, "model.safetensors": None})
    for run in ("run-bad-state", "run-cut", "run-no-weights", "run-bad-args", "run-ok"):
        e.files[run] = tmp / run
    for name in ("resumed", "changed", "damaged"):  # encodings to resume: as started, input changed, progress damaged
        _write(e, f"{name}.txt", "one\ntwo\nthree\n")
        e.files[f"outputs/{name}.npy"] = streaming.encode_file(e.tiny(), e[f"{name}.txt"], e.out(f"{name}.npy"))
    with e.files["changed.txt"].open("a", encoding="utf-8") as handle:
        handle.write("four\n")
    streaming.progress_paths(e.files["outputs/damaged.npy"])[0].write_text("{broken", encoding="utf-8")
    return e


def bad(id: str, call: Callable[[Env], Any], error: type[Exception], *words: str) -> Any:
    """A bad input to a function: it must raise exactly ``error`` with ``words`` in the message."""
    return pytest.param(call, error, words, id=id)


def cli(id: str, command: str, argv: Callable[[Env], list[str]], *words: str) -> Any:
    """A bad command line: exit code 2, ``words`` on stderr, no traceback, no model loaded."""
    return pytest.param((command, argv), 2, words, id=f"cli-{id}")


def _checks_rows() -> list[Any]:
    check = checks
    return [
        bad("checks-positive-zero", lambda e: check.check_positive("batch_size", 0), ValueError, "batch_size", "not 0"),
        bad("checks-positive-bool", lambda e: check.check_positive("batch_size", True), ValueError, "not True"),
        bad("checks-positive-nan", lambda e: check.check_positive("rate", NAN, Real), ValueError, "not nan"),
        bad("checks-positive-inf", lambda e: check.check_positive("rate", INF, Real), ValueError, "not inf"),
        bad("checks-positive-huge", lambda e: check.check_positive("max_steps", 10**30), ValueError, "too large"),
        bad("checks-positive-numpy", lambda e: check.check_positive("n", np.int64(8)), ValueError, "int(...)"),
        bad("checks-positive-text", lambda e: check.check_positive("batch_size", "8"), ValueError, "not '8'"),
        bad("checks-count-negative", lambda e: check.check_non_negative_int("holdout", -1), ValueError, "holdout"),
        bad("checks-count-huge", lambda e: check.check_non_negative_int("holdout", 10**40), ValueError, "2**63 - 1"),
        bad("checks-fraction-one", lambda e: check.check_fraction("warmup_ratio", 1.0), ValueError, "up to but not"),
        bad("checks-seed-huge", lambda e: check.check_seed("seed", 99999999999), ValueError, "2**32", "99999999999"),
        bad("checks-seed-negative", lambda e: check.check_seed("seed", -1), ValueError, "seed", "not -1"),
        bad("checks-seed-float", lambda e: check.check_seed("seed", 1.5), ValueError, "not 1.5"),
        bad("checks-seed-giant", lambda e: check.check_seed("seed", 10**5000), ValueError, "about 10**5000"),
        bad("checks-decay-nan", lambda e: check.check_non_negative("weight_decay", NAN), ValueError, "finite"),
        bad("checks-choice", lambda e: check.check_choice("split", "val", ("train",)), ValueError, "('train',)"),
        bad("checks-texts-string", lambda e: check.check_texts("hello"), TypeError, "wrap it as ['hello']"),
        bad("checks-texts-empty", lambda e: check.check_texts([]), ValueError, "texts is empty"),
        bad("checks-texts-number", lambda e: check.check_texts(["a", 3]), TypeError, "texts[1] is int"),
        bad("checks-texts-blank", lambda e: check.check_texts(["a", " "]), ValueError, "texts[1] is an empty"),
        bad("checks-texts-none", lambda e: check.check_texts(None), TypeError, "not NoneType"),
        bad("checks-texts-2d", lambda e: check.check_texts(np.array([["a"]])), TypeError, "ndarray"),
        bad(
            "dataset-split",
            lambda e: check.as_dataset(DatasetDict(train=Dataset.from_list(TRIPLETS))),
            TypeError,
            "pick one split",
        ),
        bad("dataset-dict", lambda e: check.as_dataset({"a": ["x"]}), TypeError, "single dict"),
        bad("dataset-strings", lambda e: check.as_dataset(["a", "b"]), TypeError, "row 0 is str"),
        bad("dataset-generator", lambda e: check.as_dataset(r for r in TRIPLETS), TypeError, "not generator"),
        bad("dataset-huge-int", lambda e: check.as_dataset([{"s": "a", "label": 10**30}]), ValueError, "too large"),
        bad("dataset-mixed-list", lambda e: check.as_dataset([{"s": [1, "a"]}]), ValueError, "cannot be stored"),
        bad("dataset-object", lambda e: check.as_dataset([{"s": object()}]), ValueError, "cannot be stored"),
        bad("dataset-int-key", lambda e: check.as_dataset([{1: "x"}]), TypeError, "column name 1 is int"),
        bad("rows-keys", lambda e: check.as_dataset([{"a": "x"}, {"b": "y"}]), ValueError, "missing ['a']"),
        bad("rows-mixed", lambda e: check.as_dataset([{"a": "x"}, {"a": 3}]), ValueError, "a str in row 0"),
        bad(
            "rows-frame-nan",
            lambda e: check.as_dataset(pd.DataFrame({"a": ["x", None]})),
            ValueError,
            "column 'a' is empty in row 1",
        ),
        bad("output-file", lambda e: check.check_output_dir(e["afile"]), ValueError, "is a file"),
        bad("output-under-file", lambda e: check.check_output_dir(e["afile"] + "/m"), ValueError, "which is a file"),
        bad("output-unwritable", lambda e: check.check_output_dir(e.unwritable / "m"), ValueError, "cannot be written"),
        bad("output-type", lambda e: check.check_output_dir(3), TypeError, "folder path"),
        bad("device-gpu", lambda e: check.check_device("device", "gpu"), ValueError, "'gpu' is not a device"),
        bad("device-cuda-99", lambda e: check.check_device("device", "cuda:99"), ValueError, "'cuda:99'", "GPU"),
        bad("device-cpu-index", lambda e: check.check_device("device", "cpu:1"), ValueError, "takes no index"),
        bad("device-number", lambda e: check.check_device("device", 0), TypeError, "device string"),
        bad("tensor-string", lambda e: check.as_tensor("x", "abc", ("n",)), TypeError, "not str"),
        bad("tensor-ragged", lambda e: check.as_tensor("x", [[1.0], [1.0, 2.0]], ("n", "d")), ValueError, "ragged"),
        bad("tensor-words", lambda e: check.as_tensor("x", [["a"]], ("n", "d")), TypeError, "must hold numbers"),
    ]


def _data_rows() -> list[Any]:
    detect = cases.detect_case
    qqp_empty = {"set": {"query": "q", "pos": [], "neg": ["n"]}}
    return [
        bad("case-number-text", lambda e: detect([{"a": "x", "b": 3}]), TypeError, "Column 'b' row 0 holds int"),
        bad("case-empty-text", lambda e: detect([{"a": "", "b": "y"}]), ValueError, "empty string"),
        bad("case-bool-label", lambda e: detect([{"a": "x", "b": "y", "label": True}]), TypeError, "bool"),
        bad("case-text-label", lambda e: detect([{"a": "x", "label": "yes"}]), TypeError, "class_encode_column"),
        bad("case-int-score", lambda e: detect([{"a": "x", "b": "y", "score": 3}]), TypeError, "divide them by 5"),
        bad("case-score-range", lambda e: detect([{"a": "x", "b": "y", "score": 4.5}]), ValueError, "0-1"),
        bad("case-inf-score", lambda e: detect([{"a": "x", "b": "y", "score": INF}]), ValueError, "score inf"),
        bad(
            "case-labelled-triplet",
            lambda e: detect([{"a": "x", "b": "y", "c": "z", "label": 1}]),
            ValueError,
            "none of the four cases",
        ),
        bad(
            "case-two-labels",
            lambda e: detect([{"a": "x", "b": "y", "label": 1, "score": 0.5}]),
            ValueError,
            "keep one label column",
        ),
        bad("case-four-texts", lambda e: detect([dict.fromkeys("abcd", "x")]), ValueError, "1 to 3 text columns"),
        bad("case-no-rows", lambda e: detect([]), ValueError, "empty"),
        bad("case-negative-class", lambda e: detect([{"a": "x", "label": -1}]), ValueError, "0, 1, 2"),
        bad("schema-unknown", lambda e: schemas.convert([QQP], "qqp"), ValueError, "Unknown schema 'qqp'"),
        bad(
            "schema-option",
            lambda e: schemas.convert(TRIPLETS, "all_nli_triplet", bogus=1),
            TypeError,
            "no option 'bogus'",
        ),
        bad(
            "schema-qqp-option",
            lambda e: schemas.convert([QQP], "qqp_triplets", combos=1),
            TypeError,
            "all_combinations",
        ),
        bad("schema-qqp-empty", lambda e: schemas.convert([qqp_empty]), ValueError, "empty or missing 'pos'"),
        bad("schema-qqp-none", lambda e: schemas.qqp_to_triplets(None), TypeError, "not NoneType"),
        bad(
            "schema-stsb-range",
            lambda e: schemas.parse_stsb([{**{k: v[0] for k, v in PAIRS.items()}, "score": 3.0}]),
            ValueError,
            "from 0 to 1",
        ),
        bad("schema-no-match", lambda e: schemas.convert([{"x": "a", "y": "b"}]), ValueError, "match no known"),
        bad(
            "schema-two-labels",
            lambda e: schemas.convert([{"text": "a", "coarse": 1, "fine": 2}]),
            ValueError,
            "label_column='coarse'",
        ),
        bad(
            "schema-glue-test",
            lambda e: schemas.convert([{"sentence1": "a", "sentence2": "b", "label": -1, "idx": 0}]),
            ValueError,
            "GLUE test split",
        ),
        bad(
            "schema-quora-label",
            lambda e: schemas.convert([{"question1": "a", "question2": "b", "is_duplicate": 2}]),
            ValueError,
            "0 and 1",
        ),
        bad(
            "schema-columns",
            lambda e: schemas.convert([{"anchor": "a"}], "all_nli_triplet"),
            ValueError,
            "misses ['positive', 'negative']",
        ),
        bad("read-empty", lambda e: sources.read_file(e["empty.csv"]), ValueError, "is empty"),
        bad("read-header-only", lambda e: sources.read_file(e["header.csv"]), ValueError, "but no rows"),
        bad("read-open-quote", lambda e: sources.read_file(e["quote.csv"]), ValueError, "quote left open"),
        bad("read-fields", lambda e: sources.read_file(e["fields.csv"]), ValueError, "3 comma-separated fields"),
        bad("read-utf16", lambda e: sources.read_file(e["utf16.csv"]), ValueError, "UTF-16", "iconv"),
        bad("read-latin1", lambda e: sources.read_file(e["latin1.csv"]), ValueError, "line 2: not valid UTF-8"),
        bad("read-gzip", lambda e: sources.read_file(e["gzip.jsonl"]), ValueError, "gunzip"),
        bad("read-binary", lambda e: sources.read_file(e["binary.csv"]), ValueError, "binary data"),
        bad("read-invalid-json", lambda e: sources.read_file(e["broken.jsonl"]), ValueError, "line 1: invalid JSON"),
        bad("read-keys", lambda e: sources.read_file(e["keys.jsonl"]), ValueError, "row 2 has the keys"),
        bad("read-null", lambda e: sources.read_file(e["null.jsonl"]), ValueError, "column 'positive' is empty"),
        bad("read-mixed", lambda e: sources.read_file(e["mixed.jsonl"]), ValueError, "column 'label' holds a number"),
        bad("read-missing", lambda e: sources.read_file(e.tmp / "missing.csv"), ValueError, "does not exist"),
        bad("read-folder", lambda e: sources.read_file(e.tmp), ValueError, "is a folder"),
        bad("read-suffix", lambda e: sources.read_file(e["notes.txt"]), ValueError, "has suffix '.txt'"),
        bad("read-none", lambda e: sources.read_file(None), TypeError, "not None"),
        bad(
            "rows-schema",
            lambda e: sources.load_training_rows(e["pairs.csv"], schema="nope"),
            ValueError,
            "Unknown schema 'nope'",
        ),
        bad(
            "rows-label-column",
            lambda e: sources.load_training_rows(e["pairs.csv"], label_column="label"),
            ValueError,
            "already in the trainer's layout",
        ),
        bad("rows-layout", lambda e: sources.load_training_rows(e["odd.jsonl"]), ValueError, "not in the trainer's"),
        bad("stsb-latin1", lambda e: sources.read_stsb_tsv(e["stsb-latin1.tsv"]), ValueError, "not valid UTF-8"),
        bad("stsb-folder", lambda e: sources.read_stsb_tsv(e.tmp), ValueError, "is a folder"),
        bad("stsb-short", lambda e: sources.read_stsb_tsv(e["stsb-short.tsv"]), ValueError, "at least 7"),
        bad("stsb-missing", lambda e: sources.read_stsb_tsv(e.tmp / "no.tsv"), FileNotFoundError, "does not exist"),
        bad("stsb-none", lambda e: sources.read_stsb_tsv(None), TypeError, "not None"),
        bad("data-split", lambda e: data.group_triplets("validation"), ValueError, "Unknown split 'validation'"),
        bad("data-per-group", lambda e: data.group_triplets("train", per_group=0), ValueError, "per_group"),
        bad("data-search-split", lambda e: data.load_search_set("validation"), ValueError, "Unknown split"),
        bad("data-near-miss-split", lambda e: data.near_miss_retrieval("validation"), ValueError, "Unknown split"),
        bad("data-per-group-bool", lambda e: data.topic_sentences("train", per_group=True), ValueError, "not True"),
        bad("data-case", lambda e: data.bundled_case(7), ValueError, "Unknown case 7"),
        bad("data-case-score", lambda e: data.bundled_case(4, label_type="score"), ValueError, "only for case 1"),
        bad("data-qqp-limit", lambda e: data.load_qqp_triplets(limit=0, verbose=False), ValueError, "limit"),
        bad(
            "data-qqp-missing", lambda e: data.load_qqp_triplets(str(e.tmp / "no.jsonl")), ValueError, "does not exist"
        ),
        bad("data-qqp-folder", lambda e: data.load_qqp_triplets(str(e.tmp)), ValueError, "is a folder"),
        bad("data-stsb-split", lambda e: data.load_stsb("dev"), ValueError, "Unknown split 'dev'"),
        bad("data-stsb-columns", lambda e: data.load_stsb(source=e["wrong.csv"]), ValueError, "stsb schema needs"),
    ]


def _tensor_rows() -> list[Any]:
    pool = layers.masked_mean_pooling
    ones3, ones2 = torch.ones(2, 3, 4), torch.ones(2, 3)
    good = {"sentence1": PAIRS["sentence1"], "sentence2": PAIRS["sentence2"], "score": [5.0, 1.0, 0.0]}
    sp = evaluation.spearman_cosine
    a, b = np.eye(3), np.ones((3, 3))
    return [
        bad("pool-none", lambda e: pool(None, ones2), TypeError, "token_embeddings must be a torch tensor"),
        bad("pool-string", lambda e: pool(ones3, "mask"), TypeError, "attention_mask must be", "not str"),
        bad("pool-2d", lambda e: pool(torch.ones(2, 3), ones2), ValueError, "(batch, tokens, hidden)", "(2, 3)"),
        bad("pool-mask-3d", lambda e: pool(ones3, ones3), ValueError, "attention_mask must have shape"),
        bad("pool-disagree", lambda e: pool(ones3, torch.ones(2, 4)), ValueError, "(2, 3, 4)", "(2, 4)", "disagree"),
        bad("pool-mask-values", lambda e: pool(ones3, 2 * ones2), ValueError, "attention_mask holds 2"),
        bad("pool-nan", lambda e: pool(torch.full((2, 3, 4), NAN), ones2), ValueError, "NaN or inf"),
        bad("pool-ragged", lambda e: pool([[[1.0]], [[1.0, 2.0]]], [[1], [1]]), ValueError, "ragged"),
        bad(
            "layers-one-text",
            lambda e: layers.compare_layers(e.st, e.raw, e.tokenizer, "one text"),
            TypeError,
            "single string",
        ),
        bad(
            "layers-model",
            lambda e: layers.compare_layers(None, e.raw, e.tokenizer, ["a"]),
            TypeError,
            "model must be a SentenceTransformer",
        ),
        bad("layers-raw", lambda e: layers.compare_layers(e.st, None, e.tokenizer, ["a"]), TypeError, "raw_model"),
        bad("layers-tokenizer", lambda e: layers.compare_layers(e.st, e.raw, None, ["a"]), TypeError, "tokenizer"),
        bad(
            "layers-tolerance",
            lambda e: layers.compare_layers(e.st, e.raw, e.tokenizer, ["a"], tolerance=NAN),
            ValueError,
            "tolerance",
        ),
        bad("embed-method", lambda e: evaluation.embed(e.st, ["a"], "median"), ValueError, "Unknown method"),
        bad("embed-methods-int", lambda e: evaluation.embed(e.st, ["a"], 5), TypeError, "methods must be"),
        bad("embed-methods-empty", lambda e: evaluation.embed(e.st, ["a"], []), ValueError, "methods is empty"),
        bad("embed-no-texts", lambda e: evaluation.embed(e.st, []), ValueError, "texts is empty"),
        bad("embed-batch", lambda e: evaluation.embed(e.st, ["a"], batch_size=0), ValueError, "batch_size"),
        bad("embed-model", lambda e: evaluation.embed(None, ["a"]), TypeError, "SentenceTransformer"),
        bad("embed-static", lambda e: evaluation.embed(e.tiny(), ["a"]), TypeError, "first module is a Transformer"),
        bad("sts-columns", lambda e: evaluation.evaluate_sts(e.st, PAIRS), ValueError, "needs sentence1"),
        bad(
            "sts-range",
            lambda e: evaluation.evaluate_sts(e.st, {**good, "score": [7.0, 1, 0]}),
            ValueError,
            "outside the declared range",
        ),
        bad(
            "sts-score-range",
            lambda e: evaluation.evaluate_sts(e.st, good, score_range=(5, 0)),
            ValueError,
            "score_range",
        ),
        bad(
            "sts-equal",
            lambda e: evaluation.evaluate_sts(e.st, {**good, "score": [1.0, 1, 1]}),
            ValueError,
            "All gold scores are equal",
        ),
        bad(
            "sts-text-score",
            lambda e: evaluation.evaluate_sts(e.st, {**good, "score": ["high", 1, 0]}),
            TypeError,
            "scores[0]",
        ),
        bad("sts-model-name", lambda e: evaluation.evaluate_sts(e.st, good, model_name=3), TypeError, "model_name"),
        bad("sts-pairs-path", lambda e: evaluation.evaluate_sts(e.st, "pairs.csv"), TypeError, "pairs must be"),
        bad("sts-batch", lambda e: evaluation.evaluate_sts(e.st, good, batch_size=-1), ValueError, "batch_size"),
        bad("spearman-string", lambda e: sp("abc", b, [1, 2, 3]), TypeError, "embeddings1", "not str"),
        bad("spearman-1d", lambda e: sp(np.ones(3), np.ones(3), [1, 2, 3]), ValueError, "(pairs, dim)"),
        bad("spearman-shapes", lambda e: sp(a, b[:2], [1, 2, 3]), ValueError, "(3, 3), (2, 3) and 3 scores"),
        bad("spearman-scores-text", lambda e: sp(a, b, "abc"), TypeError, "scores must be"),
        bad("spearman-scores-nan", lambda e: sp(a, b, [1, NAN, 3]), ValueError, "scores holds NaN"),
        bad("spearman-scores-equal", lambda e: sp(a, b, [2, 2, 2]), ValueError, "different scores"),
        bad("spearman-one-pair", lambda e: sp(a[:1], b[:1], [1]), ValueError, "at least two pairs"),
        bad("spearman-none", lambda e: sp(a, b, None), TypeError, "not NoneType"),
        bad("best-pair-one", lambda e: costs.best_pair([[1.0, 0.0]]), ValueError, "n >= 2"),
        bad("best-pair-string", lambda e: costs.best_pair("abc"), TypeError, "embeddings must be"),
        bad("best-pair-1d", lambda e: costs.best_pair([1.0, 2.0]), ValueError, "(n, dim)", "(2,)"),
        bad("best-pair-nan", lambda e: costs.best_pair([[NAN, 0.0], [0.0, 1.0]]), ValueError, "NaN"),
        bad("threshold-nan", lambda e: classification.best_threshold([NAN, 0.2], [1, 0]), ValueError, "NaN"),
        bad("threshold-text", lambda e: classification.best_threshold(["a"], [1]), TypeError, "must hold numbers"),
        bad("threshold-none", lambda e: classification.best_threshold(None, [1]), TypeError, "scores must be"),
        bad("threshold-2d", lambda e: classification.best_threshold([[0.1]], [1]), ValueError, "shape (pairs)"),
        bad("threshold-labels", lambda e: classification.best_threshold([0.1, 0.2], [0, 2]), ValueError, "0 or 1"),
        bad("threshold-lengths", lambda e: classification.best_threshold([0.1, 0.2], [1]), ValueError, "equal length"),
    ]


def _model_rows() -> list[Any]:
    tl, trip = triplets, Dataset.from_list(TRIPLETS)
    three = [{"sentence1": "a", "sentence2": "b", "label": k} for k in (0, 1, 2)]
    one_each = [{"sentence": "a", "label": 0}, {"sentence": "b", "label": 1}]
    fine = classification.fine_tune
    rm = models.resolve_model
    return [
        bad("triplets-none", lambda e: tl.triplet_evaluator(None), TypeError, "triplets must be"),
        bad(
            "triplets-column",
            lambda e: tl.triplet_evaluator({"anchor": ["a"], "positive": ["b"]}),
            ValueError,
            "lack ['negative']",
        ),
        bad(
            "triplets-negatives-list",
            lambda e: tl.triplet_evaluator({"anchor": ["a"], "positive": ["b"], "negative": [["c", "d"]]}),
            TypeError,
            "ONE negative",
        ),
        bad(
            "triplets-lengths",
            lambda e: tl.triplet_evaluator({"anchor": ["a", "b"], "positive": ["b"], "negative": ["c"]}),
            ValueError,
            "equal lengths",
        ),
        bad("triplets-pair-row", lambda e: tl.triplet_evaluator([("a", "b")]), ValueError, "(anchor, positive"),
        bad("triplets-int-row", lambda e: tl.triplet_evaluator([5]), ValueError, "Triplet 0 is 5"),
        bad(
            "triplets-dict-rows",
            lambda e: tl.triplet_evaluator([{"anchor": "a", "positive": "b"}]),
            ValueError,
            "lack ['negative']",
        ),
        bad("triplets-name", lambda e: tl.triplet_evaluator(trip, name=3), TypeError, "name must be a string"),
        bad("triplets-batch", lambda e: tl.triplet_evaluator(trip, batch_size=0), ValueError, "batch_size"),
        bad("triplets-distances-model", lambda e: tl.triplet_distances(None, trip), TypeError, "SentenceTransformer"),
        bad(
            "triplets-distances-batch",
            lambda e: tl.triplet_distances(e.st, trip, batch_size=-1),
            ValueError,
            "batch_size",
        ),
        bad("loss-name", lambda e: losses.check_loss_fits("TripletLos", trip), ValueError, "not a sentence-trans"),
        bad("loss-case", lambda e: losses.check_loss_fits("CoSENTLoss", trip), ValueError, "does not fit this data"),
        bad(
            "loss-binary",
            lambda e: losses.check_loss_fits("OnlineContrastiveLoss", three),
            ValueError,
            "needs labels 0 (different) and 1",
        ),
        bad(
            "loss-batch-all",
            lambda e: losses.check_loss_fits("BatchAllTripletLoss", one_each),
            ValueError,
            "at least 2 classes with at least 2 sentences",
        ),
        bad("loss-none", lambda e: losses.check_loss_fits(None, trip), TypeError, "Expected a loss"),
        bad("loss-data-string", lambda e: losses.check_loss_fits("TripletLoss", "rows"), TypeError, "not str"),
        bad("build-loss-model", lambda e: losses.build_loss("TripletLoss", None), TypeError, "SentenceTransformer"),
        bad("build-loss-guide", lambda e: losses.build_loss("GISTEmbedLoss", e.tiny()), ValueError, "guide model"),
        bad(
            "build-loss-option",
            lambda e: losses.build_loss("TripletLoss", e.tiny(), margin=1),
            TypeError,
            "no argument 'margin'",
            "triplet_margin",
        ),
        bad("build-loss-labels", lambda e: losses.build_loss("SoftmaxLoss", e.tiny()), ValueError, "num_labels"),
        bad("fine-tune-string", lambda e: fine(e.clf, e.tokenizer, "text", [0]), TypeError, "inputs must be"),
        bad("fine-tune-lengths", lambda e: fine(e.clf, e.tokenizer, ["a", "b"], [0]), ValueError, "2 inputs but 1"),
        bad("fine-tune-label", lambda e: fine(e.clf, e.tokenizer, ["a", "b"], [0, 5]), ValueError, "Label 5"),
        bad("fine-tune-seed", lambda e: fine(e.clf, e.tokenizer, ["a"], [0], seed=2**32), ValueError, "2**32"),
        bad("fine-tune-epochs", lambda e: fine(e.clf, e.tokenizer, ["a"], [0], epochs=0), ValueError, "epochs"),
        bad("fine-tune-model", lambda e: fine(None, e.tokenizer, ["a"], [0]), TypeError, "AutoModelForSequence"),
        bad("fine-tune-tokenizer", lambda e: fine(e.clf, None, ["a"], [0]), TypeError, "tokenizer must be"),
        bad("fine-tune-labels-text", lambda e: fine(e.clf, e.tokenizer, ["a"], "0"), TypeError, "labels must be"),
        bad(
            "predict-model",
            lambda e: classification.predict_logits(None, e.tokenizer, ["a"]),
            TypeError,
            "AutoModelForSequence",
        ),
        bad("freeze-model", lambda e: classification.freeze_lower_layers(None), TypeError, "AutoModelForSequence"),
        bad("freeze-layers", lambda e: classification.freeze_lower_layers(e.clf, 99), ValueError, "between 0 and 2"),
        bad("costs-pairs", lambda e: costs.pair_count(-1), ValueError, "non-negative integer"),
        bad("costs-one-size", lambda e: costs.check_n_values([4]), ValueError, "at least two different sizes"),
        bad("costs-small-size", lambda e: costs.check_n_values([1, 4]), ValueError, ">= 2"),
        bad("costs-sizes-text", lambda e: costs.check_n_values("48"), TypeError, "list of integers"),
        bad(
            "costs-memory",
            lambda e: costs.time_similarity_search([2, 10**8], 384),
            ValueError,
            "more than this machine's",
        ),
        bad("costs-seed", lambda e: costs.time_similarity_search([2, 3], 8, seed="a"), ValueError, "seed"),
        bad("costs-dim", lambda e: costs.time_similarity_search([2, 3], 0), ValueError, "dim must be"),
        bad("costs-n", lambda e: costs.estimate_bi_encoder(_timings("bi-encoder"), n=1), ValueError, "integer >= 2"),
        bad(
            "costs-n-huge",
            lambda e: costs.estimate_bi_encoder(_timings("bi-encoder"), n=10**200),
            ValueError,
            "2**63 - 1",
        ),
        bad("costs-no-timings", lambda e: costs.fit_rate([]), ValueError, "timings is empty"),
        bad(
            "costs-architecture",
            lambda e: costs.estimate_cross_encoder(_timings("bi-encoder")),
            ValueError,
            "not 'cross-encoder'",
        ),
        bad("costs-pool", lambda e: costs.time_bi_encoder(e.st, ["a", "b"], [2, 8]), ValueError, "needs 8 sentences"),
        bad(
            "costs-model",
            lambda e: costs.time_bi_encoder(None, ["a", "b", "c"], [2, 3]),
            TypeError,
            "SentenceTransformer",
        ),
        bad("model-type", lambda e: rm(5, verbose=False), TypeError, "model must be a string"),
        bad("model-empty", lambda e: rm("", verbose=False), ValueError, "empty"),
        bad("model-name", lambda e: rm("not a model!", verbose=False), ValueError, "neither an existing folder"),
        bad("model-file", lambda e: rm(e["afile"], verbose=False), ValueError, "is a file"),
        bad("model-no-config", lambda e: rm(e["no-config"], verbose=False), ValueError, "no config.json"),
        bad("model-no-weights", lambda e: rm(e["no-weights"], verbose=False), ValueError, "no weights"),
        bad("model-empty-weights", lambda e: rm(e["empty-weights"], verbose=False), ValueError, "is empty (0 bytes)"),
        bad("model-truncated", lambda e: rm(e["truncated"], verbose=False), ValueError, "is truncated"),
        bad("model-bad-header", lambda e: rm(e["bad-header"], verbose=False), ValueError, "safetensors header"),
        bad("model-bad-config", lambda e: rm(e["bad-config"], verbose=False), ValueError, "not valid JSON"),
        bad("model-bad-bin", lambda e: rm(e["bad-bin"], verbose=False), ValueError, "damaged PyTorch file"),
        bad("model-missing-shard", lambda e: rm(e["bad-index"], verbose=False), ValueError, "shard s.safetensors"),
        bad("model-st-no-config", lambda e: models.check_model_folder(e["st-no-config"]), ValueError, "no config.json"),
        bad(
            "model-st-modules",
            lambda e: models.check_model_folder(e["st-bad-modules"]),
            ValueError,
            "modules.json is not valid JSON",
        ),
        bad("model-static-cut", lambda e: models.check_model_folder(e["static-truncated"]), ValueError, "truncated"),
        bad(
            "build-pooling",
            lambda e: models.build_sentence_transformer(e.choice, pooling="median"),
            ValueError,
            "Unknown pooling mode",
        ),
        bad(
            "build-seq-zero",
            lambda e: models.build_sentence_transformer(e.choice, max_seq_length=0),
            ValueError,
            "max_seq_length",
        ),
        bad(
            "build-seq-long",
            lambda e: models.build_sentence_transformer(e.choice, max_seq_length=100_000),
            ValueError,
            "512 token positions",
        ),
    ]


def _timings(architecture: str) -> list[costs.Timing]:
    return [costs.Timing(architecture, n, n, 0.01 * n, 0.001) for n in (4, 8)]


def _run_rows() -> list[Any]:
    def fit(e: Env, rows: Any = TRIPLETS, loss: Any = "TripletLoss", **options: Any) -> Any:
        return training.train(e.tiny(), rows, loss, **{"max_steps": 1, "batch_size": 2, **options})

    def encode_file(e: Env, text: str = "in.txt", out: str | None = None, model: Any = True, **options: Any) -> Any:
        path = e[text] if text in e.files else text
        return streaming.encode_file(e.tiny() if model is True else model, path, out or e.out(), **options)

    load = runs.load_run_data
    quiet = {"say": lambda line: None}
    return [
        bad("train-model", lambda e: training.train(None, TRIPLETS, "TripletLoss"), TypeError, "SentenceTransformer"),
        bad("train-data-string", lambda e: fit(e, "rows.csv"), TypeError, "not str"),
        bad("train-data-dict", lambda e: fit(e, {"anchor": ["a"]}), TypeError, "single dict"),
        bad(
            "train-data-split",
            lambda e: fit(e, DatasetDict(train=Dataset.from_list(TRIPLETS))),
            TypeError,
            "pick one split",
        ),
        bad("train-data-empty", lambda e: fit(e, []), ValueError, "is empty"),
        bad("train-epochs", lambda e: fit(e, epochs=0), ValueError, "epochs"),
        bad("train-epochs-nan", lambda e: fit(e, epochs=NAN), ValueError, "epochs", "nan"),
        bad("train-batch-huge", lambda e: fit(e, batch_size=10**30), ValueError, "batch_size", "too large"),
        bad("train-rate-text", lambda e: fit(e, learning_rate="0.1"), ValueError, "learning_rate"),
        bad("train-warmup", lambda e: fit(e, warmup_ratio=1.0), ValueError, "warmup_ratio"),
        bad("train-seed-huge", lambda e: fit(e, seed=2**32), ValueError, "seed", "2**32"),
        bad("train-seed-negative", lambda e: fit(e, seed=-1), ValueError, "seed"),
        bad("train-decay-nan", lambda e: fit(e, weight_decay=NAN), ValueError, "weight_decay"),
        bad("train-output-file", lambda e: fit(e, output_dir=e["afile"]), ValueError, "is a file"),
        bad("train-output-unwritable", lambda e: fit(e, output_dir=e.unwritable / "m"), ValueError, "cannot be writ"),
        bad("train-save-steps", lambda e: fit(e, save_steps=5), ValueError, "save_steps needs an output_dir"),
        bad(
            "train-resume-missing",
            lambda e: fit(e, resume_from_checkpoint=e.tmp / "no"),
            ValueError,
            "is not a checkpoint folder",
        ),
        bad(
            "train-resume-state",
            lambda e: fit(e, resume_from_checkpoint=e["run-bad-state/checkpoint-2"]),
            ValueError,
            "trainer_state.json is not valid",
        ),
        bad(
            "train-resume-cut",
            lambda e: fit(e, resume_from_checkpoint=e["run-cut/checkpoint-2"]),
            ValueError,
            "is truncated",
        ),
        bad(
            "train-resume-no-weights",
            lambda e: fit(e, resume_from_checkpoint=e["run-no-weights/checkpoint-2"]),
            ValueError,
            "no model weights",
        ),
        bad("train-evaluator", lambda e: fit(e, evaluator="dev"), TypeError, "evaluator must be"),
        bad("train-eval-steps", lambda e: fit(e, eval_steps=2), ValueError, "eval_steps needs an evaluator"),
        bad("train-loss-name", lambda e: fit(e, loss="NoSuchLoss"), ValueError, "not a sentence-transformers loss"),
        bad("train-loss-case", lambda e: fit(e, loss="CoSENTLoss"), ValueError, "does not fit this data"),
        bad("train-loss-type", lambda e: fit(e, loss=5), TypeError, "loss must be"),
        bad("train-report", lambda e: fit(e, report="case 4"), TypeError, "report must be"),
        bad("run-missing", lambda e: load(str(e.tmp / "no.jsonl"), **quiet), ValueError, "does not exist"),
        bad("run-case", lambda e: load(case=9, **quiet), ValueError, "Unknown case 9"),
        bad("run-loss", lambda e: load(loss="Nope", **quiet), ValueError, "'Nope': unknown"),
        bad("run-holdout", lambda e: load(holdout=-1, **quiet), ValueError, "holdout"),
        bad("run-holdout-bundled", lambda e: load(holdout=3, **quiet), ValueError, "holdout is for your own data"),
        bad(
            "run-holdout-eval",
            lambda e: load(e["triplets.jsonl"], holdout=2, eval_data="bundled-dev", **quiet),
            ValueError,
            "give one of them",
        ),
        bad(
            "run-holdout-all",
            lambda e: load(e["triplets.jsonl"], holdout=10**6, **quiet),
            ValueError,
            "leaves no training rows",
        ),
        bad(
            "run-holdout-pairs",
            lambda e: load(e["pairs.csv"], holdout=1, **quiet),
            ValueError,
            "holdout evaluates triplet accuracy",
        ),
        bad(
            "run-eval-names",
            lambda e: load(eval_data=e["qpn.jsonl"], **quiet),
            ValueError,
            "['q', 'p', 'n']",
            "'q' -> 'anchor'",
        ),
        bad("run-case-other", lambda e: load(e["triplets.jsonl"], case=2, **quiet), ValueError, "case 2 was asked"),
        bad("run-label-column", lambda e: load(label_column="label", **quiet), ValueError, "bundled data needs none"),
        bad("run-say", lambda e: load(say=None), TypeError, "say must be"),
        bad("run-schema", lambda e: load(e["triplets.jsonl"], schema="nope", **quiet), ValueError, "Unknown schema"),
        bad("run-max-rows", lambda e: load(max_train_rows=0, **quiet), ValueError, "max_train_rows"),
        bad(
            "run-settings",
            lambda e: runs.check_same_run({}, e["run-bad-args"] + "/train_args.json", ["seed"]),
            ValueError,
            "is damaged",
        ),
        bad("encode-model", lambda e: encode_file(e, model=None), TypeError, "model must be a SentenceTransformer"),
        bad("encode-input-none", lambda e: encode_file(e, text=None), TypeError, "path of a text file"),
        bad("encode-input-missing", lambda e: encode_file(e, text=str(e.tmp / "no.txt")), ValueError, "does not exi"),
        bad("encode-input-folder", lambda e: encode_file(e, text=str(e.tmp)), ValueError, "is not a file"),
        bad("encode-output-suffix", lambda e: encode_file(e, out=e.out("out.txt")), ValueError, "must end in .npy"),
        bad(
            "encode-output-folder",
            lambda e: encode_file(e, out=str(e.tmp / "none" / "o.npy")),
            ValueError,
            "Create it first",
        ),
        bad(
            "encode-output-is-input",
            lambda e: encode_file(e, text="same.npy", out=e["same.npy"]),
            ValueError,
            "is the input file",
        ),
        bad(
            "encode-output-unwritable",
            lambda e: encode_file(e, out=str(e.unwritable / "o.npy")),
            ValueError,
            "cannot be written",
        ),
        bad("encode-batch", lambda e: encode_file(e, batch_size=0), ValueError, "batch_size"),
        bad("encode-chunk", lambda e: encode_file(e, chunk_lines=-1), ValueError, "chunk_lines"),
        bad("encode-rank", lambda e: encode_file(e, rank=1), ValueError, "Pass both rank and world_size"),
        bad("encode-rank-range", lambda e: encode_file(e, rank=2, world_size=2), ValueError, "rank must be in"),
        bad("encode-empty", lambda e: encode_file(e, text="empty.txt"), ValueError, "is empty"),
        bad("encode-gaps", lambda e: encode_file(e, text="gaps.txt"), ValueError, "1 empty line(s)"),
        bad("encode-nul", lambda e: encode_file(e, text="nul.txt"), ValueError, "NUL bytes"),
        bad("encode-latin1", lambda e: encode_file(e, text="latin1.txt"), ValueError, "not valid UTF-8"),
        bad("encode-info", lambda e: encode_file(e, info="lines"), TypeError, "info must be"),
        bad("encoder-source", lambda e: streaming.encoder_source(5), TypeError, "not int"),
        bad("encoder-device", lambda e: streaming.load_encoder("embedded", device="gpu"), ValueError, "not a device"),
        bad(
            "encode-processes",
            lambda e: streaming.encode_in_processes("embedded", "a", "b", 10**6),
            ValueError,
            "CPU core",
        ),
    ]


def _command_rows() -> list[Any]:
    t, en = "stutor-train", "stutor-encode"
    big = str(10**30)
    return [
        cli("train-epochs", t, lambda e: ["--epochs", "0"], "--epochs", "positive number, not 0.0"),
        cli("train-batch-negative", t, lambda e: ["--batch-size", "-4"], "positive integer, not -4"),
        cli("train-batch-word", t, lambda e: ["--batch-size", "four"], "expected a positive integer, got 'four'"),
        cli("train-batch-huge", t, lambda e: ["--batch-size", big], "--batch-size", "too large"),
        cli("train-rate-nan", t, lambda e: ["--learning-rate", "nan"], "positive number, not nan"),
        cli("train-rate-inf", t, lambda e: ["--learning-rate", "inf"], "positive number, not inf"),
        cli("train-seed-huge", t, lambda e: ["--seed", "99999999999"], "--seed", "2**32", "99999999999"),
        cli("train-seed-negative", t, lambda e: ["--seed", "-1"], "--seed", "not -1"),
        cli("train-seed-float", t, lambda e: ["--seed", "1.5"], "expected an integer from 0 to 2**32 - 1"),
        cli("train-max-steps-huge", t, lambda e: ["--max-steps", big], "--max-steps", "too large"),
        cli("train-save-steps-huge", t, lambda e: ["--save-steps", big], "--save-steps", "too large"),
        cli("train-warmup", t, lambda e: ["--warmup-ratio", "1"], "from 0 up to but not including 1"),
        cli("train-loss", t, lambda e: ["--loss", "TripletLos"], "'TripletLos': unknown"),
        cli("train-loss-guide", t, lambda e: ["--loss", "GISTEmbedLoss"], "needs a guide model"),
        cli("train-case", t, lambda e: ["--case", "5"], "Unknown case '5'"),
        cli("train-loss-case", t, lambda e: ["--case", "4", "--loss", "CoSENTLoss"], "does not fit case 4"),
        cli("train-data-missing", t, lambda e: ["--data", str(e.tmp / "no.jsonl")], "does not exist"),
        cli("train-data-folder", t, lambda e: ["--data", str(e.tmp)], "is a folder"),
        cli("train-data-suffix", t, lambda e: ["--data", e["notes.txt"]], "has suffix '.txt'"),
        cli("train-data-quote", t, lambda e: ["--data", e["quote.csv"]], "quote left open"),
        cli("train-data-latin1", t, lambda e: ["--data", e["latin1.csv"]], "not valid UTF-8", "iconv"),
        cli("train-data-gzip", t, lambda e: ["--data", e["gzip.jsonl"]], "gzip-compressed"),
        cli("train-data-layout", t, lambda e: ["--data", e["odd.jsonl"]], "not in the trainer's layout"),
        cli("train-eval-missing", t, lambda e: ["--eval-data", "nowhere.csv"], "'nowhere.csv' does not exist"),
        cli("train-eval-steps", t, lambda e: ["--eval-data", "none", "--eval-steps", "5"], "needs evaluation data"),
        cli("train-schema", t, lambda e: ["--schema", "stsb"], "the bundled data needs none"),
        cli("train-holdout-pairs", t, lambda e: ["--data", e["pairs.csv"], "--holdout", "1"], "triplet accuracy"),
        cli(
            "train-holdout-names",
            t,
            lambda e: ["--data", e["qpn.jsonl"], "--holdout", "1"],
            "the holdout rows of",
            "rename them in the file",
        ),
        cli("train-output-file", t, lambda e: ["--output-dir", e["afile"]], "is a file; pass a folder"),
        cli("train-output-unwritable", t, lambda e: ["--output-dir", str(e.unwritable / "m")], "cannot be written"),
        cli(
            "train-output-is-model",
            t,
            lambda e: ["--model", e["fake-model"], "--output-dir", e["fake-model"]],
            "is the --model folder",
        ),
        cli("train-resume-none", t, lambda e: ["--resume", "--output-dir", str(e.tmp / "fresh")], "no checkpoint-N"),
        cli(
            "train-resume-state",
            t,
            lambda e: ["--resume", "--output-dir", e["run-bad-state"]],
            "trainer_state.json is not valid",
        ),
        cli("train-resume-cut", t, lambda e: ["--resume", "--output-dir", e["run-cut"]], "is truncated"),
        cli("train-resume-args", t, lambda e: ["--resume", "--output-dir", e["run-bad-args"]], "is damaged"),
        cli("train-model-no-weights", t, lambda e: ["--model", e["no-weights"]], "no weights"),
        cli("train-model-cut", t, lambda e: ["--model", e["truncated"]], "is truncated"),
        cli("train-model-config", t, lambda e: ["--model", e["bad-config"]], "not valid JSON"),
        cli("train-model-name", t, lambda e: ["--model", "not a model!"], "neither an existing folder"),
        cli(
            "train-seq-long",
            t,
            lambda e: ["--model", "embedded", "--max-seq-length", "100000"],
            "--max-seq-length 100000",
            "512",
        ),
        cli("train-config-missing", t, lambda e: ["--config", str(e.tmp / "no.yaml")], "does not exist"),
        cli("train-config-key", t, lambda e: ["--config", e["typo.yaml"]], "unknown key 'bach-size'"),
        cli("train-config-latin1", t, lambda e: ["--config", e["latin1.yaml"]], "is not UTF-8 text"),
        cli("train-config-folder", t, lambda e: ["--config", str(e.tmp)], "is a folder"),
        cli("train-config-seed", t, lambda e: ["--config", e["seed.yaml"]], "--seed", "2**32"),
        cli("train-option", t, lambda e: ["--no-such-option"], "unrecognized arguments: --no-such-option"),
        cli("encode-device-gpu", en, lambda e: [e["in.txt"], e.out(), "--device", "gpu"], "'gpu' is not a device"),
        cli("encode-device-cuda", en, lambda e: [e["in.txt"], e.out(), "--device", "cuda:99"], "'cuda:99'", "GPU"),
        cli("encode-device-cpu", en, lambda e: [e["in.txt"], e.out(), "--device", "cpu:1"], "takes no index"),
        cli("encode-device-empty", en, lambda e: [e["in.txt"], e.out(), "--device", ""], "device string"),
        cli("encode-same-file", en, lambda e: [e["same.npy"], e["same.npy"]], "is the input file"),
        cli("encode-unwritable", en, lambda e: [e["in.txt"], str(e.unwritable / "o.npy")], "cannot be written"),
        cli("encode-suffix", en, lambda e: [e["in.txt"], e.out("o.txt")], "must end in .npy"),
        cli("encode-no-folder", en, lambda e: [e["in.txt"], str(e.tmp / "none" / "o.npy")], "Create it first"),
        cli("encode-exists", en, lambda e: [e["in.txt"], e["outputs/existing.npy"]], "no progress file"),
        cli("encode-missing", en, lambda e: [str(e.tmp / "no.txt"), e.out()], "does not exist"),
        cli("encode-folder", en, lambda e: [str(e.tmp), e.out()], "is not a file"),
        cli("encode-empty", en, lambda e: [e["empty.txt"], e.out()], "is empty"),
        cli("encode-gaps", en, lambda e: [e["gaps.txt"], e.out()], "empty line(s)", "--allow-empty-lines"),
        cli("encode-nul", en, lambda e: [e["nul.txt"], e.out()], "NUL bytes"),
        cli("encode-latin1", en, lambda e: [e["latin1.txt"], e.out()], "not valid UTF-8"),
        cli("encode-utf16", en, lambda e: [e["utf16.txt"], e.out()], "UTF-16"),
        cli("encode-batch", en, lambda e: [e["in.txt"], e.out(), "--batch-size", "0"], "--batch-size"),
        cli("encode-batch-huge", en, lambda e: [e["in.txt"], e.out(), "--batch-size", big], "too large"),
        cli("encode-batch-word", en, lambda e: [e["in.txt"], e.out(), "--batch-size", "abc"], "invalid int value"),
        cli("encode-processes", en, lambda e: [e["in.txt"], e.out(), "--processes", "0"], "--processes"),
        cli("encode-processes-huge", en, lambda e: [e["in.txt"], e.out(), "--processes", "100000"], "CPU core"),
        cli("encode-chunk", en, lambda e: [e["in.txt"], e.out(), "--chunk-lines", "0"], "--chunk-lines"),
        cli(
            "encode-model-config", en, lambda e: [e["in.txt"], e.out(), "--model", e["st-no-config"]], "no config.json"
        ),
        cli("encode-model-cut", en, lambda e: [e["in.txt"], e.out(), "--model", e["static-truncated"]], "truncated"),
        cli(
            "encode-model-modules",
            en,
            lambda e: [e["in.txt"], e.out(), "--model", e["st-bad-modules"]],
            "modules.json is not valid JSON",
        ),
        cli("encode-model-hf-cut", en, lambda e: [e["in.txt"], e.out(), "--model", e["truncated"]], "is truncated"),
        cli("encode-model-name", en, lambda e: [e["in.txt"], e.out(), "--model", "not a model!"], "neither an"),
        cli(
            "encode-resume-chunks",
            en,
            lambda e: [e["resumed.txt"], e["outputs/resumed.npy"], "--chunk-lines", "7"],
            "was started with chunk_lines=4096",
        ),
        cli(
            "encode-resume-changed",
            en,
            lambda e: [e["changed.txt"], e["outputs/changed.npy"]],
            "changed since this encoding started",
            "--no-resume",
        ),
        cli(
            "encode-resume-damaged",
            en,
            lambda e: [e["damaged.txt"], e["outputs/damaged.npy"]],
            "unknown format or is damaged",
        ),
    ]


BAD = _checks_rows() + _data_rows() + _tensor_rows() + _model_rows() + _run_rows() + _command_rows()


def test_the_table_is_large_and_its_ids_are_distinct():
    ids = [row.id for row in BAD]
    assert len(ids) >= 100 and len(set(ids)) == len(ids)


def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was loaded before the arguments were checked")

    for module, name in [
        (models, "build_sentence_transformer"),
        (models, "load_pretrained_sentence_transformer"),
        (models, "load_hf_model"),
        (streaming, "load_encoder"),
        (streaming, "encode_in_processes"),
        (training, "train"),
    ]:
        monkeypatch.setattr(module, name, refuse)


def _run_command(command: str, argv: list[str]) -> int:
    main = train.main if command == "stutor-train" else encode.main
    try:
        return main(argv)
    except SystemExit as stop:  # stutor-encode exits through argparse's parser.error
        return int(stop.code or 0)


@pytest.mark.parametrize(("call", "expected", "words"), BAD)
def test_bad_input_gets_a_clear_error(env, monkeypatch, capsys, call, expected, words):
    if expected == 2:
        command, argv = call
        _no_model(monkeypatch)
        code = _run_command(command, argv(env))
        err = capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err and f"{command}: error:" in err
        for word in words:
            assert word in err, (word, err)
        return
    with pytest.raises(Exception) as info:  # noqa: PT011 - the exact type is checked below
        call(env)
    error = info.value
    assert type(error) is expected, f"{type(error).__module__}.{type(error).__name__}: {error}"
    for word in words:
        assert word in str(error), (word, str(error))


def test_a_hub_name_the_hub_does_not_know_is_refused_and_only_an_unreachable_hub_falls_back(monkeypatch, capsys):
    monkeypatch.setattr(models, "hub_status", lambda *args, **kwargs: "missing")
    with pytest.raises(ValueError, match="The Hugging Face Hub has no data set named 'someone/typo'"):
        runs.load_run_data("someone/typo", eval_data="none")
    monkeypatch.setattr(models, "hub_status", lambda *args, **kwargs: "unreachable")
    lines: list[str] = []
    prepared = runs.load_run_data("someone/typo", eval_data="none", say=lines.append)
    assert lines == [sources.fallback_message("someone/typo", "paraphrase-group triplets (train split)")]
    assert "offline fallback" in prepared.description


# --- unusual but valid: accepted, and read right ----------------------------------------------------


def ok(id: str, call: Callable[[Env], Any], check: Callable[[Any], bool] = lambda result: True) -> Any:
    """An unusual input that must be accepted; ``check`` looks at the result."""
    return pytest.param(call, check, id=id)


def _close(a: Any, b: Any) -> bool:
    return bool(torch.allclose(torch.as_tensor(a).float(), torch.as_tensor(b).float()))


TOKENS = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
MASK = [[1, 1, 0], [1, 0, 0]]
EXPECTED_POOL = layers.masked_mean_pooling(torch.tensor(TOKENS), torch.tensor(MASK))
EMOJI = ["Grüße 👋🏽 你好", "naïve café ☕", "x" * 100_000]

GOOD = [
    ok("texts-unicode-long", lambda e: checks.check_texts(EMOJI), lambda r: r == EMOJI),
    ok("texts-numpy", lambda e: checks.check_texts(np.array(["a", "b"])), lambda r: r == ["a", "b"]),
    ok("texts-series", lambda e: checks.check_texts(pd.Series(["a", "b"])), lambda r: r == ["a", "b"]),
    ok("seed-largest", lambda e: checks.check_seed("seed", 2**32 - 1)),
    ok("count-largest", lambda e: checks.check_positive("max_steps", checks.MAX_INT)),
    ok("device-cpu", lambda e: checks.check_device("device", " cpu "), lambda r: r == "cpu"),
    ok("dataset-frame", lambda e: checks.as_dataset(pd.DataFrame(TRIPLETS)), lambda r: r.num_rows == 4),
    ok(
        "dataset-frame-numpy-ints",
        lambda e: checks.as_dataset(pd.DataFrame({"s": ["a", "b"], "label": np.arange(2)})),
        lambda r: r["label"] == [0, 1],
    ),
    ok(
        "case-duplicates-unicode",
        lambda e: cases.detect_case([{"a": EMOJI[0], "b": EMOJI[1]}] * 3),
        lambda r: r.case is cases.Case.POSITIVE_PAIR and r.num_rows == 3,
    ),
    ok("case-frame", lambda e: cases.detect_case(pd.DataFrame(TRIPLETS)), lambda r: r.case is cases.Case.TRIPLET),
    ok(
        "read-csv-crlf",
        lambda e: sources.read_file(e["crlf.csv"]),
        lambda r: r["sentence1"] == ["Grüße 👋", "A cat."] and r["label"] == [1, 0],
    ),
    ok("read-csv-bom", lambda e: sources.read_file(e["bom.csv"]), lambda r: r.column_names[0] == "sentence1"),
    ok("read-jsonl-crlf", lambda e: sources.read_file(e["crlf.jsonl"]), lambda r: r.to_list() == TRIPLETS),
    ok("read-jsonl-bom", lambda e: sources.read_file(e["bom.jsonl"]), lambda r: r.to_list() == TRIPLETS),
    ok(
        "read-tsv-bom-crlf",
        lambda e: sources.read_file(e["bom-crlf.tsv"]),
        lambda r: r["positive"] == ["café 😀", "same"],
    ),
    ok("read-json-array-bom", lambda e: sources.read_file(e["array-bom.json"]), lambda r: r.to_list() == TRIPLETS),
    ok(
        "read-stsb-crlf-bom",
        lambda e: sources.read_stsb_tsv(e["stsb-crlf.tsv"]),
        lambda r: r["score"] == [4.0, 1.0] and r["sentence2"] == ["A cat naps.", "Rain."],
    ),
    ok(
        "rows-extra-columns",
        lambda e: sources.load_training_rows(e["quora.csv"]),
        lambda r: r[0].column_names == ["sentence1", "sentence2", "label"],
    ),
    ok("pool-numpy", lambda e: layers.masked_mean_pooling(TOKENS, np.array(MASK)), lambda r: _close(r, EXPECTED_POOL)),
    ok("pool-lists", lambda e: layers.masked_mean_pooling(TOKENS.tolist(), MASK), lambda r: _close(r, EXPECTED_POOL)),
    ok(
        "pool-bool-mask",
        lambda e: layers.masked_mean_pooling(torch.tensor(TOKENS), torch.tensor(MASK).bool()),
        lambda r: _close(r, EXPECTED_POOL),
    ),
    ok(
        "spearman-numpy",
        lambda e: evaluation.spearman_cosine(np.eye(3), np.eye(3)[::-1] + np.eye(3), np.array([3, 1, 2])),
        lambda r: isinstance(r, float) and -100 <= r <= 100,
    ),
    ok(
        "spearman-lists",
        lambda e: evaluation.spearman_cosine([[1, 0], [0, 1]], [[1, 0], [1, 1]], [5.0, 1.0]),
        lambda r: r == pytest.approx(100.0),
    ),
    ok("best-pair-numpy", lambda e: costs.best_pair(np.array([[1.0, 0], [0, 1], [1, 0.1]])), lambda r: r[:2] == (0, 2)),
    ok("best-pair-lists", lambda e: costs.best_pair([[1, 0], [0, 1], [0, 2]]), lambda r: r[:2] == (1, 2)),
    ok(
        "threshold-tensor",
        lambda e: classification.best_threshold(torch.tensor([0.1, 0.9]), np.array([0, 1])),
        lambda r: r[1] == 1.0,
    ),
    ok(
        "scored-pairs-numpy",
        lambda e: evaluation.check_scored_pairs(["a", "b"], ["c", "d"], np.array([1.0, 2.0])),
        lambda r: r[2] == [1.0, 2.0],
    ),
    ok("triplets-dict-rows", lambda e: triplets.triplet_evaluator(TRIPLETS), lambda r: len(r.anchors) == 4),
    ok(
        "triplets-frame-extra",
        lambda e: triplets.triplet_evaluator(pd.DataFrame(TRIPLETS).assign(topic="t")),
        lambda r: len(r.anchors) == 4,
    ),
    ok(
        "loss-fits-frame",
        lambda e: losses.check_loss_fits("TripletLoss", pd.DataFrame(TRIPLETS)),
        lambda r: r.case is cases.Case.TRIPLET,
    ),
    ok(
        "build-loss-dict-rows",
        lambda e: losses.build_loss("SoftmaxLoss", e.tiny(), [{"a": "x", "b": "y", "label": 2}]),
        lambda r: r.num_labels == 3,
    ),
    ok("convert-frame", lambda e: schemas.convert(pd.DataFrame([QQP])), lambda r: r.column_names[0] == "anchor"),
    ok(
        "parse-stsb-rows",
        lambda e: schemas.parse_stsb([{"sentence1": "a", "sentence2": "b", "score": 0.5}]),
        lambda r: r["score"] == [0.5],
    ),
    ok(
        "sts-dict-rows",
        lambda e: evaluation.evaluate_sts(
            e.st,
            [
                {"sentence1": a, "sentence2": b, "score": s}
                for a, b, s in zip(*PAIRS.values(), [5.0, 1.0, 0.0], strict=True)
            ],
            methods="mean",
        ),
        lambda r: r.n_pairs == 3,
    ),
    ok("embed-unicode-long", lambda e: evaluation.embed(e.st, EMOJI, "mean"), lambda r: r["mean"].shape == (3, 384)),
    ok("scan-crlf-bom", lambda e: streaming.scan_text_file(e["crlf-bom-emoji.txt"]), lambda r: r.n_lines == 3),
    ok(
        "encode-crlf-bom-emoji",
        lambda e: np.load(streaming.encode_file(e.tiny(), e["crlf-bom-emoji.txt"], e.out("emoji.npy"), resume=False)),
        lambda r: r.shape == (3, 8),
    ),
    ok(
        "train-frame-duplicates",
        lambda e: training.train(
            e.tiny(), pd.DataFrame([TRIPLETS[0]] * 3 + TRIPLETS), "TripletLoss", max_steps=1, batch_size=2
        ),
        lambda r: r.steps == 1,
    ),
    ok(
        "fine-tune-numpy-labels",
        lambda e: classification.fine_tune(
            e.clf, e.tokenizer, np.array(["a b", "c d"]), np.array([0, 1]), epochs=1, batch_size=2
        ),
        lambda r: len(r) == 1,
    ),
    ok(
        "run-data-duplicates-bom-crlf",
        lambda e: runs.load_run_data(e["duplicates-crlf-bom.jsonl"], eval_data="none"),
        lambda r: len(r.train) == 4 and r.report.case is cases.Case.TRIPLET,
    ),
    ok(
        "train-command-data",
        lambda e: train.load_data(train.parse_args(["--data", e["bom-crlf.tsv"]]), verbose=False),
        lambda r: r.report.case is cases.Case.POSITIVE_PAIR,
    ),
    ok(
        "encode-command-args",
        lambda e: encode.check_arguments(
            encode.build_parser().parse_args([e["crlf-bom-emoji.txt"], e.out("args.npy"), "--device", "cpu"])
        ),
        lambda r: r["info"].n_lines == 3,
    ),
    ok("model-folder-embedded", lambda e: models.check_model_folder(models.embedded_model_path())),
    ok("model-folder-static", lambda e: models.check_model_folder(e["static"])),
    ok("model-folder-fake", lambda e: models.resolve_model(e["fake-model"], verbose=False), lambda r: not r.embedded),
    ok("checkpoint-whole", lambda e: training.check_checkpoint(e["run-ok/checkpoint-2"])),
]


@pytest.mark.parametrize(("call", "check"), GOOD)
def test_unusual_but_valid_input_is_accepted(env, call, check):
    assert check(call(env))
