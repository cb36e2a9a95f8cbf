"""The optional raw view: a second pipeline over the plain document whose logits add to the neutral view's."""
from __future__ import annotations

import numpy as np
import pytest

from newstilt.classifier import load, save, train
from newstilt.classifier.persist import check_pipeline

from .conftest import SMALL, make_records

TEXT = "Border security and tax relief for taxpayers in 2024, liberty and the second amendment."


@pytest.fixture(scope="module")
def two_views():
    return train(make_records(), params={**SMALL, "raw_view": True}, progress=False, outlets=6)


def test_two_views_are_saved_loaded_and_verified_together(two_views, tmp_path):
    path = tmp_path / "m.joblib"
    save(two_views, path)
    loaded = load(path)
    assert loaded.raw is not None
    check_pipeline(loaded.raw, path)
    assert loaded.score("Wall", TEXT)["probabilities"] == pytest.approx(two_views.score("Wall", TEXT)["probabilities"])
    assert two_views.metadata["training"]["raw_view_vocabulary"] > 0


def test_the_views_logits_add_up(two_views):
    from scipy.special import softmax

    from newstilt.classifier.data import compose, neutralise
    from newstilt.classifier.model import _logits

    neutral = _logits(two_views.pipeline, [neutralise("Wall", TEXT)])[0]
    raw = _logits(two_views.raw, [compose("Wall", TEXT)[0]])[0]
    assert np.abs(raw).max() > 0  # the raw view counts
    expected = softmax(neutral + raw)
    assert two_views.predict_proba([("Wall", TEXT)])[0] == pytest.approx(expected)
    answer = two_views.score("Wall", TEXT)
    assert [answer["probabilities"][label] for label in ("left", "center", "right")] == pytest.approx(expected)


def test_the_raw_view_reads_digits_and_its_terms_explain_once(two_views):
    analyse = two_views.raw.named_steps["counts"].build_analyzer()
    assert "2024" in analyse(TEXT)  # scikit-learn's tokens, digits kept...
    assert "2024" not in two_views.pipeline.named_steps["counts"].build_analyzer()(TEXT)  # ...unlike the neutral view
    terms = [item["term"] for item in two_views.score("Wall", TEXT, top_terms=50)["explanation"]]
    assert len(terms) == len(set(terms))  # a term both views count is listed once, weights added


def test_evaluation_reports_the_neutral_view_alone_beside_both(two_views):
    evaluation = two_views.metadata["evaluation"]
    assert set(evaluation["neutral_view"]) == {"grouped", "leave_outlet_out"}


def test_a_run_can_reuse_the_folds_of_an_earlier_one():
    from newstilt.classifier.evaluate import evaluate

    records = make_records()
    first = evaluate(records, params=SMALL, outlets=6, progress=False, keep_logits=True)
    reuse = {"neutral": first["logits"]["newstilt"], "baseline": first["logits"]["baseline"]}
    second = evaluate(records, params={**SMALL, "raw_view": True}, outlets=6, progress=False, reuse_logits=reuse)
    for name in ("grouped", "leave_outlet_out"):
        assert second["neutral_view"][name]["macro_f1"] == first[name]["macro_f1"]
        assert second[name]["baseline_macro_f1"] == first[name]["baseline_macro_f1"]
