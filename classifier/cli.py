"""``newstilt train`` and ``newstilt evaluate``: click commands the service's ``newstilt`` group registers.

They read from the click context object, when present:

- ``ctx.obj["model_path"]``: where ``train`` writes the model by default (else ``./newstilt-model.joblib``);
- ``ctx.obj["iter_store_records"]``: a callable yielding ``{"title", "text", "label", "domain"}`` records
  from the service's store (articles labelled by their outlet's rating), used by ``--from-store``.
"""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import click

from .data import LABELS, read_jsonl
from .errors import TrainingDataError

DEFAULT_MODEL_PATH = Path("newstilt-model.joblib")
MODEL_CARD = Path(__file__).with_name("MODEL_CARD.md")
CARD_BEGIN = "<!-- metrics:begin (written by `newstilt train --write-card`) -->"
CARD_END = "<!-- metrics:end -->"


def _records(ctx: click.Context, data: Path | None, from_store: bool):
    if bool(data) == bool(from_store):
        raise click.UsageError("give exactly one of --data FILE or --from-store")
    if data:
        return list(read_jsonl(data))
    source = (ctx.obj or {}).get("iter_store_records")
    if source is None:
        raise click.ClickException(
            "--from-store needs the newstilt service's store, which this command was not given; "
            "run it as `newstilt train --from-store`, or use --data FILE.jsonl[.gz]"
        )
    return list(source())


def _read_stance(stance: Path | None, texts: Path | None) -> list[dict] | None:
    """People's stance records joined with their articles' title and text (by ``id``)."""
    if not stance:
        return None
    if not texts:
        raise click.UsageError("--stance needs --stance-texts FILE: the articles (id, title, text) it rates")
    articles = {row.get("id"): row for row in read_jsonl(texts)}
    joined = []
    for row in read_jsonl(stance):
        article = articles.get(row.get("id"))
        if article and row.get("relative_stance") in LABELS:
            joined.append({**row, "title": article.get("title") or "", "text": article.get("text") or ""})
    if not joined:
        raise click.ClickException(f"no article of {stance} was found in {texts}")
    return joined


def _pair(block: dict, key: str) -> str:
    figure = f"{block[key]:.3f}"
    base = block.get(f"baseline_{key}")
    return figure + (f" (baseline {base:.3f})" if base is not None else "")


def echo_evaluation(evaluation: dict) -> None:
    """Both protocols beside the baseline, calibration, abstention and the people's-stance check."""
    grouped, held = evaluation["grouped"], evaluation["leave_outlet_out"]
    click.echo(f"outlet-grouped {grouped['folds']}-fold, {grouped['articles']} articles: macro-F1 "
               f"{_pair(grouped, 'macro_f1')} pooled, {_pair(grouped, 'fold_macro_f1')} fold mean")
    click.echo(f"largest {held['outlets']} outlets held out, {held['articles']} articles: macro-F1 "
               f"{_pair(held, 'macro_f1')} pooled, {_pair(held, 'outlet_macro_f1')} every outlet equal")
    for row in held.get("per_outlet", []):
        base = f" (baseline {row['baseline_accuracy']:.2f})" if "baseline_accuracy" in row else ""
        click.echo(f"  {row['domain']:<24} {row['label']:<6} {row['articles']:>5} articles, "
                   f"{row['accuracy']:.2f} given its side{base}")
    calibration = evaluation["calibration"]
    ece = calibration["ece"]["leave_outlet_out"]
    click.echo(f"calibration: temperature {calibration['temperature']:.2f}; expected calibration error on held-out "
               f"outlets {ece['before']:.3f} -> {ece['after']:.3f}")
    abstention = evaluation["abstention"]
    if abstention["threshold"] is None:
        click.echo(f"abstention: no confidence reaches {abstention['target_accuracy']:.0%} accuracy on held-out "
                   "outlets; the model will give no label")
    else:
        click.echo(f"abstention: labels from {abstention['threshold']:.2f} confidence: right "
                   f"{abstention['accuracy']:.1%} of the time ({abstention['outlet_accuracy']:.1%} with every "
                   f"outlet equal) on {abstention['coverage']:.1%} of held-out articles")
    basil = evaluation.get("basil")
    if basil:
        click.echo(f"people's stance (BASIL), {basil['stories']} stories, {basil['pairs']} pairs: the model orders "
                   f"{basil['pairwise_model']:.1%} as people did, the outlets' ratings "
                   f"{basil['pairwise_outlet_rating']:.1%}")
    if "presentation" in evaluation:
        click.echo(f"presentation: {evaluation['presentation']}")


