"""The course's data: bundled tutorial data written for this course, and the online loaders.

Bundled (``stutor/resources/``, no third-party text):

- paraphrase groups: questions asked in several ways, a topic per group, and hard negatives
  (same topic, different intent), split into train/dev/test by group;
- scored sentence pairs (0-5) for STS-style evaluation.

Online, the loaders fetch what the reference tutorial uses (``embedding-data/QQP_triplets``)
and the STS benchmark (``sentence-transformers/stsb``); when the Hub is out of reach they fall
back to the bundled data and print one line saying so.

Taught in: notebook 01 (paraphrase groups), 03 (scored pairs), 04 and 07 (triplets).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from datasets import Dataset

SPLITS = ("train", "dev", "test")
SPLIT_FRACTIONS = {"train": 0.7, "dev": 0.15, "test": 0.15}
SPLIT_SEED = 13
QQP_TRIPLETS = "embedding-data/QQP_triplets"
STSB = "sentence-transformers/stsb"
STSB_SPLITS = ("train", "validation", "test")


def _resource(name: str) -> Path:
    return Path(str(resources.files("stutor") / "resources" / name))


@lru_cache(maxsize=1)
def _groups() -> tuple[dict[str, Any], ...]:
    groups = json.loads(_resource("paraphrase_groups.json").read_text(encoding="utf-8"))
    ids = sorted(group["id"] for group in groups)
    random.Random(SPLIT_SEED).shuffle(ids)
    n_train = round(len(ids) * SPLIT_FRACTIONS["train"])
    n_dev = round(len(ids) * SPLIT_FRACTIONS["dev"])
    split_of = {gid: "train" for gid in ids[:n_train]}
    split_of |= {gid: "dev" for gid in ids[n_train : n_train + n_dev]}
    split_of |= {gid: "test" for gid in ids[n_train + n_dev :]}
    return tuple({**group, "split": split_of[group["id"]]} for group in groups)


def _check_split(split: str | None, allowed: tuple[str, ...] = SPLITS) -> None:
    if split is not None and split not in allowed:
        raise ValueError(f"Unknown split {split!r}. Choose one of {allowed} (or None for all).")


def load_paraphrase_groups(split: str | None = None) -> Dataset:
    """Load the bundled question paraphrase groups.

    Each row is one group: ``id``, ``topic``, ``paraphrases`` (the same question asked several
    ways), ``hard_negatives`` (same topic, different intent) and ``split``. Groups never cross
    splits, so a model evaluated on ``test`` has not seen those questions in training.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for all groups.

    Returns:
        A ``datasets.Dataset`` with one row per group.
    """
    _check_split(split)
    rows = [group for group in _groups() if split is None or group["split"] == split]
    return Dataset.from_list(rows)


def bundled_triplets(split: str | None = None) -> Dataset:
    """One (anchor, positive, negative) triplet per bundled group.

    The anchor and positive are two paraphrases of the group's question; the negative is the
    group's first hard negative (same topic, different intent), so the triplets are not trivial.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for all groups.

    Returns:
        A ``datasets.Dataset`` with columns ``anchor``, ``positive``, ``negative``.
    """
    groups = load_paraphrase_groups(split)
    return Dataset.from_dict(
        {
            "anchor": [g["paraphrases"][0] for g in groups],
            "positive": [g["paraphrases"][1] for g in groups],
            "negative": [g["hard_negatives"][0] for g in groups],
        }
    )


def load_sts_pairs() -> Dataset:
    """Load the bundled scored sentence pairs (written for this course).

    Returns:
        A ``datasets.Dataset`` with ``sentence1``, ``sentence2`` and ``score`` (0 to 5, where 5
        means the two sentences say the same thing).
    """
    with _resource("sts_pairs.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return Dataset.from_dict(
        {
            "sentence1": [row["sentence1"] for row in rows],
            "sentence2": [row["sentence2"] for row in rows],
            "score": [float(row["score"]) for row in rows],
        }
    )


def fallback_message(wanted: str, used: str) -> str:
    """The one line printed when a Hub data set is out of reach.

    Args:
        wanted: the Hub name that was asked for.
        used: what is used instead.

    Returns:
        The message.
    """
    return f"Hugging Face Hub out of reach: using the bundled {used} instead of {wanted}."


def load_source(source: str | Path, hub_name: str, split: str) -> Dataset | None:
    """Load a data set from a local file or the Hub, never waiting long for the Hub.

    Args:
        source: a local .json/.jsonl/.parquet/.csv/.tsv file, or a Hub data set name.
        hub_name: the Hub name this loader expects (used in error messages).
        split: the split to load from the Hub.

    Returns:
        The rows, or None when the Hub cannot be reached (the caller falls back).
    """
    from datasets import load_dataset

    from stutor.models import hub_status

    path = Path(source)
    if path.is_file():
        suffix = path.suffix.lower().lstrip(".")
        builder = {"jsonl": "json", "json": "json", "parquet": "parquet", "csv": "csv", "tsv": "csv"}.get(suffix)
        if builder is None:
            raise ValueError(f"{path} has suffix .{suffix}; use a .json, .jsonl, .parquet, .csv or .tsv file.")
        extra = {"delimiter": "\t"} if suffix == "tsv" else {}
        return load_dataset(builder, data_files=str(path), split="train", **extra)
    if str(source) != hub_name and ("/" not in str(source) or path.suffix):
        raise ValueError(f"{source!r} is neither an existing file nor a Hub data set name like {hub_name!r}.")
    if hub_status(str(source), repo_type="dataset") != "found":
        return None
    return load_dataset(str(source), split=split)


def qqp_to_triplets(rows: Iterable[Mapping[str, Any]], *, all_combinations: bool = False) -> Dataset:
    """Turn rows in the ``embedding-data/QQP_triplets`` schema into triplets.

    The schema is ``{"set": {"query": str, "pos": [str, ...], "neg": [str, ...]}}``.

    Args:
        rows: the rows (a ``Dataset`` or a list of dicts).
        all_combinations: one triplet per (pos, neg) combination instead of one per query
            (its first positive and first negative).

    Returns:
        A ``datasets.Dataset`` with ``anchor``, ``positive``, ``negative``.

    Raises:
        ValueError: a row without ``set``/``query``/``pos``/``neg``, or with an empty list.
    """
    anchors: list[str] = []
    positives: list[str] = []
    negatives: list[str] = []
    for index, row in enumerate(rows):
        item = row.get("set") if isinstance(row, Mapping) else None
        if not isinstance(item, Mapping) or not {"query", "pos", "neg"} <= set(item):
            raise ValueError(
                f"Row {index} is {str(row)[:80]!r}; expected the QQP_triplets shape "
                '{"set": {"query": str, "pos": [str, ...], "neg": [str, ...]}}.'
            )
        query, pos, neg = item["query"], item["pos"], item["neg"]
        for key, values in (("pos", pos), ("neg", neg)):
            if not isinstance(values, list) or not values:
                raise ValueError(f"Row {index} has an empty or missing {key!r} list; each query needs at least one.")
        texts = [query, *pos, *neg]
        if any(not isinstance(text, str) or not text.strip() for text in texts):
            raise ValueError(f"Row {index} holds an empty or non-string sentence; every text must be a non-empty str.")
        pairs = [(p, n) for p in pos for n in neg] if all_combinations else [(pos[0], neg[0])]
        for positive, negative in pairs:
            anchors.append(query)
            positives.append(positive)
            negatives.append(negative)
    if not anchors:
        raise ValueError("No rows to convert: the QQP_triplets data is empty.")
    return Dataset.from_dict({"anchor": anchors, "positive": positives, "negative": negatives})


def load_qqp_triplets(
    source: str | Path = QQP_TRIPLETS,
    *,
    limit: int | None = None,
    all_combinations: bool = False,
    verbose: bool = True,
) -> Dataset:
    """Load the reference tutorial's QQP triplets, or the bundled triplets when offline.

    Args:
        source: the Hub name (default) or a local .json/.jsonl/.parquet file in the same schema.
        limit: keep only the first ``limit`` queries.
        all_combinations: see :func:`qqp_to_triplets`.
        verbose: print the fallback line.

    Returns:
        A ``datasets.Dataset`` with ``anchor``, ``positive``, ``negative``.
    """
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"limit must be a positive integer or None, not {limit!r}.")
    raw = load_source(source, QQP_TRIPLETS, "train")
    if raw is None:
        if verbose:
            print(fallback_message(QQP_TRIPLETS, "paraphrase-group triplets (train split)"))
        triplets = bundled_triplets("train")
        return triplets.select(range(min(limit, len(triplets)))) if limit else triplets
    if limit is not None:
        raw = raw.select(range(min(limit, len(raw))))
    return qqp_to_triplets(raw, all_combinations=all_combinations)


def parse_stsb(rows: Dataset) -> Dataset:
    """Check rows in the ``sentence-transformers/stsb`` schema and keep its three columns.

    Args:
        rows: a ``Dataset`` with ``sentence1``, ``sentence2`` and ``score`` in 0-1.

    Returns:
        The same rows with exactly those columns.

    Raises:
        ValueError: a missing column, or a score outside 0-1.
    """
    missing = {"sentence1", "sentence2", "score"} - set(rows.column_names)
    if missing:
        raise ValueError(
            f"The data has columns {rows.column_names}; the stsb schema needs sentence1, sentence2 and "
            f"score (missing: {sorted(missing)})."
        )
    scores = rows["score"]
    bad = [i for i, s in enumerate(scores) if not isinstance(s, int | float) or not 0.0 <= float(s) <= 1.0]
    if bad:
        raise ValueError(
            f"Row {bad[0]} has score {scores[bad[0]]!r}; stsb scores are numbers from 0 to 1 (divide 0-5 scores by 5)."
        )
    return rows.select_columns(["sentence1", "sentence2", "score"])


def load_stsb(split: str = "test", source: str | Path = STSB, *, verbose: bool = True) -> Dataset:
    """Load the STS benchmark from the Hub, or the bundled scored pairs when offline.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (ignored for local files and offline).
        source: the Hub name (default) or a local file in the same schema.
        verbose: print the fallback line.

    Returns:
        A ``datasets.Dataset`` with ``sentence1``, ``sentence2`` and ``score`` in 0-1.
    """
    _check_split(split, STSB_SPLITS)
    raw = load_source(source, STSB, split)
    if raw is None:
        if verbose:
            print(fallback_message(STSB, "scored sentence pairs"))
        pairs = load_sts_pairs()
        return pairs.remove_columns("score").add_column("score", [score / 5.0 for score in pairs["score"]])
    return parse_stsb(raw)
