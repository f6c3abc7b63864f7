"""Exercises with feedback: check a learner's answer and reply with a pass or a hint.

Every notebook ends with 2-4 exercises and one code cell per exercise::

    answer = None  # your answer here
    exercises.check("01.1", answer)

Each checker *computes* the right result from the learner's own inputs (with the course's
functions), compares, and answers with a :class:`Feedback`: a pass, or a hint that points at the
concept without giving the solution. Worked solutions: ``notebooks/solutions/``.

Taught in: notebooks 01-07 (the exercise cells at the end of each).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer.

    Attributes:
        exercise: the exercise id, e.g. ``"01.2"``.
        passed: True when the answer is right.
        message: on a pass, what the answer shows; otherwise a hint (never the solution), or the
            task while the exercise is not answered yet.
        answered: False while the answer is still ``None``.
    """

    exercise: str
    passed: bool
    message: str = ""
    answered: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"✅ Exercise {self.exercise} passed" + (f": {self.message}" if self.message else "")
        if not self.answered:
            return f"❌ Exercise {self.exercise}: not answered yet — {self.message}"
        return f"❌ Exercise {self.exercise}: not yet — hint: {self.message}"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    """One registered exercise.

    Attributes:
        id: ``"NN.k"``: notebook NN, exercise k.
        task: the exercise in one line (shown while it is not answered yet).
        needs: names of the notebook objects the checker needs as keyword arguments.
        optional: names it also accepts, to say more (e.g. which wrong value the answer matches).
        checker: ``checker(answer, **needs)``; returns an optional pass message and calls
            :func:`_hint` (which raises) when the answer is not right yet.
    """

    id: str
    task: str
    needs: tuple[str, ...]
    checker: Callable[..., str | None]
    optional: tuple[str, ...] = ()


_REGISTRY: dict[str, Exercise] = {}


class _NotYet(Exception):
    """Raised inside a checker to answer with a hint."""


def _hint(message: str) -> None:
    raise _NotYet(message)


def _exercise(exercise_id: str, task: str, needs: tuple[str, ...] = (), optional: tuple[str, ...] = ()):
    """Register a checker under ``exercise_id``."""

    def register(checker: Callable[..., str | None]) -> Callable[..., str | None]:
        _REGISTRY[exercise_id] = Exercise(exercise_id, task, needs, checker, optional)
        return checker

    return register


def list_exercises(notebook: str | int | None = None) -> dict[str, str]:
    """The registered exercises and their tasks.

    Args:
        notebook: only this notebook's exercises (``"01"`` or ``1``); None for all.

    Returns:
        ``{exercise id: task}``, in order.
    """
    prefix = None if notebook is None else f"{int(notebook):02d}."
    return {key: ex.task for key, ex in sorted(_REGISTRY.items()) if prefix is None or key.startswith(prefix)}


def check(exercise_id: str, answer: Any, **given: Any) -> Feedback:
    """Check an answer to one exercise.

    Args:
        exercise_id: e.g. ``"01.2"`` (see :func:`list_exercises`).
        answer: the learner's answer; ``None`` means not answered yet.
        **given: the notebook objects the exercise needs, named as in its cell
            (e.g. ``model=model``).

    Returns:
        A :class:`Feedback`: a pass, or a hint. A wrong type of answer is a hint, not an error.

    Raises:
        ValueError: an unknown exercise id (the message lists the valid ones).
        TypeError: a missing or unexpected keyword argument (the message shows the call).

    Example:
        >>> check("03.1", None).passed
        False
    """
    exercise = _REGISTRY.get(exercise_id) if isinstance(exercise_id, str) else None
    if exercise is None:
        raise ValueError(f"Unknown exercise {exercise_id!r}. Valid exercises: {list(_REGISTRY)}.")
    missing = [name for name in exercise.needs if name not in given]
    extra = [name for name in given if name not in exercise.needs + exercise.optional]
    if missing or extra:
        call = ", ".join([repr(exercise.id), "answer", *(f"{name}=..." for name in exercise.needs)])
        problem = f"lacks {missing}" if missing else f"got unexpected {extra}"
        raise TypeError(f"check({exercise.id!r}, ...) {problem}: call check({call}).")
    if answer is None:
        return Feedback(exercise.id, False, exercise.task, answered=False)
    try:
        message = exercise.checker(answer, **given)
    except _NotYet as hint:
        return Feedback(exercise.id, False, str(hint))
    return Feedback(exercise.id, True, message or "")


