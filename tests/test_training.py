"""stutor.training: checked arguments, seeded runs, a history that plots, offline saving."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers import InputExample
from sentence_transformers.sentence_transformer import SentenceTransformer, losses
from sentence_transformers.sentence_transformer.modules import StaticEmbedding

from stutor import data, training, triplets


@pytest.fixture(scope="module")
def tokenizer(choice):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(choice.name_or_path)


@pytest.fixture
def tiny(tokenizer):
    """A fresh 8-dimensional static-embedding model: trains in milliseconds."""

    def make(seed: int = 0) -> SentenceTransformer:
        torch.manual_seed(seed)
        return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=8)], device="cpu")

    return make


@pytest.fixture(scope="module")
def train_rows():
    return data.group_triplets("train", per_group=1).select(range(16))


@pytest.fixture(scope="module")
def dev_evaluator():
    return triplets.triplet_evaluator(data.group_triplets("dev", per_group=1), name="dev")


def _run(model, rows, evaluator=None, **kwargs):
    options = {"max_steps": 2, "batch_size": 8, "learning_rate": 0.1}
    options.update(kwargs)
    return training.train(model, rows, "TripletLoss", evaluator=evaluator, **options)


def test_history_records_loss_and_metrics_and_the_same_seed_gives_the_same_numbers(tiny, train_rows, dev_evaluator):
    first = _run(tiny(), train_rows, dev_evaluator, eval_steps=1)
    again = _run(tiny(), train_rows, dev_evaluator, eval_steps=1)
    other = _run(tiny(), train_rows, dev_evaluator, eval_steps=1, seed=99)
    assert [step for step, _ in first.losses] == [1, 2]
    assert [record["step"] for record in first.evaluations] == [0, 1, 2]
    assert first.metric_names == ["eval_dev_cosine_accuracy"]
    assert first.losses == again.losses and first.evaluations == again.evaluations
    assert first.losses != other.losses
    assert first.steps == 2 and first.seconds > 0 and first.batch_sampler == "batch_sampler"


def test_training_changes_the_weights_and_evaluates_at_the_end(tiny, train_rows, dev_evaluator):
    model = tiny()
    before = model[0].embedding.weight.detach().clone()
    history = _run(model, train_rows, dev_evaluator, max_steps=3, eval_steps=2)
    assert [record["step"] for record in history.evaluations] == [0, 2, 3]
    assert not torch.equal(before, model[0].embedding.weight)


def test_input_examples_and_loss_instances_and_samplers(tiny, train_rows):
    model = tiny()
    examples = [InputExample(texts=[r["anchor"], r["positive"], r["negative"]]) for r in train_rows]
    history = training.train(model, examples, losses.MultipleNegativesRankingLoss(model), max_steps=1, batch_size=4)
    assert history.batch_sampler == "no_duplicates" and history.steps == 1 and not history.evaluations


def test_examples_to_dataset_keeps_labels_like_fit():
    plain = training.examples_to_dataset([InputExample(texts=["a", "b"]), InputExample(texts=["c", "d"])])
    assert plain.column_names == ["sentence_0", "sentence_1"]
    labelled = training.examples_to_dataset([InputExample(texts=["a"], label=1), InputExample(texts=["b"], label=0)])
    assert labelled["label"] == [1, 0]
    with pytest.raises(ValueError, match="same number"):
        training.examples_to_dataset([InputExample(texts=["a", "b"]), InputExample(texts=["c"])])
    with pytest.raises(TypeError, match=r"examples\[0\] is tuple"):
        training.examples_to_dataset([("a", "b")])


def test_history_plot_and_metric(tiny, train_rows, dev_evaluator):
    history = _run(tiny(), train_rows, dev_evaluator, eval_steps=1)
    steps, values = history.metric("cosine_accuracy")
    assert steps == [0, 1, 2] and all(0 <= v <= 1 for v in values)
    figure = history.plot(title="tiny")
    assert len(figure.axes) == 2 and figure.axes[1].get_ylabel() == "dev_cosine_accuracy"
    with pytest.raises(ValueError, match="No metric 'spearman'"):
        history.metric("spearman")
    with pytest.raises(ValueError, match="No evaluation was recorded"):
        training.TrainingHistory().metric()


def test_saves_offline_with_a_model_card(tiny, train_rows, tmp_path):
    model = tiny()
    out = tmp_path / "trained"
    training.train(model, train_rows, "TripletLoss", max_steps=1, batch_size=8, output_dir=out)
    assert (out / "modules.json").is_file() and (out / "README.md").is_file()
    reloaded = SentenceTransformer(str(out), device="cpu")
    assert torch.equal(reloaded[0].embedding.weight, model[0].embedding.weight)
    assert model.model_card_data.local_files_only is False  # restored after training


BAD_NUMBERS = [
    ({"epochs": 0}, "epochs must be a positive number"),
    ({"epochs": -1}, "epochs must be a positive number"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"learning_rate": 0}, "learning_rate must be a positive number"),
    ({"learning_rate": -2e-5}, "learning_rate must be a positive number"),
    ({"warmup_ratio": -0.1}, "warmup_ratio must be a number from 0 up to but not including 1"),
    ({"warmup_ratio": 1.0}, "warmup_ratio must be a number from 0 up to but not including 1"),
    ({"warmup_ratio": 10}, "warmup_ratio must be a number from 0 up to but not including 1"),
    ({"seed": -1}, "seed must be"),
    ({"max_steps": 0}, "max_steps must be a positive integer"),
    ({"logging_steps": 0}, "logging_steps must be a positive integer"),
    ({"weight_decay": -1}, "weight_decay"),
]


@pytest.mark.parametrize(("options", "message"), BAD_NUMBERS, ids=[str(o) for o, _ in BAD_NUMBERS])
def test_bad_numbers_fail_before_training(tiny, train_rows, options, message):
    model = tiny()
    before = model[0].embedding.weight.detach().clone()
    with pytest.raises(ValueError, match=message):
        training.train(model, train_rows, "TripletLoss", **options)
    assert torch.equal(before, model[0].embedding.weight)


def test_output_dir_that_is_a_file(tiny, train_rows, tmp_path):
    file = tmp_path / "model.txt"
    file.write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        training.train(tiny(), train_rows, "TripletLoss", output_dir=file)
    with pytest.raises(ValueError, match="which is a file"):
        training.train(tiny(), train_rows, "TripletLoss", output_dir=file / "sub")


def test_loss_that_does_not_fit_the_case(tiny, train_rows):
    model = tiny()
    with pytest.raises(ValueError, match="CoSENTLoss does not fit this data.*Losses that fit this data"):
        training.train(model, train_rows, losses.CoSENTLoss(model))
    with pytest.raises(ValueError, match="CoSENTLoss does not fit"):
        training.train(model, train_rows, "CoSENTLoss")


def test_loss_for_another_model_and_other_bad_objects(tiny, train_rows, dev_evaluator):
    model = tiny()
    with pytest.raises(ValueError, match="built for another model"):
        training.train(model, train_rows, losses.TripletLoss(tiny()))
    with pytest.raises(TypeError, match="loss must be"):
        training.train(model, train_rows, 3.0)
    with pytest.raises(TypeError, match="model must be a SentenceTransformer"):
        training.train("all-MiniLM-L6-v2", train_rows, "TripletLoss")
    with pytest.raises(TypeError, match="evaluator must be"):
        training.train(model, train_rows, "TripletLoss", evaluator=lambda m: 0.5)
    with pytest.raises(ValueError, match="eval_steps needs an evaluator"):
        training.train(model, train_rows, "TripletLoss", eval_steps=5)
    with pytest.raises(TypeError, match="DatasetDict"):
        from datasets import DatasetDict

        training.train(model, DatasetDict({"train": train_rows}), "TripletLoss")


def test_data_with_a_list_where_a_string_belongs_fails_before_training(tiny):
    rows = [{"anchor": "a", "positive": "b", "negative": ["c", "d"]}]
    with pytest.raises(TypeError, match="Column 'negative' row 0"):
        training.train(tiny(), rows, "TripletLoss")


def test_static_embedding_model_copies_the_input_embeddings(choice, raw_and_tokenizer):
    raw, _ = raw_and_tokenizer
    weak = training.static_embedding_model(choice)
    assert torch.equal(weak[0].embedding.weight, raw.get_input_embeddings().weight)
    assert weak.encode(["a question"]).shape == (1, raw.config.hidden_size)
