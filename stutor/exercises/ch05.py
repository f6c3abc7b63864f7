"""Exercises of notebook 05: choosing a loss (the loss table, batches for in-batch mining, case-3 classes)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from stutor.exercises.answers import case_report_or_hint, column_rows, dataset_or_hint, loss_name_or_hint
from stutor.exercises.registry import exercise, hint


@exercise("05.1", "Choose a loss that fits the scored pairs (name, class or built loss).")
def loss_for_scores(answer: Any, dataset: Any) -> str:
    from stutor import losses

    name = loss_name_or_hint(answer)
    report = case_report_or_hint(dataset_or_hint(dataset, "dataset=, the scored pairs"))
    fitting = [option.name for option in losses.candidate_losses(report)]
    if name in fitting:
        first = "the course's first choice" if name == fitting[0] else "it fits; the course's first choice is another"
        return f"{name} takes {report.kind} ({first})."
    try:
        option = losses.options_for(name)[0]
    except ValueError:
        hint(f"{name} is not in the course's loss table (losses.LOSS_TABLE); pick from the table.")
    if option.case is report.case:
        hint(f"{name} needs {option.label_type.value} labels; these pairs carry a {report.label_type.value}.")
    hint(f"{name} takes case {option.case.value} data; these are case {report.case.value}: {report.kind}.")


@exercise(
    "05.2",
    "Pick 8 rows of the case-3 data from 4 classes, 2 each: a batch in which BatchAllTripletLoss finds triplets.",
)
def grouped_batch(answer: Any, source: Any) -> str:
    from stutor import losses
    from stutor.cases import Case

    batch = dataset_or_hint(answer, "the batch (8 rows of the case-3 data)")
    original = dataset_or_hint(source, "source=, the case-3 data")
    report = case_report_or_hint(batch)
    if report.case is not Case.LABELLED_SENTENCE:
        hint(f"detect_case sees {report.case}; keep the case-3 rows as they are (sentence, label).")
    rows = set(column_rows(original, (*case_report_or_hint(original).text_columns, "label")))
    if not set(column_rows(batch, (*report.text_columns, report.label_column))) <= rows:
        hint("take the rows from the case-3 data unchanged (dataset.select([...])).")
    counts = Counter(batch[report.label_column])
    if batch.num_rows != 8 or sorted(counts.values()) != [2, 2, 2, 2]:
        hint(
            f"the batch has {batch.num_rows} rows with class sizes {sorted(counts.values())}: "
            "8 rows, 4 classes, 2 each."
        )
    try:
        losses.check_loss_fits("BatchAllTripletLoss", batch)
    except ValueError as error:  # pragma: no cover - 4 classes of 2 always fit; kept as the authority
        hint(str(error))
    return "each sentence has a positive (its class mate) and 6 negatives: 8 × 1 × 6 = 48 triplets to mine."


@exercise(
    "05.3",
    "Turn the triplets into case-3 data: anchor and positive share a class, each negative is a class of its own.",
)
def triplets_to_classes(answer: Any, triplets: Any) -> str:
    from stutor.cases import Case

    dataset = dataset_or_hint(answer, "the case-3 data set")
    source = dataset_or_hint(triplets, "triplets=, the triplets")
    report = case_report_or_hint(dataset)
    if report.case is not Case.LABELLED_SENTENCE:
        hint(f"detect_case sees {report.case}; case 3 is one sentence and one integer class per row.")
    rows = column_rows(source, case_report_or_hint(source).text_columns)
    label_of: dict[str, set[Any]] = defaultdict(set)
    for text, label in zip(dataset[report.text_columns[0]], dataset[report.label_column], strict=True):
        label_of[text].add(label)
    texts = {text for row in rows for text in row}
    if set(label_of) != texts:
        hint("every anchor, positive and negative of the triplets becomes one row, and nothing else.")
    if any(len(labels) > 1 for labels in label_of.values()):
        hint("a sentence has one class: the same text got two different labels.")
    label = {text: next(iter(labels)) for text, labels in label_of.items()}
    if any(label[anchor] != label[positive] for anchor, positive, _ in rows):
        hint("an anchor and its positive mean the same: they belong to one class.")
    expected = {frozenset((a, p)) for a, p, _ in rows} | {frozenset((n,)) for _, _, n in rows}
    members: dict[Any, set[str]] = defaultdict(set)
    for text, value in label.items():
        members[value].add(text)
    if {frozenset(group) for group in members.values()} != expected:
        hint("two different questions share a class: only an anchor and its own positive mean the same.")
    return f"{len(rows)} triplets became {len(label)} sentences in {len(members)} classes."