@click.command("train")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL or JSONL.gz of {title, text, label, domain} records.")
@click.option("--from-store", is_flag=True, help="Train on the service's stored articles, labelled by outlet.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (and its .json metadata) [default: the configured model path, "
                   "else ./newstilt-model.joblib].")
@click.option("--evaluate/--no-evaluate", "evaluation", default=True, show_default=True,
              help="Measure the model on both protocols first; without it, it has no threshold and gives no label.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--held-out", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="How many of the largest outlets the second protocol holds out.")
@click.option("--baseline", is_flag=True, help="Also measure the plain baseline on the same folds.")
@click.option("--stance", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="People's relative stance per article (BASIL: id, story_id, domain, relative_stance).")
@click.option("--stance-texts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The stance articles' title and text (JSONL with id, title, text).")
@click.option("--write-card", is_flag=True, help="Rewrite the metrics section of classifier/MODEL_CARD.md.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Folds fitted at once, in processes of about 2 GB each on 30,000 articles.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def train_command(ctx, data, from_store, out, evaluation, folds, held_out, baseline, stance, stance_texts,
                  write_card, jobs, quiet):
    """Train the article scorer, measure it, and save it with its metadata."""
    from .persist import save
    from .training import train

    records = _records(ctx, data, from_store)
    stance_records = _read_stance(stance, stance_texts)
    out = out or (ctx.obj or {}).get("model_path") or DEFAULT_MODEL_PATH
    started = time.perf_counter()
    try:
        model = train(records, progress=not quiet, evaluation=evaluation, folds=folds, outlets=held_out,
                      baseline=baseline, stance=stance_records, outlet_bias=(ctx.obj or {}).get("outlet_bias"),
                      n_jobs=jobs)
    except TrainingDataError as exc:
        raise click.ClickException(str(exc)) from None
    meta_path = save(model, out)
    meta = model.metadata
    click.echo(f"trained on {meta['training']['records']} articles from {meta['training']['outlets']} outlets "
               f"in {time.perf_counter() - started:.0f} s; vocabulary {meta['training']['vocabulary']} terms")
    if meta.get("evaluation"):
        echo_evaluation(meta["evaluation"])
    else:
        click.echo(f"not evaluated ({meta.get('unevaluated')}): the model has no confidence threshold and will "
                   "give no label")
    click.echo(f"wrote {out} ({meta['model_file']['bytes'] / 1e6:.1f} MB, sha256 "
               f"{meta['model_file']['sha256'][:12]}) and {meta_path}")
    if write_card and meta.get("evaluation"):
        source = str(data.name) if data else "the service's store"
        write_model_card_metrics(meta, source)
        click.echo(f"rewrote the metrics section of {MODEL_CARD}")


