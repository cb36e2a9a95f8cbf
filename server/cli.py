"""The ``newstilt`` command. Every command builds one :class:`~newstilt.core.Newstilt` from the settings (flags,
then ``NEWSTILT_*`` variables, then defaults: ``newstilt.config``) and calls it; nothing else is wired here."""
from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

import click

from . import __version__
from .config import Settings
from .core import Newstilt
from .errors import NewstiltError

LOGGER = logging.getLogger("newstilt")


def _option(name: str) -> click.Option:
    """The click option of setting ``name``, from its declaration in ``newstilt.config``."""
    declared = {f.name: f for f in Settings.declared()}[name]
    meta = declared.metadata
    kind = meta["type"]
    default = meta["shown_default"] or (declared.default if not callable(declared.default) else None)
    text = f"{meta['help']} [env {meta['env']}; default: {default}]"
    kwargs: dict = {"default": None, "help": text}
    flag = meta["flag"] or "--" + name.replace("_", "-")
    if kind is bool:
        return click.Option([flag, name], **kwargs)
    if kind is tuple:
        return click.Option([flag, name], multiple=True, metavar="VALUE", **kwargs)
    if kind is Path:
        kwargs["type"] = click.Path(path_type=Path)
    elif kind in (int, float):
        kwargs["type"] = kind
    return click.Option([flag, name], **kwargs)


def with_newstilt(*settings_flags: str):
    """Give the command a ``Newstilt`` built from ``--data-dir``, ``--database-url`` and ``settings_flags``."""

    def decorate(func):
        names = ("data_dir", "database_url", *settings_flags)

        @click.pass_context
        @functools.wraps(func)
        def wrapper(ctx, **kwargs):
            flags = {name: kwargs.pop(name) for name in names}
            flags = {k: (v or None) if isinstance(v, tuple) else v for k, v in flags.items()}
            try:
                settings = Settings.from_env(**flags)
            except NewstiltError as exc:
                raise click.UsageError(str(exc)) from None
            ctx.obj = {**(ctx.obj or {}), "settings": settings}
            with Newstilt(settings) as nt:
                return func(nt, **kwargs)

        wrapper.__click_params__ = [*getattr(func, "__click_params__", []), *(_option(n) for n in reversed(names))]
        return wrapper

    return decorate


class NewstiltGroup(click.Group):
    """Turns the project's own errors into a clear message and exit status 1, never a traceback.

    ``train`` and ``evaluate`` are loaded on first use: they import scikit-learn, which every other command
    (``serve`` among them) can do without.
    """

    LAZY = {"train": "Train the article scorer and save it with its metadata.",
            "evaluate": "Measure the article scorer two ways, beside the plain baseline."}

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None and name in self.LAZY:
            command = _classifier_command(name)
            self.add_command(command, name)
        return command

    def format_commands(self, ctx, formatter):
        rows = [(name, self.LAZY.get(name) or self.commands[name].get_short_help_str(limit=70))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NewstiltError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=NewstiltGroup)