# --- small answer checks, each a hint instead of an error --------------------------------------


def _as_int(answer: Any, what: str) -> int:
    if isinstance(answer, bool) or not isinstance(answer, Integral):
        _hint(f"the answer is {what}, a whole number (int), not {type(answer).__name__}.")
    return int(answer)


def _as_float(answer: Any, what: str) -> float:
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:  # a 0-d tensor or numpy scalar
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, Real) or not math.isfinite(answer):
        _hint(f"the answer is {what}, a finite number (float), not {type(answer).__name__} {answer!r:.40}.")
    return float(answer)


def _as_dataset(answer: Any, what: str):
    from datasets import Dataset

    if isinstance(answer, Dataset):
        return answer
    if isinstance(answer, Sequence) and not isinstance(answer, str) and all(isinstance(r, Mapping) for r in answer):
        if answer:
            return Dataset.from_list(list(answer))
    _hint(f"the answer is {what}: a datasets.Dataset (or a non-empty list of row dicts), not {type(answer).__name__}.")


def _case_of(dataset: Any):
    from stutor import cases

    try:
        return cases.detect_case(dataset)
    except (TypeError, ValueError) as error:
        _hint(f"cases.detect_case refuses your data set: {error}")


def _as_sentence_transformer(answer: Any, what: str):
    from sentence_transformers.sentence_transformer import SentenceTransformer

    if not isinstance(answer, SentenceTransformer):
        _hint(f"the answer is {what}, a SentenceTransformer, not {type(answer).__name__}.")
    return answer


def _tensor(answer: Any, what: str):
    import numpy as np
    import torch

    if isinstance(answer, np.ndarray):
        answer = torch.from_numpy(answer)
    if not isinstance(answer, torch.Tensor) or not answer.is_floating_point():
        _hint(f"the answer is {what}: a float torch.Tensor (or numpy array), not {type(answer).__name__}.")
    return answer.detach().float()


# --- notebook 01 -----------------------------------------------------------------------------

_PROBE = "I am a student"


@_exercise("01.1", "Build a Sentence Transformer whose Pooling layer keeps only the first token ([CLS]).")
def _first_token_model(answer: Any) -> str:
    import torch
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    model = _as_sentence_transformer(answer, "the model you built")
    if not isinstance(model[0], Transformer) or not any(isinstance(module, Pooling) for module in model):
        _hint("a Sentence Transformer here is a Transformer module followed by a Pooling module; yours is not.")
    model.eval()
    with torch.no_grad():
        features = model[0].preprocess([_PROBE])
        first_token = model[0](features)["token_embeddings"][0, 0]
        sentence = model.encode([_PROBE], convert_to_tensor=True)[0]
    cosine = torch.nn.functional.cosine_similarity(first_token, sentence, dim=0).item()
    if cosine < 0.9999:
        _hint("your sentence vector is not the first token's output vector: look at the Pooling layer's pooling_mode.")
    return "the sentence vector is the output vector of the first token."


def _course_sentences() -> tuple[list[str], list[str]]:
    """The eight sentences of notebook 01's heatmap, with their labels."""
    from stutor import data

    sentences, labels = [], []
    for group in data.load_paraphrase_groups("train").select(range(2)):
        for text in group["paraphrases"][:3]:
            sentences.append(text)
            labels.append(group["id"])
        sentences.append(group["hard_negatives"][0])
        labels.append(group["id"] + " (neg)")
    return sentences, labels


@_exercise(
    "01.2",
    "Write your own paraphrase of the first group's question (sentences 0-2 of the heatmap) as a string.",
    ("model",),
)
def _own_paraphrase(answer: Any, model: Any) -> str:
    import numpy as np

    if not isinstance(answer, str) or not answer.strip():
        _hint("the answer is one sentence of your own, a non-empty string.")
    sentences, labels = _course_sentences()
    if answer.strip().lower() in {s.lower() for s in sentences}:
        _hint("that sentence is already in the heatmap: write the question in your own words.")
    model = _as_sentence_transformer(model, "model=, the notebook's model")
    vectors = model.encode([answer, *sentences], convert_to_tensor=True)
    similarity = model.similarity(vectors[:1], vectors[1:])[0].numpy()
    group = labels[0]
    own = float(np.mean([s for s, label in zip(similarity, labels, strict=True) if label == group]))
    negative = float(similarity[labels.index(group + " (neg)")])
    other = float(np.mean([s for s, label in zip(similarity, labels, strict=True) if label == labels[4]]))
    if own <= max(negative, other):
        closer = "the group's hard negative" if negative >= other else "the other group"
        _hint(
            f"your sentence is as close or closer to {closer} ({max(negative, other):.2f}) than to group {group} "
            f"({own:.2f}): ask the same thing as {group} in other words."
        )
    return (
        f"mean cosine similarity {own:.2f} to group {group}, {negative:.2f} to its hard negative, "
        f"{other:.2f} to group {labels[4]}."
    )


