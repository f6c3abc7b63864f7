"""stutor.exercises: every checker passes the right answer and hints at a wrong one without the solution."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from feedback import hints, passes
from sklearn.linear_model import LogisticRegression

from stutor import (
    cases,
    classification,
    costs,
    data,
    evaluation,
    exercises,
    layers,
    losses,
    models,
    schemas,
    training,
    triplets,
)
from stutor.exercises import registry

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# --- the frame ---------------------------------------------------------------------------------


def _ids(chapter: str) -> list[str]:
    """The registered exercise ids of one chapter (``"01"``), in order."""
    return sorted(key for key in registry.REGISTRY if key.startswith(f"{chapter}."))


def test_every_chapter_has_two_to_four_exercises():
    for chapter in {key[:2] for key in registry.REGISTRY}:
        assert 2 <= len(_ids(chapter)) <= 4
    assert _ids("01") == ["01.1", "01.2", "01.3"]


def test_unknown_exercise_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown exercise '9\.9'.*'01\.1'"):
        exercises.check("9.9", 1)


def test_missing_or_extra_context_shows_the_call():
    with pytest.raises(TypeError, match=r"lacks \['model'\]: call check\('01\.3', answer, model=\.\.\.\)"):
        exercises.check("01.3", 5)
    with pytest.raises(TypeError, match=r"unexpected \['model'\]"):
        exercises.check("03.1", (1, 2), model=None)


def test_none_is_not_answered_yet():
    feedback = exercises.check("03.1", None)
    assert not feedback.passed and not feedback.answered
    assert str(feedback) == f"❌ Exercise 03.1: not answered yet — {registry.REGISTRY['03.1'].task}"


def test_needs_come_from_the_checkers_signature():
    assert (registry.REGISTRY["06.2"].needs, registry.REGISTRY["06.2"].optional) == (("embed", "pairs"), ("threshold",))
    assert registry.REGISTRY["03.1"].needs == registry.REGISTRY["03.1"].optional == ()
    for exercise_id, entry in registry.REGISTRY.items():
        assert registry.needs_of(entry.checker) == (entry.needs, entry.optional), exercise_id
        assert entry.checker.__module__ == f"stutor.exercises.ch{exercise_id[:2]}", exercise_id


def test_a_defaulted_parameter_is_an_optional_need(monkeypatch):
    monkeypatch.setattr(registry, "REGISTRY", {})
    seen = []

    @registry.exercise("99.1", "Say a word.")
    def word(answer, model, sentences, limit=3):
        seen.append(limit)
        if answer != "word":
            registry.hint("say 'word'.")
        return f"{model} {len(sentences)}"

    entry = registry.REGISTRY["99.1"]
    assert (entry.id, entry.task, entry.checker) == ("99.1", "Say a word.", word)
    assert (entry.needs, entry.optional) == (("model", "sentences"), ("limit",))
    assert str(registry.check("99.1", "word", model="m", sentences=[1, 2])) == "✅ Exercise 99.1 passed: m 2"
    assert not registry.check("99.1", "other", model="m", sentences=[], limit=5)
    assert seen == [3, 5]
    with pytest.raises(
        TypeError, match=r"lacks \['sentences'\]: call check\('99\.1', answer, model=\.\.\., sentences=\.\.\.\)"
    ):
        registry.check("99.1", "word", model="m")
    with pytest.raises(TypeError, match=r"got unexpected \['size'\]: call check\('99\.1', answer, model="):
        registry.check("99.1", "word", model="m", sentences=[], size=1)
    with pytest.raises(TypeError, match="lacks"):  # a missing need is reported even before an answer
        registry.check("99.1", None)
    unanswered = registry.check("99.1", None, model="m", sentences=[])
    assert not unanswered.answered and unanswered.message == "Say a word."


def test_the_decorator_refuses_unnamed_needs_and_a_second_registration(monkeypatch):
    monkeypatch.setattr(registry, "REGISTRY", {})
    with pytest.raises(TypeError, match="name every need"):
        registry.exercise("99.1", "task")(lambda answer, **given: None)
    with pytest.raises(TypeError, match="first positional parameter"):
        registry.exercise("99.1", "task")(lambda *, model: None)
    registry.exercise("99.1", "task")(lambda answer: None)
    with pytest.raises(ValueError, match="registered twice"):
        registry.exercise("99.1", "task")(lambda answer: None)


def test_every_chapter_module_names_its_notebook():
    for chapter in CHAPTERS:
        module = importlib.import_module(f"stutor.exercises.ch{chapter.name[:2]}")
        assert module.__doc__.startswith(f"Exercises of notebook {chapter.name[:2]}: ")


def test_feedback_prints_in_ipython():
    feedback = exercises.Feedback("01.1", True, "fine")
    printer = SimpleNamespace(parts=[], text=lambda value: printer.parts.append(value))
    feedback._repr_pretty_(printer, False)
    assert printer.parts == ["✅ Exercise 01.1 passed: fine"]


@pytest.mark.parametrize(
    ("exercise_id", "answer", "given"),
    [
        ("01.3", "eleven", {"model": None}),
        ("03.1", 5, {}),
        ("03.1", ("a", 5000), {}),
        ("04.1", 9.0, {}),
        ("04.3", "a data set", {}),
        ("05.1", 42, {"dataset": [{"sentence1": "a", "sentence2": "b", "score": 0.5}]}),
        ("07.2", "an evaluator", {"held_out": [], "train": []}),
        ("07.3", 3, {}),
    ],
)
def test_a_wrong_type_is_a_hint_not_an_error(exercise_id, answer, given):
    feedback = exercises.check(exercise_id, answer, **given)
    assert not feedback.passed and feedback.message


# --- notebook 01 -------------------------------------------------------------------------------


def test_01_1_first_token_model(choice, st_model):
    passes("01.1", models.build_sentence_transformer(choice, pooling="cls"))
    assert "pooling_mode" in hints("01.1", st_model, "cls").message
    hints("01.1", st_model[0], "cls")


@pytest.fixture(scope="module")
def heatmap():
    """Notebook 01's heatmap: three paraphrases and the hard negative of the first two training groups."""
    sentences, labels = [], []
    for group in data.load_paraphrase_groups("train").select(range(2)):
        sentences += [*group["paraphrases"][:3], group["hard_negatives"][0]]
        labels += [group["id"]] * 3 + [group["id"] + " (neg)"]
    return {"sentences": sentences, "labels": labels}


