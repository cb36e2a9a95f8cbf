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


def test_train_defaults_to_the_configured_model_path_and_can_cross_validate(group, data_file, tmp_path, small_params):
    out = tmp_path / "configured.joblib"
    result = CliRunner().invoke(
        group, ["train", "--data", str(data_file), "--cv", "--folds", "3", "--quiet"], obj={"model_path": out}
    )
    assert result.exit_code == 0, result.output
    assert "outlet-grouped 3-fold: macro-F1" in result.output
    assert json.loads(metadata_path(out).read_text())["cv"]["split"] == "outlet-grouped"


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


def test_evaluate_prints_grouped_baseline_and_labelled_random_figures(group, data_file, tmp_path, monkeypatch,
                                                                        small_params):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(f"# Card\n\n## Metrics\n\n{cli.CARD_BEGIN}\nold figures\n{cli.CARD_END}\n\n## Limitations\n")
    monkeypatch.setattr(cli, "MODEL_CARD", card)
    figures = tmp_path / "figures.json"
    result = CliRunner().invoke(
        group,
        ["evaluate", "--data", str(data_file), "--folds", "3", "--write-card", "--json", str(figures), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "outlet-grouped 3-fold (outlets never seen in training): macro-F1" in result.output
    assert "baseline, outlet-grouped, same folds" in result.output
    assert "random split 3-fold (NOT outlet-grouped" in result.output
    text = card.read_text()
    assert "old figures" not in text and "**Outlet-grouped, newstilt model**" in text
    assert text.endswith("## Limitations\n")
    saved = json.loads(figures.read_text())
    assert set(saved["grouped"]["pooled"]["per_class"]) == {"left", "center", "right"}
    assert saved["grouped"]["pooled"]["confusion"]["labels"] == ["left", "center", "right"]