@click.version_option(__version__, prog_name="newstilt")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(verbose):
    """newstilt: a self-hosted news bias and coverage service."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# -- the service ----------------------------------------------------------------------------------------------


@main.command()
@with_newstilt("host", "port", "workers", "threads", "connection_limit", "allowed_hosts", "trusted_proxies", "ingest",
               "ingest_interval", "model_path")
def serve(nt: Newstilt):
    """Run the service with a production WSGI server (waitress), in --workers processes."""
    from . import serving

    settings = nt.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    before, after = nt.upgrade()
    index = nt.index()  # fail now, not on the first request, if the database is unusable

    def banner(address: str) -> None:
        click.echo(f"newstilt serving on {address}", nl=True)
        click.echo(f"  database: {nt.store.backend} ({_redact(settings.resolved_database_url)}), schema {after}"
                   f"{f' (upgraded from {before})' if before != after else ''}; {len(index.outlets)} rated "
                   f"outlets; data dir {settings.data_dir}")
        click.echo(f"  scorer: {_model_line(nt.model_status())}")
        click.echo(f"  answers to host names: {', '.join(sorted(settings.hosts))}")

    if settings.ingest:
        logging.getLogger("newstilt").setLevel(min(logging.INFO, logging.getLogger().level))
    if settings.workers > 1:
        code = serving.serve_many(nt, click.echo, banner)
    else:
        serving.serve_one(nt, click.echo, banner)
        code = 0
    click.echo("newstilt stopped")
    sys.exit(code)


@main.command()
@with_newstilt("ingest_interval", "fetch_allow", "fetch_host_delay", "fetch_host_concurrency")
def worker(nt: Newstilt):
    """Ingest feeds every --ingest-interval seconds, in this process only (run `serve --no-ingest` beside it)."""
    from . import serving

    settings = nt.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    nt.upgrade()
    logging.getLogger("newstilt").setLevel(min(logging.INFO, logging.getLogger().level))
    click.echo(f"newstilt worker: ingesting feeds every {settings.ingest_interval}s into "
               f"{_redact(settings.resolved_database_url)}")
    sys.stdout.flush()
    nt.close()
    serving.run_ingest(settings)
    click.echo("newstilt worker stopped")


def _model_line(status: dict) -> str:
    if not status["loaded"]:
        return f"none ({status['reason']})"
    line = f"model {status.get('version')} ({status.get('sha256')}, created {status.get('created')})"
    evaluation = status.get("evaluation") or {}
    figures = []
    for name, label in (("grouped", "outlet-grouped"), ("leave_outlet_out", "leave-outlet-out")):
        block = evaluation.get(name) or {}
        if block.get("macro_f1") is not None:
            base = block.get("baseline_macro_f1")
            figures.append(f"{label} macro-F1 {block['macro_f1']:.3f}"
                           + (f" (baseline {base:.3f})" if base is not None else ""))
    abstention = evaluation.get("abstention") or {}
    if abstention.get("threshold") is not None:
        figures.append(f"labels shown above {abstention['threshold']:.2f} confidence")
    elif abstention:
        figures.append(f"no label ever shown (no confidence reached {abstention.get('target_accuracy', 0.7):.0%} "
                       "accuracy on held-out outlets)")
    return line + ("; " + ", ".join(figures) if figures else "; no measured figures in its metadata")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group()
def db():
    """The database schema: upgrade it in place, or show its revision."""


@db.command("upgrade")
@with_newstilt()
def db_upgrade(nt: Newstilt):
    """Migrate the database to this release's schema (serve does it too); nothing stored is lost."""
    before, after = nt.upgrade()
    click.echo(f"schema at {after}" if before == after else f"schema upgraded from {before or 'nothing'} to {after}")


@db.command("current")
@with_newstilt()
def db_current(nt: Newstilt):
    """The database's schema revision and this release's."""
    from .storage import Store, migrate

    store = Store(nt.settings.resolved_database_url)
    try:
        with store.engine.connect() as conn:
            revision = migrate.current(conn)
    finally:
        store.close()
    click.echo(f"database: {revision or 'empty'}; this release: {migrate.head()}")


# -- ratings --------------------------------------------------------------------------------------------------


@main.group()
def ratings():
    """Outlet ratings: import raters' files, list them, look a URL up."""


@ratings.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mbfc", "allsides"]), required=True,
              help="mbfc: Media Bias/Fact Check combined.json; allsides: AllSides ratings CSV.")
@with_newstilt()
def ratings_import(nt: Newstilt, file: Path, fmt: str):
    """Import a rater's ratings FILE, replacing what that rater said before."""
    result = nt.import_ratings(file, fmt)
    if not result["written"]:
        click.echo(f"{result['rater']}: nothing changed ({result['unchanged']} outlets, same as before)")
    else:
        click.echo(f"{result['rater']}: {result['added']} added, {result['changed']} changed, "
                   f"{result['unchanged']} unchanged, {result['removed']} removed")
    for reason in result["skipped"]:
        click.echo(f"  skipped {reason}")


@ratings.command("list")
@with_newstilt()
def ratings_list(nt: Newstilt):
    """The raters in the database, with their outlet counts."""
    index = nt.index()
    bundled = sum(1 for o in index.outlets.values() if any(r.rater == "newstilt" for r in o.ratings))
    click.echo(f"newstilt (bundled table): {bundled} outlets")
    for rater in nt.list_raters():
        click.echo(f"{rater['rater']} ({rater['name']}): {rater['outlets']} outlets, imported "
                   f"{rater['imported_at']:%Y-%m-%d %H:%M} from {rater['source_file']}")
    click.echo(f"combined: {len(index.outlets)} outlets, version {index.version}")


