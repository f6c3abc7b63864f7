"""`stutor-train` (stutor.cli.train, over stutor.runs): options, config files, checks before a model loads, runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stutor import cases, data, models, schemas, training
from stutor.cli import train

SHORT = ["--max-seq-length", "32", "--batch-size", "4", "--logging-steps", "1"]
TINY = ["--model", "embedded", *SHORT]


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a model is built or loaded."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(models, "build_sentence_transformer", refuse)
    monkeypatch.setattr(models, "load_hf_model", refuse)
    monkeypatch.setattr(training, "train", refuse)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--epochs", "0"], "--epochs: the value must be a positive number, not 0.0"),
        (["--batch-size", "-4"], "--batch-size: the value must be a positive integer, not -4"),
        (["--batch-size", "four"], "--batch-size: expected a positive integer, got 'four'"),
        (["--learning-rate", "0"], "--learning-rate: the value must be a positive number"),
        (["--learning-rate", "nan"], "--learning-rate: the value must be a positive number, not nan"),
        (["--learning-rate", "inf"], "--learning-rate: the value must be a positive number, not inf"),
        (["--seed", "-1"], "--seed: the value must be a non-negative integer"),
        (["--warmup-ratio", "1"], "from 0 up to but not including 1"),
        (["--warmup-ratio", "-0.1"], "from 0 up to but not including 1"),
        (["--loss", "TripletLos"], "'TripletLos': unknown; choose one of: OnlineContrastiveLoss"),
        (["--loss", "GISTEmbedLoss"], "needs a guide model"),
        (["--case", "5"], "Unknown case '5'. Use a Case, a number or a name: 1 / 'labelled_pair'"),
        (["--case", "4", "--loss", "CoSENTLoss"], "does not fit case 4"),
        (["--loss", "CoSENTLoss"], "CoSENTLoss does not fit this data"),  # bundled data are triplets
        (["--case", "2", "--holdout", "3"], "holdout is for your own data"),
        (["--data", "missing.jsonl"], "data file 'missing.jsonl' does not exist"),
        (["--data", "somename"], "is neither 'bundled', an existing file, nor a Hub data set name"),
        (["--eval-data", "nowhere.csv"], "eval data file 'nowhere.csv' does not exist"),
        (["--eval-data", "none", "--eval-steps", "5"], "eval_steps needs evaluation data"),
        (["--schema", "stsb"], "a schema is for a Hub or local data set"),
        (["--schema", "nope"], "argument --schema: invalid choice"),
        (["--model", "not a model!"], "neither an existing folder nor a valid Hub model name"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_arguments_exit_2_with_a_message_before_any_model_loads(no_model, capsys, arguments, message):
    assert train.main(arguments) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "usage: stutor-train" in captured.err
    assert "final:" not in captured.out


def test_bad_paths_exit_2(no_model, capsys, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for arguments, message in [
        (["--output-dir", str(a_file)], "is a file; pass a folder"),
        (["--output-dir", str(a_file / "model")], "which is a file"),
        (["--data", str(a_file)], "has suffix '.txt'"),
        (["--data", str(tmp_path)], "is a folder"),
        (["--resume", "--output-dir", str(tmp_path)], "--resume: no checkpoint-N folder"),
        (["--config", str(tmp_path / "run.yaml")], "does not exist"),
    ]:
        assert train.main(arguments) == 2, arguments
        assert message in capsys.readouterr().err


def test_config_file_json_and_yaml_and_flags_win(tmp_path):
    settings = {"batch-size": 8, "learning_rate": 3e-5, "loss": "TripletLoss", "resume": False, "max-steps": None}
    (tmp_path / "run.json").write_text(json.dumps(settings))
    (tmp_path / "run.yaml").write_text("batch-size: 8\nlearning_rate: 3.0e-5\nloss: TripletLoss\nresume: false\n")
    for name in ("run.json", "run.yaml"):
        args = train.parse_args(["--config", str(tmp_path / name), "--batch-size", "2"])
        assert (args.batch_size, args.learning_rate, args.loss, args.resume, args.max_steps) == (
            2,
            3e-5,
            "TripletLoss",
            False,
            None,
        )
        assert args.epochs == 1.0  # untouched defaults stay


def test_config_file_errors(no_model, capsys, tmp_path):
    for name, text, message in [
        ("typo.yaml", "bach-size: 8\n", "unknown key 'bach-size'; valid keys: model, max-seq-length, data"),
        ("list.yaml", "- 1\n- 2\n", "must hold a mapping"),
        ("broken.json", "{batch-size: 8", "is not valid JSON"),
        ("bad.yaml", "epochs: [1\n", "is not valid YAML"),
        ("flag.yaml", "resume: maybe\n", "'resume' must be true or false"),
        ("value.yaml", "epochs: -1\n", "--epochs: the value must be a positive number"),
    ]:
        (tmp_path / name).write_text(text)
        assert train.main(["--config", str(tmp_path / name)]) == 2, name
        assert message in capsys.readouterr().err, name


def _args(*arguments):
    return train.parse_args(list(arguments))


def test_bundled_data_every_case_with_its_recommended_loss_and_dev_evaluation():
    expected = {None: "MultipleNegativesRankingLoss", "1": "OnlineContrastiveLoss", "3": "BatchAllTripletLoss"}
    for case, loss in expected.items():
        args = _args() if case is None else _args("--case", case)
        prepared = train.load_data(args, verbose=False)
        assert prepared.loss == loss
        assert prepared.eval["anchor"] == data.group_triplets("dev")["anchor"]
    prepared = train.load_data(_args("--max-train-rows", "10", "--eval-data", "none"), verbose=False)
    assert len(prepared.train) == 10 and prepared.eval is None and prepared.report.num_rows == 10
    assert prepared.train["anchor"] == data.group_triplets("train")["anchor"][:10]


def test_local_files_in_the_trainer_layout_and_in_raw_schemas(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("sentence1,sentence2,score\nA cat sleeps.,A cat is asleep.,0.9\nA dog runs.,It rains.,0.1\n")
    prepared = train.load_data(_args("--data", str(pairs)), verbose=False)
    assert prepared.report.case is cases.Case.LABELLED_PAIR and prepared.loss == "CoSENTLoss"

    qqp = tmp_path / "qqp.jsonl"
    rows = [schemas.SCHEMAS["qqp_triplets"].example] * 5
    qqp.write_text("\n".join(json.dumps(row) for row in rows))
    prepared = train.load_data(_args("--data", str(qqp), "--holdout", "2", "--loss", "TripletLoss"), verbose=False)
    assert prepared.train.column_names == ["anchor", "positive", "negative"]
    assert (len(prepared.train), len(prepared.eval), prepared.loss) == (3, 2, "TripletLoss")

    quora = tmp_path / "quora.tsv"
    example = schemas.SCHEMAS["quora_duplicates"].example
    quora.write_text("\t".join(example) + "\n" + "\t".join(str(v) for v in example.values()) + "\n")
    prepared = train.load_data(_args("--data", str(quora), "--eval-data", str(qqp)), verbose=False)
    assert prepared.train.column_names == ["sentence1", "sentence2", "label"]
    assert prepared.loss == "OnlineContrastiveLoss" and len(prepared.eval) == 5


def test_data_that_does_not_fit_exits_2(no_model, capsys, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"anchor": "a b", "positive": "a c"}\n{"anchor": "d e", "positive": "d f"}\n')
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"question": "a", "answer": 3}\n')
    for arguments, message in [
        (["--data", str(pairs), "--case", "4"], "case 4 was asked for, but the data is case 2"),
        (["--data", str(pairs), "--holdout", "1"], "holdout evaluates triplet accuracy"),
        (["--eval-data", str(pairs)], "the eval data must hold triplets"),
        (["--data", str(odd)], "not in the trainer's layout"),
        (["--data", str(pairs), "--schema", "stsb"], "misses ['sentence1', 'sentence2', 'score']"),
    ]:
        assert train.main(arguments) == 2, arguments
        assert message in capsys.readouterr().err, arguments


def test_a_hub_name_offline_falls_back_to_the_bundled_data(capsys):
    prepared = train.load_data(_args("--data", data.QQP_TRIPLETS), verbose=True)
    assert f"instead of {data.QQP_TRIPLETS}" in capsys.readouterr().out
    assert prepared.train["anchor"] == data.group_triplets("train")["anchor"]


def test_train_checks_its_checkpoint_arguments(tmp_path):
    from sentence_transformers.sentence_transformer import SentenceTransformer

    model = SentenceTransformer.__new__(SentenceTransformer)  # never used: the checks come first
    rows = data.group_triplets("train", per_group=1)
    with pytest.raises(ValueError, match="save_steps needs an output_dir"):
        training.train(model, rows, "TripletLoss", save_steps=2)
    with pytest.raises(ValueError, match="save_steps must be a positive integer"):
        training.train(model, rows, "TripletLoss", save_steps=0, output_dir=tmp_path)
    with pytest.raises(ValueError, match="is not a checkpoint folder"):
        training.train(model, rows, "TripletLoss", resume_from_checkpoint=tmp_path)


def test_a_run_writes_the_model_and_metrics_and_resumes_from_its_checkpoint(tmp_path, capsys, tiny_bert):
    from sentence_transformers.sentence_transformer import SentenceTransformer

    dev = tmp_path / "dev.jsonl"
    data.group_triplets("dev", per_group=1).select(range(6)).to_json(dev)
    out = tmp_path / "run"
    # conftest's tiny random BERT: the run folder and --resume are the point (the scan test runs the embedded model)
    common = ["--model", str(tiny_bert), *SHORT, "--max-train-rows", "16", "--save-steps", "2", "--eval-data", str(dev)]
    common += ["--output-dir", str(out)]
    assert train.main([*common, "--max-steps", "2"]) == 0
    first = capsys.readouterr().out
    final = [line for line in first.splitlines() if line.startswith("final: ")]
    assert len(final) == 1 and final[0].startswith("final: train_loss=") and "eval_accuracy_before=" in final[0]
    assert "steps=2 " in final[0]
    assert (out / "checkpoint-2" / "trainer_state.json").is_file() and (out / "modules.json").is_file()

    assert train.main([*common, "--max-steps", "4", "--seed", "3", "--resume"]) == 2
    assert "settings changed (seed: 12 -> 3)" in capsys.readouterr().err

    assert train.main([*common, "--max-steps", "4", "--resume"]) == 0
    assert f"Resuming from {out / 'checkpoint-2'}" in capsys.readouterr().out
    record = json.loads((out / train.METRICS_FILE).read_text())
    assert [step for step, _ in record["losses"]] == [3, 4]  # steps 1-2 were not trained again
    assert record["final"]["steps"] == 4 and (out / "checkpoint-4").is_dir()
    saved = SentenceTransformer(str(out), device="cpu")
    assert saved.max_seq_length == 32


def test_the_module_runs_as_a_command():
    result = subprocess.run(
        [sys.executable, "-m", "stutor.cli.train", "--warmup-ratio", "2"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "argument --warmup-ratio" in result.stderr


def _count_scans(monkeypatch) -> list[int]:
    """Count the calls of cases.detect_case (every module calls it through the module attribute)."""
    calls: list[int] = []
    real = cases.detect_case

    def counting(dataset):
        report = real(dataset)
        calls.append(report.num_rows)
        return report

    monkeypatch.setattr(cases, "detect_case", counting)
    return calls


def test_one_run_scans_its_training_data_once(monkeypatch, tmp_path, capsys):
    qqp = tmp_path / "qqp.jsonl"
    qqp.write_text("\n".join(json.dumps(schemas.SCHEMAS["qqp_triplets"].example) for _ in range(12)))
    layout = tmp_path / "triplets.jsonl"
    data.group_triplets("train", per_group=1).select(range(12)).to_json(layout)
    calls = _count_scans(monkeypatch)
    for source in ("bundled", str(layout), str(qqp)):  # data only: the layout, or a raw schema to convert
        calls.clear()
        prepared = train.load_data(_args("--data", source, "--max-train-rows", "8"), verbose=False)
        assert len(calls) == 1 and prepared.report.num_rows == 8, (source, calls)
    calls.clear()  # a whole run of the command: the report travels from the data to the trainer
    arguments = [*TINY, "--data", str(qqp), "--max-train-rows", "8", "--max-steps", "1", "--eval-data", "none"]
    assert train.main([*arguments, "--save-steps", "0", "--output-dir", str(tmp_path / "run")]) == 0
    assert len(calls) == 1, calls
    assert "final: " in capsys.readouterr().out


def test_one_train_call_scans_its_data_once_and_takes_a_report_instead(monkeypatch):
    from sentence_transformers.sentence_transformer import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(models.resolve_model("embedded", verbose=False).name_or_path)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=8)], device="cpu")
    rows = data.group_triplets("train", per_group=1).select(range(8))
    calls = _count_scans(monkeypatch)
    training.train(model, rows, "TripletLoss", max_steps=1, batch_size=4, learning_rate=0.1)
    assert len(calls) == 1
    report = calls and cases.detect_case(rows)
    calls.clear()
    training.train(model, rows, "MultipleNegativesRankingLoss", max_steps=1, batch_size=4, report=report)
    assert calls == []
    with pytest.raises(ValueError, match="report describes 8 rows"):
        training.train(model, rows.select(range(4)), "TripletLoss", max_steps=1, report=report)


def test_label_column_picks_one_of_several(no_model, tmp_path, capsys):
    trec = tmp_path / "trec.jsonl"
    rows = [
        {"text": "Who wrote Dracula?", "coarse_label": 3, "fine_label": 29},
        {"text": "Who painted the Mona Lisa?", "coarse_label": 3, "fine_label": 29},
        {"text": "Where is Lima?", "coarse_label": 4, "fine_label": 32},
        {"text": "Where is Oslo?", "coarse_label": 4, "fine_label": 32},
    ]
    trec.write_text("\n".join(json.dumps(row) for row in rows))
    prepared = train.load_data(_args("--data", str(trec), "--label-column", "fine_label"), verbose=False)
    assert prepared.report.case is cases.Case.LABELLED_SENTENCE and prepared.train["label"] == [29, 29, 32, 32]
    assert train.main(["--data", str(trec)]) == 2
    assert "--label-column coarse_label" in capsys.readouterr().err
    assert train.main(["--label-column", "x"]) == 2
    assert "the bundled data needs none" in capsys.readouterr().err


def test_held_out_triplets_with_other_column_names_exit_2_before_any_model_loads(no_model, tmp_path, capsys):
    qpn = tmp_path / "qpn.jsonl"
    rows = [{"q": f"question {i}", "p": f"same question {i}", "n": f"other {i}"} for i in range(4)]
    qpn.write_text("\n".join(json.dumps(row) for row in rows))
    for arguments in (["--eval-data", str(qpn)], ["--data", str(qpn), "--holdout", "2"]):
        assert train.main(arguments) == 2, arguments
        err = capsys.readouterr().err
        assert "['q', 'p', 'n']" in err and "'anchor', 'positive' and 'negative'" in err, arguments
        assert "Traceback" not in err
