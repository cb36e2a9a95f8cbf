"""``newstilt train`` / ``newstilt evaluate`` as click commands, run in-process."""
from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from newstilt.classifier import cli, load
from newstilt.classifier.persist import metadata_path

from .conftest import make_records


@pytest.fixture
def group():
    """The commands as the service will register them, with a context object like its own."""

    @click.group()
    @click.pass_context
    def newstilt(ctx):
        ctx.ensure_object(dict)

    newstilt.add_command(cli.train_command)
    newstilt.add_command(cli.evaluate_command)
    return newstilt


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_records(5, 6)), encoding="utf-8")
    return path


@pytest.fixture
def small_params(monkeypatch):
    """The real defaults drop every word of a 90-article corpus; scale the filters down for these tests."""
    import newstilt.classifier.model as model

    monkeypatch.setitem(model.DEFAULT_PARAMS, "min_df", 2)
    monkeypatch.setitem(model.DEFAULT_PARAMS, "min_outlets", 2)


def test_train_writes_a_loadable_model_to_out(group, data_file, tmp_path, small_params):
    out = tmp_path / "m.joblib"
    result = CliRunner().invoke(group, ["train", "--data", str(data_file), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "trained on 90 articles from 15 outlets" in result.output
    assert load(out).score("Title", "border security and tax relief for taxpayers")["label"] == "right"


def test_train_measures_both_protocols_and_stores_the_threshold(group, data_file, tmp_path, small_params):
    out = tmp_path / "configured.joblib"
    result = CliRunner().invoke(
        group, ["train", "--data", str(data_file), "--folds", "3", "--held-out", "6", "--baseline", "--quiet"],
        obj={"model_path": out},
    )
    assert result.exit_code == 0, result.output
    assert "outlet-grouped 3-fold, 90 articles: macro-F1" in result.output and "(baseline " in result.output
    assert "largest 6 outlets held out, 36 articles" in result.output
    evaluation = json.loads(metadata_path(out).read_text())["evaluation"]
    assert evaluation["leave_outlet_out"]["outlets"] == 6 and len(evaluation["leave_outlet_out"]["per_outlet"]) == 6
    assert evaluation["grouped"]["baseline_macro_f1"] is not None
    assert evaluation["calibration"]["temperature"] > 0
    assert evaluation["presentation"] == "wording_resemblance"  # no people's stance to earn more
    assert load(out).model_info()["threshold"] == evaluation["abstention"]["threshold"]


def test_train_without_evaluation_says_it_will_give_no_label(group, data_file, tmp_path, small_params):
    out = tmp_path / "plain.joblib"
    result = CliRunner().invoke(group, ["train", "--data", str(data_file), "--no-evaluate", "--out", str(out),
                                        "--quiet"])
    assert result.exit_code == 0, result.output
    assert "will give no label" in result.output
    answer = load(out).score("Title", "border security and tax relief for taxpayers")
    assert answer["label"] is None and answer["reason"] == "uncertain"
    assert answer["probabilities"]["right"] > answer["probabilities"]["left"]


def test_train_with_peoples_stance_compares_the_model_with_the_outlet_ratings(group, tmp_path, small_params):
    records = make_records(5, 6)
    data = tmp_path / "articles.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records[1:]), encoding="utf-8")
    # Three "articles" of one story, people's stance against the grain of their outlets' ratings.
    texts = tmp_path / "texts.jsonl"
    stance = tmp_path / "stance.jsonl"
    story = [("a", "left0.example", "right", "tax relief border security taxpayers liberty second amendment"),
             ("b", "center0.example", "center", "officials said the committee report data estimate"),
             ("c", "right0.example", "left", "workers union wages climate crisis justice equity")]
    texts.write_text("".join(json.dumps({"id": i, "title": "Story", "text": t}) + "\n" for i, _, _, t in story)
                     + json.dumps({"id": "x", "title": records[0]["title"], "text": "left out"}) + "\n")
    stance.write_text("".join(json.dumps({"id": i, "story_id": "s1", "domain": d, "relative_stance": r}) + "\n"
                              for i, d, r, _ in story))
    bias = {"left0.example": -2.0, "center0.example": 0.0, "right0.example": 2.0}
    out = tmp_path / "m.joblib"
    result = CliRunner().invoke(
        group, ["train", "--data", str(data), "--folds", "3", "--held-out", "6", "--stance", str(stance),
                "--stance-texts", str(texts), "--out", str(out), "--quiet"],
        obj={"outlet_bias": bias.get},
    )
    assert result.exit_code == 0, result.output
    basil = json.loads(metadata_path(out).read_text())["evaluation"]["basil"]
    assert basil["pairs"] == 3 and basil["pairwise_outlet_rating"] == 0.0
    assert basil["pairwise_model"] == 1.0  # the words, not the outlet, decide here
    assert json.loads(metadata_path(out).read_text())["evaluation"]["presentation"] == "article_lean"
    assert "the model orders 100.0% as people did, the outlets' ratings 0.0%" in result.output


def test_train_from_store_uses_the_service_records(group, tmp_path, small_params):
    out = tmp_path / "s.joblib"
    records = make_records(5, 6, seed=3)
    result = CliRunner().invoke(
        group, ["train", "--from-store", "--out", str(out), "--quiet"],
        obj={"iter_store_records": lambda: iter(records)},
    )
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_train_from_store_without_a_store_is_a_clear_error(group, tmp_path):
    result = CliRunner().invoke(group, ["train", "--from-store", "--out", str(tmp_path / "x.joblib")])
    assert result.exit_code == 1
    assert "--from-store needs the newstilt service's store" in result.output


def test_train_needs_exactly_one_source(group, data_file):
    assert CliRunner().invoke(group, ["train"]).exit_code == 2
    assert CliRunner().invoke(group, ["train", "--data", str(data_file), "--from-store"]).exit_code == 2


def test_unusable_data_is_a_clear_error(group, tmp_path):
    path = tmp_path / "one-side.jsonl"
    path.write_text(json.dumps({"title": "t", "text": "x y z", "label": "left", "domain": "a.example"}) + "\n")
    result = CliRunner().invoke(group, ["train", "--data", str(path), "--out", str(tmp_path / "m.joblib")])
    assert result.exit_code == 1 and "all three labels are needed" in result.output


def test_evaluate_prints_both_protocols_beside_the_baseline(group, data_file, tmp_path, small_params):
    figures = tmp_path / "figures.json"
    result = CliRunner().invoke(
        group, ["evaluate", "--data", str(data_file), "--folds", "3", "--held-out", "6", "--random-split",
                "--json", str(figures), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "outlet-grouped 3-fold, 90 articles: macro-F1" in result.output
    assert "largest 6 outlets held out" in result.output and "(baseline " in result.output
    assert "random split (NOT outlet-grouped" in result.output
    saved = json.loads(figures.read_text())
    assert set(saved["grouped"]["pooled"]["per_class"]) == {"left", "center", "right"}
    assert saved["leave_outlet_out"]["baseline"]["articles"] == saved["leave_outlet_out"]["articles"] == 36


def test_write_card_replaces_only_the_metrics_section(group, data_file, tmp_path, monkeypatch, small_params):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(f"# Card\n\n## Metrics\n\n{cli.CARD_BEGIN}\nold figures\n{cli.CARD_END}\n\n## Limitations\n")
    monkeypatch.setattr(cli, "MODEL_CARD", card)
    result = CliRunner().invoke(
        group, ["train", "--data", str(data_file), "--folds", "3", "--held-out", "6", "--baseline", "--write-card",
                "--out", str(tmp_path / "m.joblib"), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    text = card.read_text()
    assert "old figures" not in text and "largest 6 outlets held out" in text and "| threshold |" in text
    assert text.endswith("## Limitations\n")


def test_evaluate_with_two_jobs_gives_the_same_figures(group, data_file, tmp_path, small_params):
    figures = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"figures-{jobs}.json"
        result = CliRunner().invoke(group, ["evaluate", "--data", str(data_file), "--folds", "3", "--held-out", "6",
                                            "--jobs", jobs, "--json", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        saved = json.loads(out.read_text())
        figures[jobs] = [saved[name][key] for name in ("grouped", "leave_outlet_out")
                         for key in ("macro_f1", "baseline_macro_f1", "outlet_macro_f1")]
    assert figures["1"] == figures["2"]
