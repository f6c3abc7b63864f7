from __future__ import annotations

import json
from collections import Counter

import pytest
from datasets import Dataset

from stutor import cases, data, schemas
from stutor.cases import Case, LabelType


def test_paraphrase_groups_meet_the_spec():
    groups = data.load_paraphrase_groups()
    assert len(groups) >= 150
    assert all(len(g["paraphrases"]) >= 4 for g in groups)
    assert all(len(g["hard_negatives"]) >= 1 for g in groups)
    topics = Counter(groups["topic"])
    assert len(topics) >= 5 and min(topics.values()) >= 5
    texts = [t for g in groups for t in g["paraphrases"] + g["hard_negatives"]]
    assert len(texts) == len(set(texts)), "every sentence appears once"


def test_splits_are_disjoint_by_group_and_cover_everything():
    ids = {split: set(data.load_paraphrase_groups(split)["id"]) for split in data.SPLITS}
    assert not ids["train"] & ids["dev"] and not ids["train"] & ids["test"] and not ids["dev"] & ids["test"]
    assert set().union(*ids.values()) == set(data.load_paraphrase_groups()["id"])
    assert len(ids["train"]) > len(ids["dev"]) > 0 and len(ids["test"]) > 0


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="Unknown split 'validation'"):
        data.load_paraphrase_groups("validation")


def test_sts_pairs_cover_the_scale():
    pairs = data.load_sts_pairs()
    assert len(pairs) >= 200 and pairs.column_names == ["sentence1", "sentence2", "score"]
    scores = pairs["score"]
    assert min(scores) >= 0 and max(scores) <= 5
    for low in range(5):
        assert sum(low <= s < low + 1 or (low == 4 and s == 5) for s in scores) >= 20


def test_bundled_triplets_use_hard_negatives():
    triplets = data.group_triplets("test", per_group=1)
    groups = data.load_paraphrase_groups("test")
    assert triplets.column_names == ["anchor", "positive", "negative"] and len(triplets) == len(groups)
    assert triplets[0]["negative"] == groups[0]["hard_negatives"][0]


QQP_ROWS = [
    {
        "set": {
            "query": "Why is the sky blue?",
            "pos": ["What makes the sky look blue?"],
            "neg": ["Why is grass green?", "Is the sea blue?"],
        }
    },
    {
        "set": {
            "query": "How do I bake bread?",
            "pos": ["Bread baking steps?", "How is bread baked?"],
            "neg": ["How do I bake a cake?"],
        }
    },
]


@pytest.fixture()
def qqp_file(tmp_path):
    path = tmp_path / "qqp.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in QQP_ROWS))
    return path


def test_qqp_schema_from_a_local_file(qqp_file):
    triplets = data.load_qqp_triplets(qqp_file)
    assert triplets.to_list() == [
        {
            "anchor": "Why is the sky blue?",
            "positive": "What makes the sky look blue?",
            "negative": "Why is grass green?",
        },
        {
            "anchor": "How do I bake bread?",
            "positive": "Bread baking steps?",
            "negative": "How do I bake a cake?",
        },
    ]
    assert len(data.load_qqp_triplets(qqp_file, all_combinations=True)) == 2 + 2
    assert len(data.load_qqp_triplets(qqp_file, limit=1)) == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"set": {"query": "q", "pos": [], "neg": ["n"]}}], "empty or missing 'pos'"),
        ([{"set": {"query": "q", "pos": ["p"], "neg": []}}], "empty or missing 'neg'"),
        ([{"set": {"query": "", "pos": ["p"], "neg": ["n"]}}], "empty or non-string"),
        ([{"query": "q", "pos": ["p"], "neg": ["n"]}], "expected the QQP_triplets shape"),
        ([], "empty"),
    ],
)
def test_qqp_bad_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        schemas.qqp_to_triplets(rows)


def test_offline_falls_back_with_one_clear_line(capsys):
    triplets = data.load_qqp_triplets(limit=5)
    assert len(triplets) == 5 and triplets.column_names == ["anchor", "positive", "negative"]
    stsb = data.load_stsb()
    assert max(stsb["score"]) <= 1.0 and len(stsb) == len(data.load_sts_pairs())
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "Hugging Face Hub out of reach: using the bundled paraphrase-group triplets (train split) "
        "instead of embedding-data/QQP_triplets.",
        "Hugging Face Hub out of reach: using the bundled scored sentence pairs instead of sentence-transformers/stsb.",
    ]