def test_01_2_own_paraphrase(st_model, heatmap):
    feedback = passes("01.2", "How should a total beginner start learning Python?", model=st_model, **heatmap)
    assert "g001" in feedback.message
    hints("01.2", "How can I remove Python from my Windows laptop?", "Python", model=st_model, **heatmap)
    assert "already" in hints("01.2", "Best way to learn Python?", "learn", model=st_model, **heatmap).message


def test_01_2_checks_the_notebooks_sentences_and_labels(st_model, heatmap):
    answer, sentences, labels = (
        "How should a total beginner start learning Python?",
        heatmap["sentences"],
        heatmap["labels"],
    )
    with pytest.raises(
        TypeError, match=r"call check\('01\.2', answer, model=\.\.\., sentences=\.\.\., labels=\.\.\.\)"
    ):
        exercises.check("01.2", answer, model=st_model, sentences=sentences)
    short = hints("01.2", answer, "g001", model=st_model, sentences=sentences, labels=labels[:4])
    assert "4 labels for 8 sentences" in short.message
    unlabelled = hints("01.2", answer, "g001", model=st_model, sentences=sentences, labels=["x"] * len(sentences))
    assert "labels=" in unlabelled.message
    assert "single string" in hints("01.2", answer, "g001", model=st_model, sentences=answer, labels=labels).message


def test_01_3_token_count(st_model):
    text = "Tokenization splits uncommon words into pieces"
    right = len(st_model[0].preprocess([text])["input_ids"][0])
    passes("01.3", right, model=st_model[0])
    assert "markers" in hints("01.3", right - 2, right, model=st_model).message
    assert "words" in hints("01.3", len(text.split()), right, model=st_model).message


# --- notebook 02 -------------------------------------------------------------------------------

THREE = ["Hi", "Where is the library in this town?", "The library on the corner opens at nine on weekdays and at ten."]


def test_02_1_furthest_unmasked(st_model):
    passes("02.1", 0, sentences=THREE, model=st_model)
    hints("02.1", 2, 0, sentences=THREE, model=st_model)
    assert "same number of tokens" in hints("02.1", 0, 0, sentences=["a b", "c d"], model=st_model).message


def test_02_2_pooler_difference(raw_and_tokenizer):
    raw, tokenizer = raw_and_tokenizer
    text = "I am a student"
    encoded = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        output = raw(**encoded)
    right = output.pooler_output - layers.masked_mean_pooling(output.last_hidden_state, encoded["attention_mask"])
    right = right.abs().max()
    passes("02.2", right, text=text, raw_model=raw, tokenizer=tokenizer)
    assert (
        "not equal" in hints("02.2", 0.0, f"{right.item():.2f}", text=text, raw_model=raw, tokenizer=tokenizer).message
    )
    first = (output.pooler_output - output.last_hidden_state[:, 0]).abs().max().item()
    hinted = hints("02.2", first, f"{right.item():.2f}", text=text, raw_model=raw, tokenizer=tokenizer)
    assert "first token" in hinted.message