_TOKEN_TEXT = "Tokenization splits uncommon words into pieces"


@_exercise("01.3", f"How many tokens does {_TOKEN_TEXT!r} give (the length of its input_ids)?", ("model",))
def _token_count(answer: Any, model: Any) -> str:
    count = _as_int(answer, "a number of tokens")
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        _hint("pass model=, the notebook's model (or its Transformer module), which holds the tokenizer.")
    expected = len(tokenizer(_TOKEN_TEXT)["input_ids"])
    pieces = len(tokenizer(_TOKEN_TEXT, add_special_tokens=False)["input_ids"])
    if count == expected:
        return f"{pieces} word pieces plus {expected - pieces} special tokens the tokenizer adds."
    if count == pieces:
        _hint("you counted the word pieces but not the markers the tokenizer adds at the start and the end.")
    if count == len(_TOKEN_TEXT.split()):
        _hint("that is the number of words; the tokenizer splits uncommon words into several pieces.")
    _hint("count the entries of input_ids that transformer.preprocess([text]) returns for this text.")


# --- notebook 02 -----------------------------------------------------------------------------


@_exercise(
    "02.1",
    "Which sentence of the batch (its index) has the unmasked mean furthest from its masked mean?",
    ("sentences", "model"),
)
def _furthest_unmasked(answer: Any, sentences: Any, model: Any) -> str:
    import torch

    from stutor.layers import masked_mean_pooling
    from stutor.texts import check_texts

    index = _as_int(answer, "the index of a sentence in the batch")
    try:
        texts = check_texts(sentences, name="sentences")
    except (TypeError, ValueError) as error:
        _hint(str(error))
    if not 0 <= index < len(texts):
        _hint(f"the batch has {len(texts)} sentences: the index is between 0 and {len(texts) - 1}.")
    transformer = _as_sentence_transformer(model, "model=, the notebook's st_model")[0]
    with torch.no_grad():
        output = transformer(transformer.preprocess(texts))
    tokens, mask = output["token_embeddings"], output["attention_mask"]
    gap = (masked_mean_pooling(tokens, mask) - tokens.mean(dim=1)).norm(dim=1)
    padding = (mask.shape[1] - mask.sum(dim=1)).tolist()
    if len(set(padding)) < len(padding):
        _hint("two of your sentences have the same number of tokens: choose lengths that clearly differ.")
    if index != int(gap.argmax()):
        _hint("compare, for each sentence, how many padding positions the batch gives it.")
    return f"sentence {index} gets {padding[index]} padding positions, and the plain mean averages all of them in."


@_exercise(
    "02.2",
    "Max |pooler_output - Pooling layer's output| for `text` (a number): are they the same vector?",
    ("text", "raw_model", "tokenizer"),
)
def _pooler_difference(answer: Any, text: Any, raw_model: Any, tokenizer: Any) -> str:
    import torch

    from stutor.layers import masked_mean_pooling

    value = _as_float(answer, "a maximum absolute difference")
    encoded = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        output = raw_model(**encoded)
    if getattr(output, "pooler_output", None) is None:
        _hint("this raw model returns no pooler_output; load it with models.load_hf_model(choice).")
    pooled = masked_mean_pooling(output.last_hidden_state, encoded["attention_mask"])
    expected = (output.pooler_output - pooled).abs().max().item()
    if abs(value - expected) <= max(1e-3, 0.01 * expected):
        return (
            "pooler_output is not the sentence embedding: it is a separate dense layer with tanh on the first "
            "token, which the Sentence Transformer does not use."
        )
    if value < 1e-3:
        _hint("the two are not equal: compare raw_out.pooler_output with the Pooling layer's sentence_embedding.")
    first = (output.pooler_output - output.last_hidden_state[:, 0]).abs().max().item()
    if abs(value - first) <= max(1e-3, 0.01 * first):
        _hint("you compared with the first token's vector; compare with the Pooling layer's output (the mean).")
    _hint("compute (a - b).abs().max() between pooler_output and the Pooling output of the same text.")


