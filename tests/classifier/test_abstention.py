"""The abstention contract, calibration, the leave-the-largest-outlets-out protocol and the people's-stance check.

A label is shown only from the confidence the evaluation measured on outlets the model never saw; below it (or
with no measured threshold) the answer keeps its probabilities, score and explanation, with ``label: None`` and
``reason: "uncertain"``.
"""
from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest
from scipy.special import softmax

from newstilt.classifier import train
from newstilt.classifier.evaluate import (
    abstention,
    calibration_error,
    fit_temperature,
    held_out_outlets,
    leave_outlet_out_splits,
    stance_check,
)
from newstilt.classifier.model import apply_temperature

from .conftest import SMALL

RIGHT_TEXT = "Border security and tax relief for taxpayers, liberty and the second amendment."
MIXED_TEXT = "Officials said the border plan and the climate report were both on the committee schedule."


def with_threshold(model, threshold):
    clone = copy.copy(model)
    clone.metadata = copy.deepcopy(model.metadata)
    clone.metadata["evaluation"]["abstention"]["threshold"] = threshold
    return clone


def test_a_confident_article_gets_its_label(trained):
    answer = with_threshold(trained, 0.5).score("", RIGHT_TEXT)
    assert answer["label"] == "right" and answer["reason"] is None


def test_below_the_threshold_the_label_is_withheld_but_the_odds_stay(trained):
    model = copy.deepcopy(with_threshold(trained, 0.99))
    for view in (model.pipeline, model.raw):  # the synthetic corpus makes the fixture sure of everything
        if view is not None:
            apply_temperature(view, 50.0)
    answer = model.score("", MIXED_TEXT)
    assert answer["label"] is None and answer["reason"] == "uncertain"
    assert "Not enough evidence" in answer["message"] and "99%" in answer["message"]
    assert set(answer["probabilities"]) == {"left", "center", "right"}
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0)
    assert answer["confidence"] == max(answer["probabilities"].values()) < 0.99
    assert answer["score"] == pytest.approx(answer["probabilities"]["right"] - answer["probabilities"]["left"])
    assert answer["explanation"], "the words behind the odds are still a hint worth showing"


def test_no_measured_threshold_means_no_label_ever(trained):
    model = with_threshold(trained, None)
    answer = model.score("", RIGHT_TEXT)
    assert answer["label"] is None and answer["reason"] == "uncertain"
    assert "no measured confidence threshold" in answer["message"]
    assert model.model_info()["threshold"] is None


def test_model_info_says_how_the_label_may_be_presented(trained):
    info = trained.model_info()
    assert info["presentation"] == "wording_resemblance"  # trained without people's stance: never more
    assert info["threshold"] == trained.metadata["evaluation"]["abstention"]["threshold"]
    promoted = copy.copy(trained)
    promoted.metadata = {**trained.metadata, "evaluation": {**trained.metadata["evaluation"],
                                                            "presentation": "article_lean"}}
    assert promoted.model_info()["presentation"] == "article_lean"


def test_temperature_changes_confidence_not_labels(trained, synthetic_records):
    model = copy.deepcopy(trained)
    docs = [(r["title"], r["text"]) for r in synthetic_records[:30]]
    before = model.predict_proba(docs)
    for view in (model.pipeline, model.raw):
        if view is not None:
            apply_temperature(view, 4.0)
    after = model.predict_proba(docs)
    assert (before.argmax(axis=1) == after.argmax(axis=1)).all()
    assert after.max(axis=1).mean() < before.max(axis=1).mean()


def test_fit_temperature_softens_an_overconfident_model():
    rng = np.random.default_rng(0)
    labels = rng.choice(["left", "center", "right"], size=3000)
    truth = np.array([["left", "center", "right"].index(label) for label in labels])
    logits = rng.normal(size=(3000, 3))
    logits[np.arange(3000), truth] += 1.0  # right more often than chance...
    logits *= 5  # ...but far too sure of itself
    temperature = fit_temperature(logits, labels)
    assert 3 < temperature < 8
    assert calibration_error(softmax(logits / temperature, axis=1), labels) < \
        calibration_error(softmax(logits, axis=1), labels) / 3


