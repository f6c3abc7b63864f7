from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from stutor import data


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(data._resource("search_passages.json").read_text(encoding="utf-8"))


def test_counts_meet_the_spec(raw):
    assert len(raw["passages"]) >= 220
    assert len(raw["queries"]) >= 300
    topics = Counter(passage["topic"] for passage in raw["passages"])
    assert 11 <= len(topics) <= 12 and min(topics.values()) >= 15
    per_passage = Counter(query["passage"] for query in raw["queries"])
    assert set(per_passage.values()) <= {1, 2}
    assert set(per_passage) == {passage["id"] for passage in raw["passages"]}, "every passage has a question"


def test_ids_are_unique_and_queries_point_at_passages(raw):
    passage_ids = [passage["id"] for passage in raw["passages"]]
    query_ids = [query["id"] for query in raw["queries"]]
    assert len(passage_ids) == len(set(passage_ids)) and len(query_ids) == len(set(query_ids))
    assert all(query["passage"] in set(passage_ids) for query in raw["queries"])
    assert {query["split"] for query in raw["queries"]} == set(data.SPLITS)


def test_no_text_is_duplicated(raw):
    texts = [" ".join(passage["text"].lower().split()) for passage in raw["passages"]]
    assert len(texts) == len(set(texts))
    questions = [" ".join(query["text"].lower().split()) for query in raw["queries"]]
    assert len(questions) == len(set(questions))


def test_word_counts_are_in_range(raw):
    for passage in raw["passages"]:
        assert 35 <= len(passage["text"].split()) <= 80, passage["id"]
    for query in raw["queries"]:
        assert 5 <= len(query["text"].split()) <= 12, query["id"]


def test_splits_are_disjoint_by_passage_and_in_proportion():
    passages_of = {
        split: {pid for rel in data.load_search_set(split).relevant.values() for pid in rel} for split in data.SPLITS
    }
    assert not passages_of["train"] & passages_of["dev"]
    assert not passages_of["train"] & passages_of["test"]
    assert not passages_of["dev"] & passages_of["test"]
    everything = data.load_search_set()
    assert set().union(*passages_of.values()) == set(everything.corpus)
    shares = {split: len(passages_of[split]) / len(everything.corpus) for split in data.SPLITS}
    assert abs(shares["train"] - 0.5) < 0.04 and abs(shares["dev"] - 0.15) < 0.04 and abs(shares["test"] - 0.35) < 0.04


def test_every_topic_is_in_every_split():
    everything = data.load_search_set()
    all_topics = set(everything.topics.values())
    for split in data.SPLITS:
        search = data.load_search_set(split)
        assert {search.topics[pid] for rel in search.relevant.values() for pid in rel} == all_topics, split


def test_splits_follow_the_written_rule(raw):
    """The stored split of each question is the one the description's SHA-256 rule gives."""
    assert "SHA-256" in raw["description"]
    expected: dict[str, str] = {}
    for topic in {passage["topic"] for passage in raw["passages"]}:
        ids = sorted(
            (p["id"] for p in raw["passages"] if p["topic"] == topic),
            key=lambda pid: hashlib.sha256(pid.encode("utf-8")).hexdigest(),
        )
        n_train, n_dev = round(len(ids) * 0.5), round(len(ids) * 0.15)
        expected |= {pid: "train" for pid in ids[:n_train]}
        expected |= {pid: "dev" for pid in ids[n_train : n_train + n_dev]}
        expected |= {pid: "test" for pid in ids[n_train + n_dev :]}
    assert all(query["split"] == expected[query["passage"]] for query in raw["queries"])


def test_search_set_has_the_evaluator_layout():
    test = data.load_search_set("test")
    everything = data.load_search_set()
    assert isinstance(test, data.SearchSet)
    assert test.corpus == everything.corpus, "the corpus is shared by all splits"
    assert set(test.queries) == set(test.relevant) and set(test.queries) < set(everything.queries)
    assert all(len(rel) == 1 and rel <= set(test.corpus) for rel in test.relevant.values())
    assert set(test.topics) == set(test.corpus)
    sizes = [len(data.load_search_set(split).queries) for split in data.SPLITS]
    assert sum(sizes) == len(everything.queries)


def test_search_set_is_frozen_and_fresh_per_call():
    first = data.load_search_set("dev")
    with pytest.raises(AttributeError):
        first.queries = {}  # type: ignore[misc]
    first.queries.clear()
    assert data.load_search_set("dev").queries, "a caller's changes do not leak into the cache"


@pytest.mark.parametrize("split", ["validation", "Train", ""])
def test_unknown_split_is_refused(split):
    with pytest.raises(ValueError, match=r"Unknown split .*Choose one of \('train', 'dev', 'test'\)"):
        data.load_search_set(split)