@_exercise(
    "02.3",
    "Compute the masked mean of `hidden` by hand (one vector per sentence), without layers.masked_mean_pooling.",
    ("hidden", "attention_mask"),
)
def _masked_mean(answer: Any, hidden: Any, attention_mask: Any) -> str:
    import torch

    from stutor.layers import masked_mean_pooling

    vectors = _tensor(answer, "the pooled vectors, shape (sentences, hidden size)")
    expected = masked_mean_pooling(hidden, attention_mask)
    if tuple(vectors.shape) != tuple(expected.shape):
        _hint(f"your tensor has shape {tuple(vectors.shape)}: mean pooling gives one vector per sentence.")
    if torch.allclose(vectors, expected, atol=1e-5):
        return "it equals the Pooling layer's output: padding positions are left out of every mean."
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    if torch.allclose(vectors, hidden.mean(dim=1), atol=1e-5):
        _hint("you averaged over every position, padding included: the attention mask says which positions count.")
    if torch.allclose(vectors, (hidden * mask).sum(dim=1) / hidden.shape[1], atol=1e-5):
        _hint("you left the padding out of the sum but divided by the padded length.")
    _hint("sum the token vectors where the mask is 1 and divide by each sentence's own number of real tokens.")


# --- notebook 03 -----------------------------------------------------------------------------

_SEARCH_N = 5_000


@_exercise(
    "03.1",
    f"How many forward passes do a cross-encoder and a bi-encoder need to find the most similar pair among "
    f"{_SEARCH_N:,} sentences? Answer (cross, bi).",
)
def _pass_counts(answer: Any) -> str:
    from stutor import costs

    if not isinstance(answer, Sequence) or isinstance(answer, str) or len(answer) != 2:
        _hint("the answer is a pair of whole numbers: (cross-encoder passes, bi-encoder passes).")
    cross = _as_int(answer[0], "a number of cross-encoder passes")
    bi = _as_int(answer[1], "a number of bi-encoder passes")
    expected = costs.pair_count(_SEARCH_N)
    if cross != expected:
        if cross in (_SEARCH_N**2, _SEARCH_N * (_SEARCH_N - 1)):
            _hint("each unordered pair is scored once: (a, b) is the same pair as (b, a).")
        _hint("a cross-encoder reads every pair of distinct sentences once.")
    if bi != _SEARCH_N:
        _hint("a bi-encoder runs the transformer once per sentence; comparing the vectors needs no forward pass.")
    return f"{expected / _SEARCH_N:,.0f} times more passes for the cross-encoder."


@_exercise(
    "03.2",
    "The smallest n for which the extrapolated cross-encoder search takes longer than one minute.",
    ("comparison",),
)
def _minute_threshold(answer: Any, comparison: Any) -> str:
    from stutor import costs

    n = _as_int(answer, "a number of sentences")
    rate = getattr(getattr(comparison, "cross", None), "rate", None)
    if not isinstance(rate, Real) or rate <= 0:
        _hint("pass comparison=, the result of costs.compare_costs(...) in the notebook.")
    if n < 2:
        _hint("a search needs at least two sentences.")

    def seconds(k: int) -> float:
        return costs.pair_count(k) / rate

    if seconds(n) <= 60:
        _hint(f"at n = {n:,} the extrapolated search takes {seconds(n):.1f} s, not more than a minute: go higher.")
    if seconds(n - 1) > 60:
        _hint(
            f"already at n = {n - 1:,} it takes more than a minute ({seconds(n - 1):.0f} s): the smallest n is lower."
        )
    return "one sentence fewer stays within the minute; doubling n would take about four times as long."


@_exercise(
    "03.3",
    "Evaluate a Sentence Transformer built with pooling='cls' (methods=['sentence_transformer']) on the same pairs.",
    ("result",),
)
def _cls_pooling_score(answer: Any, result: Any) -> str:
    from stutor.evaluation import STSResult

    if not isinstance(answer, STSResult):
        _hint(f"the answer is what evaluation.evaluate_sts(...) returns (an STSResult), not {type(answer).__name__}.")
    if not isinstance(result, STSResult):
        _hint("pass result=, the STS table computed in the notebook.")
    rows = [row for row in answer.rows if row.method == "sentence_transformer"]
    if len(rows) != 1:
        _hint("evaluate exactly one model with methods=['sentence_transformer'].")
    if (answer.data, answer.n_pairs) != (result.data, result.n_pairs):
        _hint("evaluate on the same scored pairs as the table above (pairs, score_range, data_name).")
    row = rows[0]
    try:
        cls_score, mean_score = result.score("cls", row.model), result.score("mean", row.model)
    except KeyError:
        _hint(f"the table above has no rows for {row.model!r}: build the model from `choice`.")
    if abs(row.spearman - cls_score) <= 0.05:
        return (
            f"{row.spearman:.1f} equals the CLS row: a Pooling layer in 'cls' mode returns the first output token, "
            "which is what that row measures."
        )
    if abs(row.spearman - mean_score) <= 0.05:
        _hint("your score equals the mean-pooling row: which pooling did your model use?")
    _hint("your score matches neither row of this model: build it from `choice` with a first-token Pooling layer.")