def test_the_threshold_is_the_lowest_confidence_whose_labels_are_right_often_enough():
    labels = np.array(["left"] * 100)
    domains = np.array(["a.example"] * 50 + ["b.example"] * 50)
    confidence = np.linspace(0.35, 0.95, 100)
    probabilities = np.column_stack([confidence, (1 - confidence) / 2, (1 - confidence) / 2])
    probabilities[:40, 0] = 0.1  # the 40 least confident are wrong (their top label is center or right)
    probabilities[:40, 1] = 1 - 0.1 - probabilities[:40, 2]
    result = abstention(probabilities, labels, domains, target=0.7)
    assert result["threshold"] is not None
    chosen = next(row for row in result["table"] if row["threshold"] >= result["threshold"])
    assert chosen["accuracy"] >= 0.7
    just_below = result["threshold"] - 0.01
    shown = probabilities.max(axis=1) >= just_below
    assert (probabilities[shown].argmax(axis=1) == 0).mean() < 0.7  # one step lower misses the target
    coverages = [row["coverage"] for row in result["table"]]
    assert coverages == sorted(coverages, reverse=True)


def test_no_threshold_is_claimed_from_a_handful_of_articles():
    labels = np.array(["left"] * 20)
    probabilities = np.tile([0.9, 0.05, 0.05], (20, 1))  # all right, but only 20 of them
    assert abstention(probabilities, labels, np.array(["a.example"] * 20))["threshold"] is None


def test_no_threshold_when_no_confidence_reaches_the_target():
    labels = np.array(["left", "right"] * 50)
    probabilities = np.tile([0.6, 0.1, 0.3], (100, 1))  # always "left", right half the time
    result = abstention(probabilities, labels, np.array(["a.example"] * 100))
    assert result["threshold"] is None and result["coverage"] == 0.0


def test_the_largest_outlets_are_held_out_whole_and_dealt_round_robin():
    domains = ["big.example"] * 50 + ["mid.example"] * 30 + ["small.example"] * 10 + ["tiny.example"] * 5 \
        + [f"t{i}.example" for i in range(6)]
    assert held_out_outlets(domains, outlets=3) == ["big.example", "mid.example", "small.example"]
    splits = leave_outlet_out_splits(domains, outlets=3, per_fold=2)
    assert len(splits) == 2
    domains = np.asarray(domains)
    for train_rows, test_rows in splits:
        assert not set(domains[train_rows]) & set(domains[test_rows])  # whole outlets
        assert len(set(train_rows) | set(test_rows)) == len(domains)
    assert set(domains[splits[0][1]]) == {"big.example", "small.example"}
    assert set(domains[splits[1][1]]) == {"mid.example"}


def test_at_most_half_the_outlets_are_held_out_of_a_small_store():
    domains = [f"o{i}.example" for i in range(8) for _ in range(3)]
    assert len(held_out_outlets(domains, outlets=30)) == 4


def test_stance_check_counts_pairs_people_told_apart():
    stance = [
        {"id": "f", "story_id": "s", "domain": "fox.example", "relative_stance": "right"},
        {"id": "n", "story_id": "s", "domain": "nyt.example", "relative_stance": "center"},
        {"id": "h", "story_id": "s", "domain": "huff.example", "relative_stance": "center"},  # a tie: no pair
    ]
    bias = {"fox.example": 2.0, "nyt.example": -1.0, "huff.example": -2.0}
    scores = {"f": -0.2, "n": 0.1, "h": 0.3}  # the model gets both pairs backwards
    top = {"f": "center", "n": "center", "h": "right"}
    result = stance_check(scores, top, {"f": None, "n": None, "h": "right"}, stance, bias)
    assert result["pairs"] == 2
    assert result["pairwise_model"] == 0.0 and result["pairwise_outlet_rating"] == 1.0
    assert result["label_agreement_model"] == pytest.approx(1 / 3)
    assert result["label_agreement_outlet_rating"] == pytest.approx(1 / 3)  # right, left, left vs right, center x2
    assert result["labels_shown"] == 1 and result["label_agreement_shown"] == 0.0


def test_training_records_that_are_stance_articles_are_left_out(synthetic_records):
    stance = [{"id": "x", "story_id": "s", "domain": "left0.example", "relative_stance": "left",
               "title": synthetic_records[0]["title"], "text": synthetic_records[0]["text"]}]
    titles = Counter(r["title"] for r in synthetic_records)
    model = train(synthetic_records, progress=False, params=SMALL, evaluation=False, stance=stance)
    assert model.metadata["training"]["left_out_as_stance_articles"] == titles[synthetic_records[0]["title"]]