def test_stsb_schema_from_a_local_file(tmp_path):
    path = tmp_path / "stsb.jsonl"
    rows = [{"sentence1": "A man plays.", "sentence2": "A man is playing.", "score": 0.92}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert data.load_stsb(source=path).to_list() == rows


def test_stsb_bad_rows():
    with pytest.raises(ValueError, match="score 4.2"):
        schemas.parse_stsb(Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"], "score": [4.2]}))
    with pytest.raises(ValueError, match="missing"):
        schemas.parse_stsb(Dataset.from_dict({"sentence1": ["a"], "score": [0.2]}))


def test_bad_sources_and_arguments(tmp_path):
    odd = tmp_path / "rows.xml"
    odd.write_text("<x/>")
    with pytest.raises(ValueError, match="has suffix '.xml'; use a .json/.jsonl/.csv/.tsv/.parquet file"):
        data.load_qqp_triplets(odd)
    with pytest.raises(ValueError, match="source file 'missing-file.jsonl' does not exist"):
        data.load_qqp_triplets("missing-file.jsonl")
    with pytest.raises(ValueError, match="is a folder"):
        data.load_qqp_triplets(tmp_path)
    with pytest.raises(
        ValueError, match="neither an existing file, nor a Hub data set name like 'sentence-transformers"
    ):
        data.load_stsb(source="no-such-name")
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        data.load_qqp_triplets(limit=0)
    with pytest.raises(ValueError, match="Unknown split"):
        data.load_stsb("dev")


@pytest.mark.parametrize(
    ("case", "label_type", "expected"),
    [(1, "class", LabelType.CLASS), (1, "score", LabelType.SCORE), (2, "class", LabelType.NONE)]
    + [(3, "class", LabelType.CLASS), (4, "class", LabelType.NONE)],
)
def test_bundled_case_has_the_case_it_says(case, label_type, expected):
    dataset = data.bundled_case(case, "train", label_type=label_type)
    report = cases.detect_case(dataset)
    assert report.case is Case.parse(case)
    assert report.label_type is expected
    label = [report.label_column] if report.label_column else []
    assert dataset.column_names == [*report.text_columns, *label]  # inputs first, label last


def test_bundled_labelled_pairs_are_balanced_and_use_hard_negatives():
    groups = data.load_paraphrase_groups("dev")
    pairs = data.bundled_case(1, "dev")
    assert pairs.num_rows == 2 * len(groups)
    assert sum(pairs["label"]) == len(groups)
    assert pairs[1]["sentence2"] == groups[0]["hard_negatives"][0]


def test_bundled_sentence_labels_are_stable_across_splits():
    train = data.bundled_case(3, "train")
    test = data.bundled_case(3, "test")
    assert not set(train["label"]) & set(test["label"])
    everything = data.bundled_case(3, None)
    assert len(set(everything["label"])) == len(data.load_paraphrase_groups())


def test_bundled_triplets_reuse_stutor_data():
    assert data.bundled_case("triplet", "dev").to_dict() == data.group_triplets("dev", per_group=1).to_dict()


def test_bundled_case_bad_input():
    with pytest.raises(ValueError, match="Unknown case"):
        data.bundled_case(7)
    with pytest.raises(ValueError, match="only for case 1"):
        data.bundled_case(2, label_type="score")
    with pytest.raises(ValueError, match="'class' or 'score'"):
        data.bundled_case(1, label_type="float")
    with pytest.raises(ValueError, match="Unknown split"):
        data.bundled_case(2, "validation")


def test_near_miss_groups_meet_the_spec():
    groups = data.load_near_miss_groups()
    assert len(groups) >= 150
    assert set(groups.column_names) >= {"id", "kind", "topic", "anchor", "paraphrases", "near_misses", "split"}
    kinds = Counter(groups["kind"])
    assert set(kinds) == set(data.NEAR_MISS_KINDS) and min(kinds.values()) >= 20
    assert all(2 <= len(g["paraphrases"]) <= 3 and 1 <= len(g["near_misses"]) <= 2 for g in groups)
    assert groups["id"] == [f"nm{i:03d}" for i in range(1, len(groups) + 1)]
    texts = [t for g in groups for t in [g["anchor"], *g["paraphrases"], *g["near_misses"]]]
    assert len(texts) == len(set(texts)), "every sentence appears once, in one group"
    assert all(t.strip() == t and t.endswith("?") for t in texts)
    bundled = {t for g in data.load_paraphrase_groups() for t in g["paraphrases"] + g["hard_negatives"]}
    assert not bundled & set(texts), "no sentence is shared with the paraphrase groups"


def test_near_miss_splits_are_disjoint_deterministic_and_hold_every_kind():
    groups = data.load_near_miss_groups()
    ids = {split: set(data.load_near_miss_groups(split)["id"]) for split in data.SPLITS}
    assert not ids["train"] & ids["dev"] and not ids["train"] & ids["test"] and not ids["dev"] & ids["test"]
    assert set().union(*ids.values()) == set(groups["id"])
    assert len(ids["train"]) > len(ids["dev"]) > 0 and len(ids["test"]) >= 30
    for split in data.SPLITS:
        assert set(data.load_near_miss_groups(split)["kind"]) == set(data.NEAR_MISS_KINDS)
    data._near_miss_groups.cache_clear()  # split again from the file: the same groups land in the same splits
    assert {split: set(data.load_near_miss_groups(split)["id"]) for split in data.SPLITS} == ids
    with pytest.raises(ValueError, match="Unknown split 'validation'"):
        data.load_near_miss_groups("validation")


def test_near_miss_triplets_pair_each_paraphrase_with_the_anchor_both_ways():
    groups = data.load_near_miss_groups("dev")
    triplets = data.near_miss_triplets("dev")
    assert triplets.column_names == ["anchor", "positive", "negative"]
    assert len(triplets) == 2 * sum(len(g["paraphrases"]) for g in groups)
    first = groups[0]
    assert triplets[0] == {
        "anchor": first["anchor"],
        "positive": first["paraphrases"][0],
        "negative": first["near_misses"][0],
    }
    assert triplets[1] == {
        "anchor": first["paraphrases"][0],
        "positive": first["anchor"],
        "negative": first["near_misses"][0],
    }
    test_groups = data.load_near_miss_groups("test")
    one = data.near_miss_triplets("test", per_group=1)
    assert len(one) == len(test_groups) and one["anchor"] == test_groups["anchor"]
    train_kinds = data.load_near_miss_groups("train")["kind"]
    with_kind = data.near_miss_triplets("train", per_group=2, with_kind=True)
    assert with_kind.column_names == ["anchor", "positive", "negative", "kind"]
    assert with_kind["kind"] == [kind for kind in train_kinds for _ in range(2)]
    with pytest.raises(ValueError, match="per_group must be a positive integer"):
        data.near_miss_triplets("dev", per_group=0)
