"""The course's data: the bundled tutorial data and everything derived from it, and the online loaders.

Bundled (``stutor/resources/``, written for this course, no third-party text):

- paraphrase groups: questions asked in several ways, a topic per group, and hard negatives
  (same topic, different intent), split into train/dev/test by group;
- scored sentence pairs (0-5) for STS-style evaluation;
- near-miss groups: a question, true paraphrases of it, and near misses that share almost every
  word with it but change the one detail the answer depends on (a direction, an order, a polarity,
  a number, who does what to whom, a negation), split into train/dev/test by group, per kind;
- a search set: short questions against answer passages in twelve topics, with near-miss passages
  side by side, the questions split into train/dev/test by passage (:func:`load_search_set`).

Every data set the notebooks derive from the groups comes from here, per split: triplets
(:func:`group_triplets`), the four cases (:func:`bundled_case`), topic-labelled sentences
(:func:`topic_sentences`), duplicate pairs (:func:`duplicate_pairs`) and a sentence pool for
timing runs (:func:`all_sentences`). The near-miss groups (:func:`load_near_miss_groups`) give
triplets whose negative is a near miss (:func:`near_miss_triplets`): the pretrained model often
gets them wrong, so a short fine-tune has something to learn offline.

Online, :func:`load_qqp_triplets` and :func:`load_stsb` fetch what the reference tutorial uses
(``embedding-data/QQP_triplets``) and the STS benchmark (``sentence-transformers/stsb``); when the
Hub is out of reach they fall back to the bundled data and print one line saying so.

Taught in: notebook 01 (paraphrase groups), 03 (scored pairs), 04 and 05 (the four cases), 06 (topics,
duplicate pairs), 07 (triplets, near-miss triplets), 08 (near-miss roles and retrieval) and 09 (the search set).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from datasets import Dataset

from stutor import schemas, sources
from stutor.cases import Case
from stutor.checks import check_choice, check_positive

SPLITS = ("train", "dev", "test")
SPLIT_FRACTIONS = {"train": 0.7, "dev": 0.15, "test": 0.15}
SPLIT_SEED = 13
QQP_TRIPLETS = "embedding-data/QQP_triplets"
STSB = "sentence-transformers/stsb"
STSB_SPLITS = ("train", "validation", "test")
NEAR_MISS_KINDS = ("direction", "order", "polarity", "number", "role", "negation")
NEAR_MISS_SPLIT_FRACTIONS = {"train": 0.6, "dev": 0.2, "test": 0.2}
NEAR_MISS_SPLIT_SEED = 29


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


def _groups_of(split: str | None) -> list[dict[str, Any]]:
    check_choice("split", split, SPLITS, allow_none=True)
    return [group for group in _groups() if split is None or group["split"] == split]


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
    return Dataset.from_list(_groups_of(split))


def group_triplets(split: str | None, per_group: int | None = None) -> Dataset:
    """Triplets from the bundled paraphrase groups of one split, one negative per triplet.

    In each group, paraphrase ``i`` is the anchor, paraphrase ``i + 1`` (wrapping round) its
    positive and hard negative ``i`` (cycling through the group's hard negatives) its negative:
    a question of the same topic with a different intent. ``per_group=1`` gives one triplet per
    group: its first two paraphrases and its first hard negative.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every group.
        per_group: at most this many triplets per group; None for one per paraphrase.

    Returns:
        A ``datasets.Dataset`` with ``anchor``, ``positive`` and ``negative`` (strings).

    Raises:
        ValueError: an unknown split or a ``per_group`` that is not a positive integer.
    """
    check_positive("per_group", per_group, optional=True)
    rows: dict[str, list[str]] = {"anchor": [], "positive": [], "negative": []}
    for group in _groups_of(split):
        paraphrases, negatives = group["paraphrases"], group["hard_negatives"]
        count = len(paraphrases) if per_group is None else min(per_group, len(paraphrases))
        for i in range(count):
            rows["anchor"].append(paraphrases[i])
            rows["positive"].append(paraphrases[(i + 1) % len(paraphrases)])
            rows["negative"].append(negatives[i % len(negatives)])
    return Dataset.from_dict(rows)


def topics() -> list[str]:
    """The bundled topics, sorted; a topic's label is its position in this list.

    Returns:
        The topic names.
    """
    return sorted({group["topic"] for group in _groups()})


def topic_sentences(split: str | None, per_group: int | None = None) -> Dataset:
    """Every paraphrase of the groups of one split, labelled with its group's topic.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for all groups. Groups never cross
            splits, so test sentences are new questions, not rewordings of training ones.
        per_group: keep at most this many paraphrases per group; None keeps all.

    Returns:
        A ``datasets.Dataset`` with ``sentence``, ``label`` (int) and ``topic``.
    """
    check_positive("per_group", per_group, optional=True)
    label_of = {topic: index for index, topic in enumerate(topics())}
    rows = [
        {"sentence": sentence, "label": label_of[group["topic"]], "topic": group["topic"]}
        for group in _groups_of(split)
        for sentence in group["paraphrases"][:per_group]
    ]
    return Dataset.from_list(rows)


def duplicate_pairs(split: str | None, per_group: int | None = None) -> Dataset:
    """Duplicate-question pairs: two paraphrases of a group (1) and a question with its hard negative (0).

    Built from :func:`group_triplets`: each triplet (anchor, positive, negative) gives
    (anchor, positive, 1) and (anchor, negative, 0), so the classes are balanced.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None.
        per_group: at most this many triplets per group; None for one per paraphrase.

    Returns:
        A ``datasets.Dataset`` with ``sentence1``, ``sentence2`` and ``label`` (0 or 1).
    """
    rows = []
    for row in group_triplets(split, per_group):
        rows.append({"sentence1": row["anchor"], "sentence2": row["positive"], "label": 1})
        rows.append({"sentence1": row["anchor"], "sentence2": row["negative"], "label": 0})
    return Dataset.from_list(rows)


def bundled_case(case: Case | int | str, split: str | None = "train", *, label_type: str = "class") -> Dataset:
    """Derive a data set of one case from the bundled data, in the trainer's layout.

    - case 1 ``label_type="class"``: per group, (question, paraphrase, 1) and (question, hard negative, 0):
      ``duplicate_pairs(split, per_group=1)``; ``label_type="score"``: the bundled scored pairs with
      scores scaled to 0-1 (they have no split);
    - case 2: per group, (question, paraphrase): the first two columns of ``group_triplets(split, per_group=1)``;
    - case 3: every paraphrase with its group number as the class;
    - case 4: per group, (question, paraphrase, hard negative): ``group_triplets(split, per_group=1)``.

    Args:
        case: the case (see :meth:`stutor.cases.Case.parse`).
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every group.
        label_type: ``"class"`` or ``"score"`` (case 1 only).

    Returns:
        A ``datasets.Dataset``.
    """
    case = Case.parse(case)
    if label_type not in ("class", "score"):
        raise ValueError(f"label_type must be 'class' or 'score', not {label_type!r}.")
    if label_type == "score" and case is not Case.LABELLED_PAIR:
        raise ValueError(f"label_type='score' exists only for case 1 (labelled pairs), not {case}.")
    check_choice("split", split, SPLITS, allow_none=True)
    if case is Case.TRIPLET:
        return group_triplets(split, per_group=1)
    if case is Case.LABELLED_PAIR:
        return _unit_scored_pairs() if label_type == "score" else duplicate_pairs(split, per_group=1)
    if case is Case.POSITIVE_PAIR:
        return group_triplets(split, per_group=1).select_columns(["anchor", "positive"])
    label_of = {gid: index for index, gid in enumerate(sorted(group["id"] for group in _groups()))}
    return Dataset.from_list(
        [{"sentence": text, "label": label_of[g["id"]]} for g in _groups_of(split) for text in g["paraphrases"]]
    )


@lru_cache(maxsize=1)
def _near_miss_groups() -> tuple[dict[str, Any], ...]:
    groups = json.loads(_resource("near_miss_groups.json").read_text(encoding="utf-8"))
    split_of: dict[str, str] = {}
    rng = random.Random(NEAR_MISS_SPLIT_SEED)
    for kind in NEAR_MISS_KINDS:  # split each kind on its own, so every split holds every kind
        ids = sorted(group["id"] for group in groups if group["kind"] == kind)
        rng.shuffle(ids)
        n_train = round(len(ids) * NEAR_MISS_SPLIT_FRACTIONS["train"])
        n_dev = round(len(ids) * NEAR_MISS_SPLIT_FRACTIONS["dev"])
        split_of |= {gid: "train" for gid in ids[:n_train]}
        split_of |= {gid: "dev" for gid in ids[n_train : n_train + n_dev]}
        split_of |= {gid: "test" for gid in ids[n_train + n_dev :]}
    return tuple({**group, "split": split_of[group["id"]]} for group in groups)


def _near_miss_groups_of(split: str | None) -> list[dict[str, Any]]:
    check_choice("split", split, SPLITS, allow_none=True)
    return [group for group in _near_miss_groups() if split is None or group["split"] == split]


def load_near_miss_groups(split: str | None = None) -> Dataset:
    """Load the bundled near-miss groups: questions that differ from a near miss in one detail.

    Each row is one group: ``id``, ``kind`` (what the near misses change: ``"direction"`` (A to B
    or B to A), ``"order"`` (before or after), ``"polarity"`` (hot or cold, with or without),
    ``"number"`` (a quantity, a date, a count), ``"role"`` (who does what to whom) or
    ``"negation"``), ``topic``, ``anchor`` (a question), ``paraphrases`` (2-3 rewordings of it that
    keep the detail), ``near_misses`` (1-2 questions with almost the anchor's words but another
    answer) and ``split``. The groups are split 60/20/20 into train/dev/test within each kind, with
    a fixed seed of their own (:data:`NEAR_MISS_SPLIT_SEED`); groups never cross splits.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for all groups.

    Returns:
        A ``datasets.Dataset`` with one row per group.

    Raises:
        ValueError: an unknown split.
    """
    return Dataset.from_list(_near_miss_groups_of(split))


def near_miss_triplets(split: str | None, per_group: int | None = None, *, with_kind: bool = False) -> Dataset:
    """Triplets from the near-miss groups of one split: two wordings of a question and a near miss.

    Each group gives two triplets per paraphrase ``i``, in this order:

    - (anchor question, paraphrase ``i``, near miss): the negative shares almost every word with
      the anchor, so a model that matches words rather than meaning ranks it first;
    - (paraphrase ``i``, anchor question, near miss): a question asked in other words, with the
      right question and its near miss to choose from, as in retrieval.

    The near miss is near miss ``i``, cycling through the group's near misses. A group with three
    paraphrases and two near misses gives (a, p0, n0), (p0, a, n0), (a, p1, n1), (p1, a, n1),
    (a, p2, n0), (p2, a, n0). ``per_group=1`` gives one triplet per group: the anchor, its first
    paraphrase and its first near miss; ``per_group=2`` adds the same triplet seen from the
    paraphrase.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every group.
        per_group: at most this many triplets per group; None for two per paraphrase.
        with_kind: add a fourth column ``kind`` (the group's kind, to report accuracy per kind);
            drop it before training, where every text column counts as an input.

    Returns:
        A ``datasets.Dataset`` with ``anchor``, ``positive`` and ``negative`` (strings), and
        ``kind`` when ``with_kind``.

    Raises:
        ValueError: an unknown split or a ``per_group`` that is not a positive integer.
    """
    check_positive("per_group", per_group, optional=True)
    rows: dict[str, list[str]] = {"anchor": [], "positive": [], "negative": [], "kind": []}
    for group in _near_miss_groups_of(split):
        anchor, near_misses = group["anchor"], group["near_misses"]
        triplets = []
        for i, paraphrase in enumerate(group["paraphrases"]):
            near_miss = near_misses[i % len(near_misses)]
            triplets += [(anchor, paraphrase, near_miss), (paraphrase, anchor, near_miss)]
        for first, second, negative in triplets[:per_group]:
            rows["anchor"].append(first)
            rows["positive"].append(second)
            rows["negative"].append(negative)
            rows["kind"].append(group["kind"])
    if not with_kind:
        del rows["kind"]
    return Dataset.from_dict(rows)


def near_miss_roles(split: str | None = None) -> dict[str, tuple[str, str]]:
    """Every text of the near-miss groups of one split, with its group and its role in the group.

    The groups say which texts are true paraphrases of each other (the anchor and its rewordings,
    one group) and which are not (the near misses, and every text of another group): the truth a
    mined "negative" is checked against.

    Taught in: notebook 08.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every group.

    Returns:
        ``{text: (group id, role)}`` with role ``"anchor"``, ``"paraphrase"`` or ``"near miss"``.

    Raises:
        ValueError: an unknown split.
    """
    roles: dict[str, tuple[str, str]] = {}
    for group in _near_miss_groups_of(split):
        roles[group["anchor"]] = (group["id"], "anchor")
        roles |= {text: (group["id"], "paraphrase") for text in group["paraphrases"]}
        roles |= {text: (group["id"], "near miss") for text in group["near_misses"]}
    return roles


def near_miss_retrieval(split: str | None) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """A retrieval task from the near-miss groups of one split, for ``InformationRetrievalEvaluator``.

    The queries are the groups' anchor questions; the corpus holds every other text of the split's
    groups (the rewordings and the near misses, not the anchors, which would find themselves); a
    query's relevant documents are its own rewordings. Each near miss shares almost every word with
    its anchor, so a model that matches words ranks it first.

    Taught in: notebook 08.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every group.

    Returns:
        ``(queries, corpus, relevant_docs)``: ``{query id: question}``, ``{document id: text}`` and
        ``{query id: {document id, ...}}``, in the order ``InformationRetrievalEvaluator`` takes them.
        Ids are ``"<group id>"`` for a query and ``"<group id>-p<i>"`` / ``"<group id>-n<i>"`` for
        a rewording / a near miss.

    Raises:
        ValueError: an unknown split.
    """
    queries: dict[str, str] = {}
    corpus: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for group in _near_miss_groups_of(split):
        gid = group["id"]
        queries[gid] = group["anchor"]
        rewordings = {f"{gid}-p{i}": text for i, text in enumerate(group["paraphrases"])}
        corpus |= rewordings
        corpus |= {f"{gid}-n{i}": text for i, text in enumerate(group["near_misses"])}
        relevant[gid] = set(rewordings)
    return queries, corpus, relevant


@dataclass(frozen=True)
class SearchSet:
    """One split of the bundled search set, in the layout ``InformationRetrievalEvaluator`` takes.

    ``corpus`` (passage id -> text) always holds every passage, whatever the split, so a search
    ranks the test questions against the whole corpus, near misses included. ``queries`` (query id
    -> question) holds the split's questions, ``relevant`` (query id -> {passage id}) their answers
    and ``topics`` (passage id -> topic) the topic of every passage.

    Taught in: notebook 09.
    """

    corpus: dict[str, str]
    queries: dict[str, str]
    relevant: dict[str, set[str]]
    topics: dict[str, str]


@lru_cache(maxsize=1)
def _search_set() -> dict[str, Any]:
    return json.loads(_resource("search_passages.json").read_text(encoding="utf-8"))


def _search_queries(split: str | None) -> list[dict[str, str]]:
    check_choice("split", split, SPLITS, allow_none=True)
    return [query for query in _search_set()["queries"] if split is None or query["split"] == split]


def load_search_set(split: str | None = None) -> SearchSet:
    """Load the bundled asymmetric search set: short questions against answer passages.

    The corpus holds a few hundred passages (35-80 words) on a dozen everyday and technical topics,
    several per topic close to each other (soft- vs hard-boiled eggs, Celsius to Fahrenheit vs
    back), and each question has exactly one relevant passage. Questions are split by passage (all
    questions of a passage in one split), about 50/15/35 train/dev/test within each topic, by the
    fixed rule written in the file's ``description``.

    Example::

        search = load_search_set("test")
        evaluator = InformationRetrievalEvaluator(search.queries, search.corpus, search.relevant)

    Taught in: notebook 09.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every question.

    Returns:
        A :class:`SearchSet`; its dictionaries are new on each call, so changing them is safe.

    Raises:
        ValueError: an unknown split.
    """
    queries = _search_queries(split)
    passages = _search_set()["passages"]
    return SearchSet(
        corpus={passage["id"]: passage["text"] for passage in passages},
        queries={query["id"]: query["text"] for query in queries},
        relevant={query["id"]: {query["passage"]} for query in queries},
        topics={passage["id"]: passage["topic"] for passage in passages},
    )


def load_sts_pairs() -> Dataset:
    """Load the bundled scored sentence pairs (written for this course).

    Returns:
        A ``datasets.Dataset`` with ``sentence1``, ``sentence2`` and ``score`` (0 to 5, where 5
        means the two sentences say the same thing).
    """
    return sources.read_file(_resource("sts_pairs.tsv")).select_columns(["sentence1", "sentence2", "score"])


def _unit_scored_pairs() -> Dataset:
    """The bundled scored pairs with their 0-5 scores divided by 5: ``score`` in 0-1, as sentence-transformers wants."""
    pairs = load_sts_pairs()
    return pairs.remove_columns("score").add_column("score", [score / 5.0 for score in pairs["score"]])


def all_sentences() -> list[str]:
    """All distinct sentences of the bundled data, in a fixed order (for timing runs).

    Returns:
        Paraphrases, hard negatives and scored-pair sentences, without duplicates, sorted.
    """
    texts: set[str] = set()
    for group in _groups():
        texts.update(group["paraphrases"])
        texts.update(group["hard_negatives"])
    pairs = load_sts_pairs()
    texts.update(pairs["sentence1"])
    texts.update(pairs["sentence2"])
    return sorted(texts)


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
        all_combinations: see :func:`stutor.schemas.qqp_to_triplets`.
        verbose: print the fallback line.

    Returns:
        A ``datasets.Dataset`` with ``anchor``, ``positive``, ``negative``.
    """
    check_positive("limit", limit, optional=True)
    raw = sources.load_source(source, QQP_TRIPLETS, "train")
    if raw is None:
        if verbose:
            print(sources.fallback_message(QQP_TRIPLETS, "paraphrase-group triplets (train split)"))
        triplets = group_triplets("train", per_group=1)
        return triplets.select(range(min(limit, len(triplets)))) if limit else triplets
    if limit is not None:
        raw = raw.select(range(min(limit, len(raw))))
    return schemas.qqp_to_triplets(raw, all_combinations=all_combinations)


def load_stsb(split: str = "test", source: str | Path = STSB, *, verbose: bool = True) -> Dataset:
    """Load the STS benchmark from the Hub, or the bundled scored pairs when offline.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (ignored for local files and offline).
        source: the Hub name (default) or a local file in the same schema.
        verbose: print the fallback line.

    Returns:
        A ``datasets.Dataset`` with ``sentence1``, ``sentence2`` and ``score`` in 0-1.
    """
    check_choice("split", split, STSB_SPLITS)
    raw = sources.load_source(source, STSB, split)
    if raw is None:
        if verbose:
            print(sources.fallback_message(STSB, "scored sentence pairs"))
        return _unit_scored_pairs()
    return schemas.parse_stsb(raw)
