"""The loss selection table: every entry builds and computes a finite loss on data of its case."""

from __future__ import annotations

import inspect
import math

import pytest
from datasets import Dataset
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer import losses as st_losses

from stutor import cases, data, losses
from stutor.cases import Case, LabelType

# The row of each loss' own "Inputs" docstring table that the case corresponds to.
DOC_INPUTS = {
    (Case.LABELLED_PAIR, LabelType.CLASS, True): ("(anchor, positive/negative) pairs", "1 if positive, 0 if negative"),
    (Case.LABELLED_PAIR, LabelType.CLASS, False): ("(input_A, input_B) pairs", "class"),
    (Case.LABELLED_PAIR, LabelType.SCORE, False): ("(input_A, input_B) pairs", "float similarity score"),
    (Case.POSITIVE_PAIR, LabelType.NONE, False): ("(anchor, positive) pairs", "none"),
    (Case.LABELLED_SENTENCE, LabelType.CLASS, False): ("single inputs", "class"),
    (Case.TRIPLET, LabelType.NONE, False): ("(anchor, positive, negative) triplets", "none"),
}


def _tiny(option: losses.LossOption) -> Dataset:
    """A few rows of the option's case, from the bundled data (at least 2 classes x 2 sentences for case 3)."""
    if option.case is Case.LABELLED_SENTENCE:
        return data.bundled_case(3, "dev").select(range(8))
    label_type = "score" if option.label_type is LabelType.SCORE else "class"
    return data.bundled_case(option.case, "dev", label_type=label_type).select(range(4))


def _id(option: losses.LossOption) -> str:
    return f"case{option.case.value}-{option.label_type.value}-{option.name}"


@pytest.mark.filterwarnings("error")  # no deprecated loss in the table
@pytest.mark.parametrize("option", losses.LOSS_TABLE, ids=_id)
def test_every_entry_builds_and_gives_a_finite_loss(option, st_model):
    dataset = _tiny(option)
    extra = {"guide": st_model} if option.needs_guide else {}
    loss = losses.build_loss(option.name, st_model, dataset, **extra)
    assert type(loss).__name__ == option.name
    value = losses.loss_on_batch(loss, dataset)
    assert math.isfinite(value) and value >= 0.0
    assert losses.batch_sampler_for(loss) is option.sampler


@pytest.mark.parametrize("option", losses.LOSS_TABLE, ids=_id)
def test_entry_agrees_with_the_loss_docstring_inputs_table(option):
    doc = inspect.getdoc(getattr(st_losses, option.name).__init__) or ""
    rows = [line for line in doc.splitlines() if line.strip().startswith("|")]
    inputs, label = DOC_INPUTS[(option.case, option.label_type, option.binary)]
    assert any(inputs in row and label in row for row in rows), f"{option.name}: no row '{inputs} | {label}'"


def test_entry_reasons_are_one_line_and_samplers_follow_the_docs():
    for option in losses.LOSS_TABLE:
        assert option.reason and "\n" not in option.reason
        doc = inspect.getdoc(getattr(st_losses, option.name).__init__) or ""
        if "BatchSamplers.NO_DUPLICATES" in doc:
            assert option.sampler is BatchSamplers.NO_DUPLICATES, option.name
        elif "BatchSamplers.GROUP_BY_LABEL" in doc:
            assert option.sampler is BatchSamplers.GROUP_BY_LABEL, option.name
        else:
            assert option.sampler is BatchSamplers.BATCH_SAMPLER, option.name


def test_one_recommended_loss_per_case_and_label_type():
    for key in {(o.case, o.label_type) for o in losses.LOSS_TABLE}:
        assert sum(o.recommended for o in losses.LOSS_TABLE if (o.case, o.label_type) == key) == 1


@pytest.mark.parametrize(
    ("case", "label_type", "expected"),
    [
        (1, "class", "OnlineContrastiveLoss"),
        (1, "score", "CoSENTLoss"),
        (2, None, "MultipleNegativesRankingLoss"),
        (3, None, "BatchAllTripletLoss"),
        ("triplet", None, "MultipleNegativesRankingLoss"),
    ],
)
def test_recommended_loss(case, label_type, expected):
    assert losses.recommended_loss(case, label_type).name == expected
    assert losses.candidate_losses(case, label_type)[0].recommended


def test_candidates_from_a_report_drop_binary_losses_for_many_classes():
    three_classes = cases.detect_case(
        [{"sentence1": "a", "sentence2": "b", "label": label} for label in (0, 1, 2)]  # e.g. NLI
    )
    names = [o.name for o in losses.candidate_losses(three_classes)]
    assert names == ["SoftmaxLoss"]
    binary = cases.detect_case(data.bundled_case(1, "dev"))
    assert "OnlineContrastiveLoss" in [o.name for o in losses.candidate_losses(binary)]


def test_candidate_losses_bad_input():
    with pytest.raises(ValueError, match="label_type='class'"):
        losses.candidate_losses(1)
    with pytest.raises(ValueError, match="Unknown case"):
        losses.candidate_losses(5)
    with pytest.raises(ValueError, match="Unknown label type"):
        losses.candidate_losses(1, "float")