def test_02_3_masked_mean():
    torch.manual_seed(0)
    hidden = torch.randn(2, 5, 4)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]])
    right = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
    passes("02.3", right, hidden=hidden, attention_mask=mask)
    solution = [f"{value:.2f}" for value in right.flatten().tolist()] + ["mask.sum"]
    assert "padding included" in hints("02.3", hidden.mean(1), solution, hidden=hidden, attention_mask=mask).message
    wrong = (hidden * mask.unsqueeze(-1)).sum(1) / 5
    assert "padded length" in hints("02.3", wrong, solution, hidden=hidden, attention_mask=mask).message
    assert "shape" in hints("02.3", hidden, solution, hidden=hidden, attention_mask=mask).message


# --- notebook 03 -------------------------------------------------------------------------------


def test_03_1_pass_counts():
    passes("03.1", (costs.pair_count(5000), 5000))
    hints("03.1", (5000 * 5000, 5000), costs.pair_count(5000))
    hints("03.1", (costs.pair_count(5000), 1), 5000)


def test_03_2_minute_threshold():
    comparison = SimpleNamespace(cross=SimpleNamespace(rate=16.0))
    right = next(n for n in range(2, 10_000) if costs.pair_count(n) / 16.0 > 60)
    passes("03.2", right, comparison=comparison)
    assert "go higher" in hints("03.2", right - 1, right, comparison=comparison).message
    assert "lower" in hints("03.2", right + 5, right, comparison=comparison).message


def test_03_3_cls_pooling_score(choice, st_model):
    pairs = data.load_sts_pairs().select(range(30))
    result = evaluation.evaluate_sts(st_model, pairs, methods=["cls", "mean"], data_name="few")
    cls_model = models.build_sentence_transformer(choice, pooling="cls")
    right = evaluation.evaluate_sts(cls_model, pairs, methods=["sentence_transformer"], data_name="few")
    passes("03.3", right, result=result)
    mean = evaluation.evaluate_sts(st_model, pairs, methods=["sentence_transformer"], data_name="few")
    score = f"{result.score('cls'):.1f}"
    assert "mean-pooling" in hints("03.3", mean, score, result=result).message
    other = evaluation.evaluate_sts(cls_model, pairs.select(range(20)), methods=["sentence_transformer"])
    assert "same scored pairs" in hints("03.3", other, score, result=result).message


# --- notebook 04 -------------------------------------------------------------------------------


def test_04_1_all_combinations():
    row = {"set": {"query": "q", "pos": [f"p{i}" for i in range(3)], "neg": [f"n{j}" for j in range(30)]}}
    right = schemas.convert([row], "qqp_triplets", all_combinations=True).num_rows
    passes("04.1", right)
    assert "every negative" in hints("04.1", 33, right).message
    assert "without all_combinations" in hints("04.1", 1, right).message


def test_04_2_positive_pairs():
    labelled = data.bundled_case(1, "train")
    right = labelled.filter(lambda row: row["label"] == 1).remove_columns("label")
    right = right.rename_columns({"sentence1": "anchor", "sentence2": "positive"})
    passes("04.2", right, source=labelled)
    solution = [f" {right.num_rows} ", "filter", "remove_columns", "rename_columns"]
    everything = labelled.remove_columns("label").rename_columns({"sentence1": "anchor", "sentence2": "positive"})
    assert "label 0" in hints("04.2", everything, solution, source=labelled).message
    assert "case 1" in hints("04.2", labelled, solution, source=labelled).message
    unnamed = labelled.filter(lambda row: row["label"] == 1).remove_columns("label")
    assert "columns" in hints("04.2", unnamed, solution[:2], source=labelled).message


def test_04_3_topic_sentences():
    groups = data.load_paraphrase_groups("train")
    label = {topic: i for i, topic in enumerate(sorted(set(groups["topic"])))}
    right = [{"sentence": s, "label": label[g["topic"]]} for g in groups for s in g["paraphrases"]]
    passes("04.3", right)
    solution = [f" {len(label)} ", *label]
    assert "group" in hints("04.3", data.bundled_case(3, "train"), solution).message
    as_names = [{"sentence": row["sentence"], "label": str(row["label"])} for row in right]
    assert "detect_case" in hints("04.3", as_names, solution[:1]).message


# --- notebook 05 -------------------------------------------------------------------------------