# --- notebook 04 -----------------------------------------------------------------------------

_POS, _NEG = 3, 30


def _qqp_row(n_pos: int, n_neg: int) -> dict[str, Any]:
    return {
        "set": {
            "query": "How do I get better at chess?",
            "pos": [f"How can I improve at chess? ({i + 1})" for i in range(n_pos)],
            "neg": [f"Who invented chess? ({j + 1})" for j in range(n_neg)],
        }
    }


@_exercise(
    "04.1",
    f"How many triplets does all_combinations=True make from a QQP query with {_POS} pos and {_NEG} neg?",
)
def _all_combinations(answer: Any) -> str:
    from stutor import cases

    count = _as_int(answer, "a number of triplets")
    expected = cases.convert([_qqp_row(_POS, _NEG)], "qqp_triplets", all_combinations=True).num_rows
    if count == expected:
        return "one triplet per (positive, negative) combination: the data grows fast, and so do its repetitions."
    if count == cases.convert([_qqp_row(_POS, _NEG)], "qqp_triplets").num_rows:
        _hint("that is what the converter makes without all_combinations.")
    if count in (_POS + _NEG, _POS, _NEG):
        _hint("every positive is combined with every negative.")
    _hint("convert a row with that many pos and neg (cases.convert(..., all_combinations=True)) and count.")


def _pairs(dataset: Any, columns: Sequence[str]) -> list[tuple[str, ...]]:
    return list(zip(*(dataset[column] for column in columns), strict=True))


@_exercise(
    "04.2",
    "Turn the labelled pairs of case 1 into case 2 data (a Dataset in the course's case-2 layout).",
    ("source",),
)
def _positive_pairs(answer: Any, source: Any) -> str:
    from stutor import cases

    dataset = _as_dataset(answer, "the case-2 data set")
    original = _as_dataset(source, "source=, the labelled pairs")
    report = _case_of(dataset)
    if report.case is not cases.Case.POSITIVE_PAIR:
        _hint(f"detect_case sees {report.case}; case 2 is two texts per row and no label.")
    if tuple(dataset.column_names) != cases.Case.POSITIVE_PAIR.columns:
        _hint(
            f"name the columns as in the course's case-2 layout (cases.Case.POSITIVE_PAIR.columns), "
            f"not {dataset.column_names}."
        )
    labelled = _case_of(original)
    text1, text2 = labelled.text_columns
    keep = [
        pair
        for pair, label in zip(_pairs(original, (text1, text2)), original[labelled.label_column], strict=True)
        if label == 1
    ]
    drop = [
        pair
        for pair, label in zip(_pairs(original, (text1, text2)), original[labelled.label_column], strict=True)
        if label != 1
    ]
    answered = _pairs(dataset, cases.Case.POSITIVE_PAIR.columns)
    if set(answered) & set(drop):
        _hint("some of your pairs had label 0: two different questions are not a positive pair.")
    if sorted(answered) != sorted(keep):
        _hint("keep every pair with label 1, each once, with its texts in their original order.")
    return f"{len(keep)} positive pairs; the label-0 pairs (hard negatives) are gone, and so is what they taught."