@ratings.command("stats")
@click.option("--top", default=15, show_default=True, help="Rows shown for countries, languages and owners.")
@click.option("--json", "as_json", is_flag=True, help="Everything, as JSON.")
@with_newstilt()
def ratings_stats(nt: Newstilt, top: int, as_json: bool):
    """How the ratings table is made up: outlets per country, language, bias, factuality, ownership."""
    stats = nt.ratings_stats()
    if as_json:
        import json

        click.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    click.echo(f"{stats['outlets']} rated outlets, {stats['questionable']} flagged questionable "
               f"({', '.join(f'{k} {v}' for k, v in stats['flags'].items())})")
    for name, label in (("bias", "bias"), ("factuality", "factuality"), ("ownership", "ownership"),
                        ("country", f"countries ({len(stats['country'])})"),
                        ("language", f"languages ({len(stats['language'])})"),
                        ("owner", f"owners ({len(stats['owner'])})")):
        rows = list(stats[name].items())
        shown = rows if name in ("bias", "factuality", "ownership") else rows[:top]
        rest = sum(v for _, v in rows[len(shown):])
        click.echo(f"{label}: " + ", ".join(f"{k} {v}" for k, v in shown) + (f", others {rest}" if rest else ""))


@ratings.command("lookup")
@click.argument("url")
@with_newstilt()
def ratings_lookup(nt: Newstilt, url: str):
    """Which outlet URL belongs to, and how each rater rates it."""
    match = nt.index().match(url)
    outlet = match.outlet
    click.echo(f"{outlet.name} ({outlet.domain}; matched {match.kind} {match.key})")
    click.echo(f"  bias: {outlet.bias_label} ({outlet.bias_score:+.2f})" if outlet.bias_score is not None
               else "  bias: not rated")
    click.echo(f"  factuality: {outlet.factuality or 'not rated'}; ownership: {outlet.ownership or 'unknown'}"
               f"{f' ({outlet.owner})' if outlet.owner else ''}; country: {outlet.country or 'unknown'}; "
               f"language: {outlet.language or 'unknown'}")
    if outlet.flags:
        click.echo(f"  questionable source: {', '.join(outlet.flags)}")
    for rating in outlet.ratings:
        bias = "-" if rating.bias_score is None else f"{rating.bias_score:+.0f}"
        click.echo(f"  {rating.rater}: bias {bias} ({rating.bias_raw or '-'}), factuality {rating.factuality or '-'}")


# -- feeds and ingestion --------------------------------------------------------------------------------------


@main.group()
def feeds():
    """The feed registry: add, import, list, enable, disable, remove."""


@feeds.command("add")
@click.argument("url")
@click.option("--outlet", default=None, help="The rated outlet's domain, when the feed's host does not name it.")
@click.option("--title", default=None)
@with_newstilt()
def feeds_add(nt: Newstilt, url: str, outlet: str | None, title: str | None):
    """Register the RSS/Atom feed at URL (the first feed you add replaces the default list)."""
    feed_id, created, url = nt.add_feed(url, outlet=outlet, title=title)
    feed = next(f for f in nt.list_feeds() if f["id"] == feed_id)
    click.echo(f"{'added' if created else 'updated'} feed {feed_id}: {url} (outlet {feed['outlet']})")


@feeds.command("import")
@click.argument("source")
@with_newstilt("fetch_allow")
def feeds_import(nt: Newstilt, source: str):
    """Register every feed of an OPML file or of the OPML at an http(s) URL (replacing the default list)."""
    if not source.startswith(("http://", "https://")) and not Path(source).is_file():
        raise click.BadParameter(f"no such file: {source} (give an OPML file or an http(s) URL)",
                                 param_hint="SOURCE")
    results = nt.import_feeds(source)
    index = nt.index()
    created = sum(c for _, c in results)
    unrated = sorted({f["outlet"] or "?" for f, _ in results if not index.outlet_for_key(f["outlet"] or "")})
    click.echo(f"{len(results)} feeds: {created} added, {len(results) - created} already registered")
    if unrated:
        click.echo(f"  not rated: {', '.join(unrated)}")