def test_05_1_loss_for_scores(st_model):
    scored = data.bundled_case(1, label_type="score")
    right = losses.recommended_loss(cases.detect_case(scored)).name
    assert "first choice" in passes("05.1", right, dataset=scored).message
    passes("05.1", losses.build_loss(right, st_model), dataset=scored)
    assert "class labels" in hints("05.1", "OnlineContrastiveLoss", right, dataset=scored).message
    assert "case 4" in hints("05.1", "TripletLoss", right, dataset=scored).message


def test_05_2_grouped_batch():
    sentences = data.bundled_case(3, "train")
    first = {}
    for index, label in enumerate(sentences["label"]):
        first.setdefault(label, []).append(index)
    right = sentences.select([i for label in list(first)[:4] for i in first[label][:2]])
    passes("05.2", right, source=sentences)
    solution = right["sentence"]
    one_each = sentences.select([first[label][0] for label in list(first)[:8]])
    assert "2 each" in hints("05.2", one_each, solution, source=sentences).message
    changed = right.map(lambda row: {"sentence": row["sentence"] + "!"})
    assert "unchanged" in hints("05.2", changed, solution, source=sentences).message


def test_05_3_triplets_to_classes():
    six = data.bundled_case(4, "train").select(range(6))
    right = []
    for i, row in enumerate(six):
        right += [{"sentence": row["anchor"], "label": i}, {"sentence": row["positive"], "label": i}]
        right.append({"sentence": row["negative"], "label": 100 + i})
    passes("05.3", right, triplets=six)
    solution = [row["sentence"] for row in right]
    negatives_together = [dict(r, label=99) if r["label"] >= 100 else r for r in right]
    assert "share a class" in hints("05.3", negatives_together, solution, triplets=six).message
    split_pair = [dict(r, label=50 + r["label"]) if i % 3 == 1 else r for i, r in enumerate(right)]
    assert "one class" in hints("05.3", split_pair, solution, triplets=six).message


# --- notebook 06 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embed(st_model):
    cache = {}

    def embed(sentences):
        new = [s for s in dict.fromkeys(sentences) if s not in cache]
        if new:
            cache.update(zip(new, st_model.encode(new, normalize_embeddings=True), strict=True))
        return np.stack([cache[s] for s in sentences])

    return embed


def _probe(embed, rows, labels, c=1.0):
    return LogisticRegression(C=c, max_iter=2000).fit(embed(list(rows["sentence"])), labels)


def test_06_1_less_data(embed):
    train, test = data.topic_sentences("train", per_group=2), data.topic_sentences("test")
    few = data.topic_sentences("train", per_group=1)
    right = _probe(embed, few, list(few["label"])).score(embed(list(test["sentence"])), list(test["label"]))
    given = {"embed": embed, "C": 1.0, "train": train, "test": test}
    passes("06.1", right, **given)
    on_train = _probe(embed, few, list(few["label"])).score(embed(list(few["sentence"])), list(few["label"]))
    assert "training sentences" in hints("06.1", on_train, f"{right:.3f}", **given).message
    two = _probe(embed, train, list(train["label"])).score(embed(list(test["sentence"])), list(test["label"]))
    if abs(two - right) > 1.5 / len(test):
        assert "two paraphrases" in hints("06.1", two, f"{right:.3f}", **given).message


def test_06_2_threshold_on_test(embed):
    train, test = data.duplicate_pairs("train", per_group=2), data.duplicate_pairs("test")

    def cosine(pairs):
        return np.sum(embed(list(pairs["sentence1"])) * embed(list(pairs["sentence2"])), axis=1)

    threshold, _ = classification.best_threshold(cosine(train), list(train["label"]))
    _, right = classification.best_threshold(cosine(test), list(test["label"]))
    honest = float(np.mean((cosine(test) > threshold) == (np.array(test["label"]) == 1)))
    given = {"embed": embed, "pairs": test, "threshold": threshold}
    assert f"{honest:.3f}" in passes("06.2", right, **given).message
    passes("06.2", right, embed=embed, pairs=test)  # the threshold only adds the held-out number
    if abs(honest - right) > 1.5 / len(test):
        assert "train pairs" in hints("06.2", honest, f"{right:.3f}", **given).message
    assert "does better" in hints("06.2", 0.5, f"{right:.3f}", embed=embed, pairs=test).message
    assert "no threshold" in hints("06.2", 1.0, f"{right:.3f}", **given).message


