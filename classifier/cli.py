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
CARD_BEGIN = "<!-- metrics:begin (written by `newstilt evaluate --write-card`) -->"
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


def _figure(block: dict | None) -> str:
    if not block:
        return "not computed"
    return (
        f"macro-F1 {block['macro_f1']:.3f} ± {block['macro_f1_sd']:.3f} (fold mean; pooled "
        f"{block['pooled']['macro_f1']:.3f}), accuracy {block['accuracy']:.3f}, MAE {block['mae']:.3f}"
    )


def _echo_report(result: dict, folds: int) -> None:
    data = result["data"]
    click.echo(f"{data['records']} articles from {data['outlets']} outlets {data['label_counts']}")
    click.echo(f"outlet-grouped {folds}-fold (outlets never seen in training): {_figure(result['grouped'])}")
    pooled = result["grouped"]["pooled"]
    for label in LABELS:
        row = pooled["per_class"][label]
        click.echo(f"  {label:<7} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
                   f"F1 {row['f1']:.3f}  n={row['support']}")
    click.echo("  confusion (rows true, columns predicted; left, center, right):")
    for label, row in zip(LABELS, pooled["confusion"]["matrix"], strict=True):
        click.echo(f"    {label:<7} {row}")
    if result.get("baseline"):
        click.echo(f"baseline, outlet-grouped, same folds: {_figure(result['baseline'])}")
    if result.get("random"):
        click.echo(f"random split {folds}-fold (NOT outlet-grouped; measures house-style recognition): "
                   f"{_figure(result['random'])}")


@click.command("train")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL or JSONL.gz of {title, text, label, domain} records.")
@click.option("--from-store", is_flag=True, help="Train on the service's stored articles, labelled by outlet.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (and its .json metadata) [default: the configured model path, "
                   "else ./newstilt-model.joblib].")
@click.option("--cv/--no-cv", default=False, show_default=True,
              help="Run outlet-grouped cross-validation first, print it and store it in the metadata.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def train_command(ctx, data, from_store, out, cv, folds, quiet):
    """Train the article scorer and save it with its metadata."""
    from .model import train
    from .persist import save

    records = _records(ctx, data, from_store)
    out = out or (ctx.obj or {}).get("model_path") or DEFAULT_MODEL_PATH
    started = time.perf_counter()
    try:
        model = train(records, progress=not quiet, cv_folds=folds if cv else 0)
    except TrainingDataError as exc:
        raise click.ClickException(str(exc)) from None
    meta_path = save(model, out)
    meta = model.metadata
    click.echo(f"trained on {meta['training']['records']} articles from {meta['training']['outlets']} outlets "
               f"in {time.perf_counter() - started:.0f} s; vocabulary {meta['training']['vocabulary']} terms")
    if meta.get("cv"):
        click.echo(f"outlet-grouped {folds}-fold: {_figure(meta['cv'])}")
    click.echo(f"wrote {out} ({meta['model_file']['bytes'] / 1e6:.1f} MB, sha256 "
               f"{meta['model_file']['sha256'][:12]}) and {meta_path}")


@click.command("evaluate")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL or JSONL.gz of {title, text, label, domain} records.")
@click.option("--from-store", is_flag=True, help="Evaluate on the service's stored articles.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--random-split/--no-random-split", default=True, show_default=True,
              help="Also report a shuffled split, labelled as such (it flatters the model).")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Also report plain TF-IDF + logistic regression on the same folds.")
@click.option("--write-card", is_flag=True, help="Rewrite the metrics section of classifier/MODEL_CARD.md.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full figures as JSON here.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def evaluate_command(ctx, data, from_store, folds, random_split, baseline, write_card, json_out, quiet):
    """Outlet-grouped cross-validation of the article scorer."""
    from .evaluate import evaluate

    records = _records(ctx, data, from_store)
    try:
        result = evaluate(records, folds=folds, progress=not quiet, random_split=random_split,
                          baseline=baseline)
    except (TrainingDataError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _echo_report(result, folds)
    if json_out:
        json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}")
    if write_card:
        source = str(data.name) if data else "the service's store"
        write_model_card_metrics(result, folds, source)
        click.echo(f"rewrote the metrics section of {MODEL_CARD}")


def card_metrics_section(result: dict, folds: int, source: str) -> str:
    """The Markdown metrics section of the model card for an :func:`~classifier.evaluate.evaluate` result."""
    data = result["data"]

    def row(name: str, block: dict | None) -> str:
        if not block:
            return f"| {name} | not computed | | | |"
        return (f"| {name} | {block['macro_f1']:.3f} ± {block['macro_f1_sd']:.3f} | {block['pooled']['macro_f1']:.3f} "
                f"| {block['accuracy']:.3f} | {block['mae']:.3f} |")

    pooled = result["grouped"]["pooled"]
    lines = [
        CARD_BEGIN,
        f"Measured on `{source}`: {data['records']} articles from {data['outlets']} outlets "
        f"({', '.join(f'{k} {v}' for k, v in data['label_counts'].items())}), {folds} folds, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| Split and model | macro-F1 (fold mean ± sd) | macro-F1 (pooled) | accuracy | MAE (-1/0/+1) |",
        "|---|---|---|---|---|",
        row("**Outlet-grouped, newstilt model**", result["grouped"]),
        row("Outlet-grouped, baseline (TF-IDF + LR, defaults, raw text)", result.get("baseline")),
        row("Random split, newstilt model (*not* outlet-grouped: flatters)", result.get("random")),
        "",
        "Outlet-grouped, newstilt model, pooled over folds:",
        "",
        "| true \\ predicted | left | center | right | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, matrix_row in zip(LABELS, pooled["confusion"]["matrix"], strict=True):
        pc = pooled["per_class"][label]
        lines.append(f"| {label} | {' | '.join(str(v) for v in matrix_row)} | {pc['precision']:.3f} "
                     f"| {pc['recall']:.3f} | {pc['f1']:.3f} |")
    lines.append(CARD_END)
    return "\n".join(lines)


def write_model_card_metrics(result: dict, folds: int, source: str, card: Path | None = None) -> None:
    """Replace the text between the metrics markers of the model card (append the section if absent)."""
    card = card or MODEL_CARD
    section = card_metrics_section(result, folds, source)
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