@feeds.command("list")
@with_newstilt()
def feeds_list(nt: Newstilt):
    """Every registered feed with its outlet and last fetch."""
    rows = nt.list_feeds()
    for feed in rows:
        state = "on " if feed["enabled"] else "off"
        last = f"{feed['last_fetched_at']:%Y-%m-%d %H:%M} {feed['last_status']}" if feed["last_fetched_at"] else "never"
        origin = " (default list)" if feed["origin"] == "default" else ""
        click.echo(f"{feed['id']:>5} {state} {feed['outlet'] or '-':<28} {feed['url']}{origin}  [{last}]")
    click.echo(f"{len(rows)} feeds")


@feeds.command("remove")
@click.argument("feed")
@with_newstilt()
def feeds_remove(nt: Newstilt, feed: str):
    """Remove FEED (its id or URL); its articles stay."""
    if not nt.remove_feed(feed):
        raise click.ClickException(f"no feed {feed}")
    click.echo(f"removed {feed}")


def _feed_toggle(enabled: bool):
    verb = "enable" if enabled else "disable"

    @click.argument("feed")
    @with_newstilt()
    def command(nt: Newstilt, feed: str):
        if not nt.set_feed_enabled(feed, enabled):
            raise click.ClickException(f"no feed {feed}")
        click.echo(f"{verb}d {feed}")

    command.__doc__ = f"{verb.capitalize()} FEED (its id or URL){'' if enabled else ' without removing it'}."
    return feeds.command(verb)(command)


feeds_enable = _feed_toggle(True)
feeds_disable = _feed_toggle(False)


@main.command()
@click.option("--workers", type=int, default=4, show_default=True, help="Feeds fetched at once.")
@click.option("--progress/--no-progress", default=True)
@with_newstilt("fetch_allow", "fetch_host_delay", "fetch_host_concurrency")
def ingest(nt: Newstilt, workers: int, progress: bool):
    """Run one ingestion pass over the enabled feeds (the default list when none are configured)."""
    from tqdm import tqdm

    added = nt.ensure_default_feeds()
    if added:
        click.echo(f"no feeds configured: registered the {added} default feeds")
    with tqdm(total=len(nt.list_feeds(enabled_only=True)), unit="feed", disable=not progress) as bar:
        stats = nt.ingest_pass(workers=workers, progress=lambda done, total: bar.update(1))
    click.echo(stats.summary())


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--progress/--no-progress", default=True)
@with_newstilt()
def import_articles(nt: Newstilt, file: Path, progress: bool):
    """Bulk-load articles from a JSONL file (optionally .gz): one article per line."""
    counts = nt.import_articles(file, progress=progress)
    click.echo(", ".join(f"{value} {name}" for name, value in counts.items()))


# -- the article scorer ---------------------------------------------------------------------------------------


def _with_service_settings(command: click.Command) -> click.Command:
    """A classifier command that honours ``--data-dir``/``--database-url``/``NEWSTILT_*`` like every other:
    the model path and the store's labelled articles reach it through ``ctx.obj``."""
    command.params.extend([_option("data_dir"), _option("database_url")])
    original = command.callback

    def callback(data_dir=None, database_url=None, **kwargs):
        try:
            settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
        except NewstiltError as exc:
            raise click.UsageError(str(exc)) from None
        nt = Newstilt(settings)

        def iter_store_records():
            records = nt.training_records()
            first = next(records, None)
            if first is None:
                raise click.ClickException(
                    f"the store at {_redact(settings.resolved_database_url)} holds no article of a rated "
                    "outlet yet: ingest some news first (`newstilt ingest`) or train with --data FILE")
            yield first
            yield from records

        def outlet_bias(domain: str) -> float | None:
            """The outlet's rating on the -3..+3 scale (the reference the people's-stance check compares with)."""
            try:
                return nt.index().match(f"https://{domain}/").outlet.bias_score
            except NewstiltError:
                return None

        ctx = click.get_current_context()
        ctx.obj = {**(ctx.obj or {}), "settings": settings, "model_path": settings.resolved_model_path,
                   "iter_store_records": iter_store_records, "outlet_bias": outlet_bias}
        ctx.call_on_close(nt.close)
        settings.resolved_model_path.parent.mkdir(parents=True, exist_ok=True)
        return original(**kwargs)

    command.callback = callback
    return command


def _classifier_command(name: str) -> click.Command:
    from .classifier import cli as classifier_cli

    command = {"train": classifier_cli.train_command, "evaluate": classifier_cli.evaluate_command}[name]
    return _with_service_settings(command)