def test_batch_sampler_for_names_classes_instances_and_wrappers(st_model):
    assert losses.batch_sampler_for("MultipleNegativesRankingLoss") is BatchSamplers.NO_DUPLICATES
    assert losses.batch_sampler_for(st_losses.BatchHardTripletLoss) is BatchSamplers.GROUP_BY_LABEL
    assert losses.batch_sampler_for("CoSENTLoss") is BatchSamplers.BATCH_SAMPLER
    assert losses.batch_sampler_for("MSELoss") is BatchSamplers.BATCH_SAMPLER  # not in the table: default
    wrapped = st_losses.MatryoshkaLoss(st_model, st_losses.MultipleNegativesRankingLoss(st_model), [384, 64])
    assert losses.batch_sampler_for(wrapped) is BatchSamplers.NO_DUPLICATES
    with pytest.raises(ValueError, match="not a sentence-transformers loss"):
        losses.batch_sampler_for("MultipleNegativeRankingLoss")
    with pytest.raises(TypeError, match="Expected a loss"):
        losses.batch_sampler_for(3)


TRIPLETS = [{"anchor": "a b", "positive": "a c", "negative": "d e"}]
CLASS_PAIRS = [{"sentence1": "a", "sentence2": "b", "label": 1}, {"sentence1": "a", "sentence2": "c", "label": 0}]
SCORE_PAIRS = [{"sentence1": "a", "sentence2": "b", "score": 0.9}, {"sentence1": "a", "sentence2": "c", "score": 0.1}]


@pytest.mark.parametrize(
    ("loss", "rows", "match"),
    [
        (
            "CoSENTLoss",
            TRIPLETS,
            r"CoSENTLoss does not fit this data\. The data is case 4 \(triplet .*\): 3 text columns",
        ),
        ("TripletLoss", [{"anchor": "a", "positive": "b"}], "expects case 4"),
        ("CoSENTLoss", CLASS_PAIRS, "integers .* needs float scores"),  # ints for a score loss
        ("OnlineContrastiveLoss", SCORE_PAIRS, "floats .* needs integer classes"),  # floats for a class loss
        ("SoftmaxLoss", SCORE_PAIRS, "floats .* needs integer classes"),
        ("BatchAllTripletLoss", TRIPLETS, r"Losses that fit this data: \['MultipleNegativesRankingLoss'"),
        ("ContrastiveLoss", [{**CLASS_PAIRS[0], "label": 2}, CLASS_PAIRS[1]], "needs labels 0 .* and 1"),
        ("BatchHardTripletLoss", [{"sentence": "a", "label": 0}, {"sentence": "b", "label": 1}], "2 classes"),
        ("MSELoss", TRIPLETS, "not in the course's selection table"),
        ("TripletLos", TRIPLETS, "not a sentence-transformers loss"),
    ],
)
def test_check_loss_fits_refuses_mismatches(loss, rows, match):
    with pytest.raises(ValueError, match=match):
        losses.check_loss_fits(loss, rows)


def test_symmetric_ranking_through_build_loss_keywords(st_model):
    loss = losses.build_loss(
        "MultipleNegativesRankingLoss",
        st_model,
        data.bundled_case(2, "dev").select(range(3)),
        directions=("query_to_doc", "doc_to_query"),
        partition_mode="per_direction",
    )
    assert math.isfinite(losses.loss_on_batch(loss, data.bundled_case(2, "dev").select(range(3))))


def test_check_loss_fits_returns_the_report():
    report = losses.check_loss_fits("CoSENTLoss", SCORE_PAIRS)
    assert (report.case, report.label_type) == (Case.LABELLED_PAIR, LabelType.SCORE)


def test_build_loss_fills_softmax_requirements(st_model):
    loss = losses.build_loss("SoftmaxLoss", st_model, data.bundled_case(1, "dev"))
    assert loss.classifier.out_features == 2
    assert loss.classifier.in_features == 3 * st_model.get_embedding_dimension()
    with pytest.raises(ValueError, match="SoftmaxLoss needs num_labels"):
        losses.build_loss("SoftmaxLoss", st_model)
    assert losses.build_loss("SoftmaxLoss", st_model, num_labels=3).classifier.out_features == 3


def test_build_loss_bad_input(st_model):
    with pytest.raises(ValueError, match="needs a guide model"):
        losses.build_loss("GISTEmbedLoss", st_model)
    with pytest.raises(TypeError, match="must be a SentenceTransformer"):
        losses.build_loss("CoSENTLoss", "all-MiniLM-L6-v2")
    with pytest.raises(ValueError, match="does not fit"):
        losses.build_loss("CoSENTLoss", st_model, Dataset.from_list(TRIPLETS))
    with pytest.raises(ValueError, match="not a sentence-transformers loss"):
        losses.build_loss("CosentLoss", st_model)


def test_loss_on_batch_checks_the_data_first(st_model):
    loss = losses.build_loss("TripletLoss", st_model)
    with pytest.raises(ValueError, match="TripletLoss does not fit"):
        losses.loss_on_batch(loss, Dataset.from_list(SCORE_PAIRS))


def test_a_batchall_batch_with_one_sentence_per_class_has_loss_zero(st_model):
    loss = losses.build_loss("BatchAllTripletLoss", st_model)
    sentences = data.bundled_case(3, "train")
    one_per_class = sentences.select([sentences["label"].index(label) for label in sorted(set(sentences["label"]))[:4]])
    with pytest.raises(ValueError, match="at least 2 classes with at least 2 sentences"):
        losses.check_loss_fits(loss, one_per_class)  # as a training set it is refused ...
    assert losses.loss_on_batch(loss, one_per_class) == 0.0  # ... as one batch it simply teaches nothing
    assert losses.loss_on_batch(loss, sentences.select(range(8))) > 0.0