@_exercise(
    "04.3",
    "Build case-3 data from the training groups with the group's topic as the class (integer labels).",
)
def _topic_sentences(answer: Any) -> str:
    from collections import defaultdict

    from stutor import cases, data

    dataset = _as_dataset(answer, "the case-3 data set")
    report = _case_of(dataset)
    if report.case is not cases.Case.LABELLED_SENTENCE:
        _hint(f"detect_case sees {report.case}; case 3 is one sentence and one integer class per row.")
    groups = data.load_paraphrase_groups("train")
    topic_of = {text: group["topic"] for group in groups for text in group["paraphrases"]}
    sentences = list(dataset[report.text_columns[0]])
    if sorted(sentences) != sorted(topic_of):
        _hint("use every paraphrase of every training group once (data.load_paraphrase_groups('train')).")
    labels = list(dataset[report.label_column])
    n_groups, n_topics = len(groups), len(set(topic_of.values()))
    if report.num_labels == n_groups and n_groups != n_topics:
        _hint("one class per group is what bundled_case(3) does; here a class is a topic, shared by many groups.")
    classes: dict[Any, set[str]] = defaultdict(set)
    for text, label in zip(sentences, labels, strict=True):
        classes[label].add(topic_of[text])
    if any(len(topics) > 1 for topics in classes.values()) or len(classes) != n_topics:
        _hint("give every topic its own integer, and the same integer to every sentence of that topic.")
    return (
        f"{len(sentences)} sentences in {n_topics} classes: a model trained on it pulls same-topic questions together."
    )


# --- notebook 05 -----------------------------------------------------------------------------


def _loss_name(answer: Any) -> str:
    from stutor import losses

    try:
        return losses.loss_name(answer)
    except (TypeError, ValueError):
        _hint("the answer is a loss: its class name (a string), its class, or a built loss.")


@_exercise("05.1", "Choose a loss that fits the scored pairs (name, class or built loss).", ("dataset",))
def _loss_for_scores(answer: Any, dataset: Any) -> str:
    from stutor import losses

    name = _loss_name(answer)
    report = _case_of(_as_dataset(dataset, "dataset=, the scored pairs"))
    fitting = [option.name for option in losses.candidate_losses(report)]
    if name in fitting:
        first = "the course's first choice" if name == fitting[0] else "it fits; the course's first choice is another"
        return f"{name} takes {report.kind} ({first})."
    options = [option for option in losses.LOSS_TABLE if option.name == name]
    if not options:
        _hint(f"{name} is not in the course's loss table (losses.LOSS_TABLE); pick from the table.")
    option = options[0]
    if option.case is report.case:
        _hint(f"{name} needs {option.label_type.value} labels; these pairs carry a {report.label_type.value}.")
    _hint(f"{name} takes case {option.case.value} data; these are case {report.case.value}: {report.kind}.")


@_exercise(
    "05.2",
    "Pick 8 rows of the case-3 data from 4 classes, 2 each: a batch in which BatchAllTripletLoss finds triplets.",
    ("source",),
)
def _grouped_batch(answer: Any, source: Any) -> str:
    from collections import Counter

    from stutor import cases, losses

    batch = _as_dataset(answer, "the batch (8 rows of the case-3 data)")
    original = _as_dataset(source, "source=, the case-3 data")
    report = _case_of(batch)
    if report.case is not cases.Case.LABELLED_SENTENCE:
        _hint(f"detect_case sees {report.case}; keep the case-3 rows as they are (sentence, label).")
    rows = set(_pairs(original, (*_case_of(original).text_columns, "label")))
    if not set(_pairs(batch, (*report.text_columns, report.label_column))) <= rows:
        _hint("take the rows from the case-3 data unchanged (dataset.select([...])).")
    counts = Counter(batch[report.label_column])
    if batch.num_rows != 8 or sorted(counts.values()) != [2, 2, 2, 2]:
        _hint(
            f"the batch has {batch.num_rows} rows with class sizes {sorted(counts.values())}: "
            "8 rows, 4 classes, 2 each."
        )
    try:
        losses.check_loss_fits("BatchAllTripletLoss", batch)
    except ValueError as error:  # pragma: no cover - 4 classes of 2 always fit; kept as the authority
        _hint(str(error))
    return "each sentence has a positive (its class mate) and 6 negatives: 8 × 1 × 6 = 48 triplets to mine."