@click.command("evaluate")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL or JSONL.gz of {title, text, label, domain} records.")
@click.option("--from-store", is_flag=True, help="Evaluate on the service's stored articles.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--held-out", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="How many of the largest outlets the second protocol holds out.")
@click.option("--random-split/--no-random-split", default=False, show_default=True,
              help="Also report a shuffled split, labelled as such (it flatters the model).")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Also report the plain baseline on the same folds.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full figures as JSON here.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Folds fitted at once, in processes of about 2 GB each on 30,000 articles.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def evaluate_command(ctx, data, from_store, folds, held_out, random_split, baseline, json_out, jobs, quiet):
    """Measure the article scorer on outlets it never saw, two ways, beside the plain baseline."""
    from .evaluate import evaluate

    records = _records(ctx, data, from_store)
    try:
        result = evaluate(records, folds=folds, outlets=held_out, progress=not quiet, random_split=random_split,
                          baseline=baseline, n_jobs=jobs)
    except (TrainingDataError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    data_info = result["data"]
    click.echo(f"{data_info['records']} articles from {data_info['outlets']} outlets {data_info['label_counts']}")
    echo_evaluation(result)
    if result.get("random"):
        click.echo(f"random split (NOT outlet-grouped; measures house-style recognition): macro-F1 "
                   f"{result['random']['macro_f1']:.3f}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")


def card_metrics_section(meta: dict, source: str) -> str:
    """The Markdown metrics section of the model card, from a trained model's metadata."""
    evaluation, training = meta["evaluation"], meta["training"]
    grouped, held = evaluation["grouped"], evaluation["leave_outlet_out"]

    def figure(block: dict, key: str) -> str:
        return f"{block[key]:.3f}" if block.get(key) is not None else "not measured"

    counts = ", ".join(f"{k} {v}" for k, v in training["label_counts"].items())
    lines = [
        CARD_BEGIN,
        f"Measured on `{source}`: {training['records']} articles from {training['outlets']} outlets ({counts}), "
        f"{time.strftime('%Y-%m-%d')}. Baseline: {evaluation.get('baseline_model') or 'not measured'}.",
        "",
    ]
    neutral = evaluation.get("neutral_view")
    header = "| protocol | macro-F1 | **newstilt** | plain baseline |" + (" neutral view alone |" if neutral else "")
    lines += [header, "|---|---|---|---|" + ("---|" if neutral else "")]
    for name, block, title in (("grouped", grouped, f"outlet-grouped {grouped['folds']}-fold, {grouped['articles']} "
                                "articles"),
                               ("leave_outlet_out", held, f"largest {held['outlets']} outlets held out, "
                                f"{held['folds']} folds, {held['articles']} articles")):
        for key, what in (("macro_f1", "pooled"), ("fold_macro_f1", "mean over folds"),
                          ("outlet_macro_f1", "every outlet equal")):
            row = f"| {title} | {what} | **{figure(block, key)}** | {figure(block, 'baseline_' + key)} |"
            if neutral:
                row += f" {figure(neutral[name], key)} |"
            lines.append(row)
    lines += [
        "",
        "Per held-out outlet: the share of its articles given its outlet's side.",
        "",
        "| outlet | side | articles | newstilt | baseline |",
        "|---|---|---|---|---|",
    ]
    for row in held.get("per_outlet", []):
        base = f"{row['baseline_accuracy']:.2f}" if "baseline_accuracy" in row else ""
        lines.append(f"| {row['domain']} | {row['label']} | {row['articles']} | {row['accuracy']:.2f} | {base} |")
    calibration, abstention = evaluation["calibration"], evaluation["abstention"]
    ece = calibration["ece"]
    lines += [
        "",
        f"Calibration: temperature {calibration['temperature']:.2f}; expected calibration error on the held-out "
        f"outlets {ece['leave_outlet_out']['before']:.3f} before, {ece['leave_outlet_out']['after']:.3f} after "
        f"(outlet-grouped folds: {ece['grouped']['before']:.3f} -> {ece['grouped']['after']:.3f}).",
        "",
        "Accuracy of the labels shown against the share of held-out articles that get one (calibrated "
        "confidence at least the threshold):",
        "",
        "| threshold | coverage | accuracy | accuracy, every outlet equal |",
        "|---|---|---|---|",
    ]
    for row in abstention["table"]:
        accuracy = "" if row["accuracy"] is None else f"{row['accuracy']:.3f}"
        outlet = "" if row["outlet_accuracy"] is None else f"{row['outlet_accuracy']:.3f}"
        lines.append(f"| {row['threshold']:.2f} | {row['coverage']:.3f} | {accuracy} | {outlet} |")
    if abstention["threshold"] is None:
        lines += ["", f"**No threshold** reaches {abstention['target_accuracy']:.0%} accuracy on held-out outlets: "
                  "the model gives no label, only its probabilities as a hint."]
    else:
        lines += ["", f"**Threshold {abstention['threshold']:.2f}**: labels shown on {abstention['coverage']:.1%} "
                  f"of held-out articles, right {abstention['accuracy']:.1%} of the time "
                  f"({abstention['outlet_accuracy']:.1%} with every outlet equal)."]
    basil = evaluation.get("basil")
    if basil:
        lines += [
            "",
            f"People's relative stance (BASIL), {basil['stories']} stories, {basil['articles']} articles, "
            f"{basil['pairs']} pairs of one story's articles that people rated differently:",
            "",
            "| | pairs ordered as people did | label agreement with people |",
            "|---|---|---|",
            f"| newstilt score | {basil['pairwise_model']:.3f} | {basil['label_agreement_model']:.3f} |",
            f"| the outlet's own rating | {basil['pairwise_outlet_rating']:.3f} "
            f"| {basil['label_agreement_outlet_rating']:.3f} |",
        ]
    lines += ["", f"Presentation: **{evaluation.get('presentation', 'wording_resemblance')}**.", CARD_END]
    return "\n".join(lines)


def write_model_card_metrics(meta: dict, source: str, card: Path | None = None) -> None:
    """Replace the text between the metrics markers of the model card (append the section if absent)."""
    card = card or MODEL_CARD
    section = card_metrics_section(meta, source)
    text = card.read_text(encoding="utf-8") if card.exists() else "# Model card\n"
    pattern = re.compile(re.escape(CARD_BEGIN) + r".*?" + re.escape(CARD_END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n## Metrics\n\n" + section + "\n"
    card.write_text(text, encoding="utf-8")


def main() -> None:  # pragma: no cover - convenience for `python -m classifier.cli`
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    group = click.Group(commands=[train_command, evaluate_command])
    group()


if __name__ == "__main__":  # pragma: no cover
    main()