def test_06_3_length_label(embed):
    train, test = data.topic_sentences("train", per_group=2), data.topic_sentences("test")

    def long(rows):
        return [int(len(s.split()) > 8) for s in rows["sentence"]]

    right = _probe(embed, train, long(train)).score(embed(list(test["sentence"])), long(test))
    given = {"embed": embed, "train": train, "test": test}
    passes("06.3", right, **given)
    majority = max(np.mean(long(test)), 1 - np.mean(long(test)))
    if abs(majority - right) > 1.5 / len(test):
        assert "most common class" in hints("06.3", majority, f"{right:.3f}", **given).message
    assert "pass embed=" in hints("06.3", right, f"{right:.3f}", embed=None, train=train, test=test).message


# --- notebook 07 -------------------------------------------------------------------------------


def test_07_1_first_half():
    pool = data.group_triplets("train")
    passes("07.1", pool.select(range(len(pool) // 2)), data=pool)
    assert "2000" in hints("07.1", pool.select(range(len(pool) // 2000)), len(pool) // 2, data=pool).message
    hints("07.1", pool.select(range(len(pool) // 2, 2 * (len(pool) // 2))), "range(0", data=pool)


def test_07_2_held_out_evaluator():
    pool, test = data.group_triplets("train"), data.group_triplets("test")
    passes("07.2", triplets.triplet_evaluator(test), held_out=test, train=pool)
    solution = ["triplet_evaluator(test", "test_set"]
    on_training = triplets.triplet_evaluator(pool.select(range(30)))
    assert "training questions" in hints("07.2", on_training, solution, held_out=test, train=pool).message
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

    lists = TripletEvaluator(test["anchor"][:2], test["positive"][:2], [test["negative"][:2], test["negative"][:2]])
    assert "ONE negative" in hints("07.2", lists, solution, held_out=test, train=pool).message


def test_07_3_ranking_sampler():
    right = losses.batch_sampler_for("MultipleNegativesRankingLoss")
    passes("07.3", right.value)
    passes("07.3", training.TrainingHistory(batch_sampler=right.value))
    hints("07.3", "batch_sampler", right.value)


# --- the notebooks use them --------------------------------------------------------------------


def _code(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def _shown(cell: dict) -> str:
    """The text a code cell showed: its streams and the plain-text form of its results."""
    return "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"]
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name[:2])
def test_chapter_ends_with_one_scaffold_per_exercise(chapter):
    ids = _ids(chapter.name[:2])
    if not ids:
        pytest.skip(f"no exercises registered for {chapter.name}")
    tail = _code(chapter)[-len(ids) :]
    for exercise_id, cell in zip(ids, tail, strict=True):
        assert f'exercises.check("{exercise_id}", answer' in "".join(cell["source"])
        shown = _shown(cell)
        assert shown.startswith(f"❌ Exercise {exercise_id}: not answered yet — ")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name[:2])
def test_solution_notebook_passes_every_exercise(chapter):
    ids = _ids(chapter.name[:2])
    if not ids:
        pytest.skip(f"no exercises registered for {chapter.name}")
    solution = ROOT / "notebooks" / "solutions" / f"{chapter.stem}_solutions.ipynb"
    assert solution.exists(), f"{solution.relative_to(ROOT)} is missing"
    passed = set()
    for cell in _code(solution):
        source = "".join(cell["source"])
        for exercise_id in re.findall(r'exercises\.check\("(\d\d\.\d)"', source):
            assert source.startswith("# NBVAL_CHECK_OUTPUT"), f"{exercise_id}: the check's cell must be compared"
            shown = _shown(cell)
            assert f"✅ Exercise {exercise_id} passed" in shown
            passed.add(exercise_id)
    assert passed == set(ids)


def _check_calls(path: Path) -> list[tuple[str, set[str]]]:
    """Every ``exercises.check("NN.k", answer, name=...)`` of a notebook: the id and the keyword names."""
    calls = []
    for cell in _code(path):
        lines = [line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))]
        for node in ast.walk(ast.parse("\n".join(lines))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "check"
                and getattr(node.func.value, "id", None) == "exercises"
            ):
                calls.append((node.args[0].value, {keyword.arg for keyword in node.keywords}))
    return calls


@pytest.mark.parametrize(
    "notebook",
    [*CHAPTERS, *sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))],
    ids=lambda p: p.stem,
)
def test_every_notebook_call_passes_what_the_checker_needs(notebook):
    calls = _check_calls(notebook)
    assert calls or not _ids(notebook.name[:2])
    for exercise_id, given in calls:
        entry = registry.REGISTRY[exercise_id]
        assert set(entry.needs) <= given <= set(entry.needs + entry.optional), (
            f"{notebook.name}: check({exercise_id!r}, answer, {', '.join(sorted(given))}) but the checker needs "
            f"{list(entry.needs)} and also accepts {list(entry.optional)}"
        )