@_exercise(
    "05.3",
    "Turn the triplets into case-3 data: anchor and positive share a class, each negative is a class of its own.",
    ("triplets",),
)
def _triplets_to_classes(answer: Any, triplets: Any) -> str:
    from collections import defaultdict

    from stutor import cases

    dataset = _as_dataset(answer, "the case-3 data set")
    source = _as_dataset(triplets, "triplets=, the triplets")
    report = _case_of(dataset)
    if report.case is not cases.Case.LABELLED_SENTENCE:
        _hint(f"detect_case sees {report.case}; case 3 is one sentence and one integer class per row.")
    rows = _pairs(source, _case_of(source).text_columns)
    label_of: dict[str, set[Any]] = defaultdict(set)
    for text, label in zip(dataset[report.text_columns[0]], dataset[report.label_column], strict=True):
        label_of[text].add(label)
    texts = {text for row in rows for text in row}
    if set(label_of) != texts:
        _hint("every anchor, positive and negative of the triplets becomes one row, and nothing else.")
    if any(len(labels) > 1 for labels in label_of.values()):
        _hint("a sentence has one class: the same text got two different labels.")
    label = {text: next(iter(labels)) for text, labels in label_of.items()}
    if any(label[anchor] != label[positive] for anchor, positive, _ in rows):
        _hint("an anchor and its positive mean the same: they belong to one class.")
    expected = {frozenset((a, p)) for a, p, _ in rows} | {frozenset((n,)) for _, _, n in rows}
    members: dict[Any, set[str]] = defaultdict(set)
    for text, value in label.items():
        members[value].add(text)
    if {frozenset(group) for group in members.values()} != expected:
        _hint("two different questions share a class: only an anchor and its own positive mean the same.")
    return f"{len(rows)} triplets became {len(label)} sentences in {len(members)} classes."


# --- notebook 06 -----------------------------------------------------------------------------


def _vectors(embed: Any, texts: Any):
    import numpy as np

    if not callable(embed):
        _hint("pass embed=, the notebook's function that turns a list of sentences into vectors.")
    return np.asarray(embed(list(texts)), dtype=float)


def _near(value: float, expected: float, n: int) -> bool:
    """Equal up to one example: re-encoding may move a borderline prediction."""
    return abs(value - expected) <= 1.0 / n + 1e-9


@_exercise(
    "06.1",
    "Test accuracy of logistic regression (C=best_c) trained on one paraphrase per training group.",
    ("embed", "C", "train", "test"),
)
def _less_data(answer: Any, embed: Any, C: Any, train: Any, test: Any) -> str:
    from sklearn.linear_model import LogisticRegression

    from stutor import classification

    value = _as_float(answer, "a test accuracy between 0 and 1")
    test, train = _as_dataset(test, "test=, the test sentences"), _as_dataset(train, "train=, the training sentences")
    few = classification.topic_sentences("train", per_group=1)

    def fitted(rows: Any) -> Any:
        return LogisticRegression(C=C, max_iter=2000).fit(_vectors(embed, rows["sentence"]), list(rows["label"]))

    probe, test_vectors = fitted(few), _vectors(embed, test["sentence"])
    expected = probe.score(test_vectors, list(test["label"]))
    before = fitted(train).score(test_vectors, list(test["label"]))
    if _near(value, expected, test.num_rows):
        return (
            f"{expected:.3f} with {few.num_rows} training sentences, {before:.3f} with {train.num_rows}: "
            "a linear probe on frozen embeddings needs few examples per class."
        )
    if _near(value, before, test.num_rows):
        _hint("that is the accuracy with the notebook's `train` (two paraphrases per group); use one per group.")
    if _near(value, probe.score(_vectors(embed, few["sentence"]), list(few["label"])), few.num_rows):
        _hint("that is the accuracy on the training sentences themselves; score the held-out test sentences.")
    _hint("fit on classification.topic_sentences('train', per_group=1) with C=best_c, then score on `test`.")


@_exercise(
    "06.2",
    "Bi-encoder test accuracy with the cosine threshold chosen on the test pairs themselves.",
    ("embed", "pairs"),
    optional=("threshold",),
)
def _threshold_on_test(answer: Any, embed: Any, pairs: Any, threshold: Any = None) -> str:
    import numpy as np

    from stutor import classification

    value = _as_float(answer, "a test accuracy between 0 and 1")
    pairs = _as_dataset(pairs, "pairs=, the test pairs")
    first, second = _vectors(embed, pairs["sentence1"]), _vectors(embed, pairs["sentence2"])
    cosine = np.sum(first * second, axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))
    labels = np.asarray(pairs["label"])
    _, expected = classification.best_threshold(cosine, labels)
    honest = None if threshold is None else float(np.mean((cosine > float(threshold)) == (labels == 1)))
    if _near(value, expected, pairs.num_rows):
        against = "the" if honest is None else f"{honest:.3f},"
        return (
            f"{expected:.3f} against {against} accuracy with the threshold chosen on the train pairs: a number "
            "tuned on the test set is optimistic by construction, so report the held-out one."
        )
    if honest is not None and _near(value, honest, pairs.num_rows):
        _hint("that is the threshold chosen on the train pairs; this time choose it on the test pairs.")
    if value < expected:
        _hint("a threshold chosen on the test pairs does better than that: pick the best one for these pairs.")
    _hint("no threshold reaches that accuracy on these pairs: predict a duplicate when cosine > threshold.")


_LONG = 8


@_exercise(
    "06.3",
    f"Test accuracy of logistic regression predicting 'more than {_LONG} words' from the embeddings.",
    ("embed", "train", "test"),
)
def _length_label(answer: Any, embed: Any, train: Any, test: Any) -> str:
    from sklearn.linear_model import LogisticRegression

    value = _as_float(answer, "a test accuracy between 0 and 1")
    train, test = _as_dataset(train, "train=, the training sentences"), _as_dataset(test, "test=, the test sentences")

    def long(rows: Any) -> list[int]:
        return [int(len(sentence.split()) > _LONG) for sentence in rows["sentence"]]

    probe = LogisticRegression(max_iter=2000).fit(_vectors(embed, train["sentence"]), long(train))
    expected = probe.score(_vectors(embed, test["sentence"]), long(test))
    share = sum(long(test)) / test.num_rows
    majority = max(share, 1 - share)
    if _near(value, expected, test.num_rows):
        return (
            f"{expected:.3f}, against {majority:.3f} for always answering the most common class; compare that gap "
            "with the topic classifier's to see how much of a sentence's length its embedding keeps."
        )
    if _near(value, majority, test.num_rows):
        _hint("that is the score of always answering the most common class; train the classifier on the embeddings.")
    _hint(
        f"label each sentence 1 if it has more than {_LONG} words (len(sentence.split())), fit on train, score on test."
    )


# --- notebook 07 -----------------------------------------------------------------------------


@_exercise("07.1", "Keep the first half of the rows for a quick run (a Dataset).", ("data",))
def _first_half(answer: Any, data: Any) -> str:
    subset = _as_dataset(answer, "the first half of the data, a Dataset")
    full = _as_dataset(data, "data=, the full data set")
    n, kept = full.num_rows, subset.num_rows
    if kept == n // 2000:
        _hint("floor division by 2000 keeps one row in 2000, not half.")
    if kept != n // 2:
        _hint(f"you kept {kept} of {n} rows ({kept / n:.1%}), not half.")
    if subset.column_names != full.column_names or subset.to_list() != full.select(range(kept)).to_list():
        _hint("these are not the first rows, with all their columns: select a range from the start.")
    return f"{kept} of {n} rows: print the size before training, every time."


@_exercise(
    "07.2",
    "Build a TripletEvaluator on the held-out triplets, one negative string per triplet.",
    ("held_out", "train"),
)
def _held_out_evaluator(answer: Any, held_out: Any, train: Any) -> str:
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

    if not isinstance(answer, TripletEvaluator):
        _hint(f"the answer is a TripletEvaluator (triplets.triplet_evaluator(...)), not {type(answer).__name__}.")
    if any(not isinstance(text, str) for text in answer.negatives):
        _hint("a negative is a list: a triplet has ONE negative string.")
    test = _as_dataset(held_out, "held_out=, the test triplets")
    seen = _as_dataset(train, "train=, the training triplets")
    training_texts = {text for column in seen.column_names for text in seen[column]}
    if set(answer.anchors) & training_texts:
        _hint("some anchors are training questions: accuracy on them measures memory, not comparison of new questions.")
    if [list(answer.anchors), list(answer.positives), list(answer.negatives)] != [
        list(test[column]) for column in ("anchor", "positive", "negative")
    ]:
        _hint("use every held-out triplet, anchor, positive and negative in their columns.")
    return f"{len(answer.anchors)} held-out triplets, none seen in training."


@_exercise(
    "07.3",
    "Train the weak start with MultipleNegativesRankingLoss: which batch sampler does the history report?",
)
def _ranking_sampler(answer: Any) -> str:
    from stutor import losses, training

    value = answer.batch_sampler if isinstance(answer, training.TrainingHistory) else answer
    if not isinstance(value, str):
        _hint("the answer is history.batch_sampler (a string) or the TrainingHistory itself.")
    expected = losses.batch_sampler_for("MultipleNegativesRankingLoss")
    if str(getattr(value, "value", value)).lower() == expected.value:
        return "the other positives of a batch are its negatives, so a batch must not hold the same text twice."
    _hint(
        "this loss uses the other texts of the batch as negatives: which sampler keeps a text from "
        "appearing twice in one batch?"
    )
