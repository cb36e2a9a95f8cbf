"""The ``newstilt`` command. Settings come from flags, then ``NEWSTILT_*`` variables, then defaults."""
from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from pathlib import Path

import click

from . import __version__
from .config import Settings
from .errors import NewstiltError

LOGGER = logging.getLogger("newstilt")


def common_options(func):
    """``--data-dir`` and ``--database-url``, which every command honours."""

    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Where the database and models live [env NEWSTILT_DATA_DIR; default: per-user data dir].")
    @click.option("--database-url", default=None, metavar="URL",
                  help="sqlite:///PATH or postgresql://... [env NEWSTILT_DATABASE_URL; default: SQLite in the "
                       "data dir].")
    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx, data_dir, database_url, **kwargs):
        try:
            settings = Settings.from_env(data_dir=data_dir, database_url=database_url,
                                         **{k: kwargs.pop(k) for k in list(kwargs) if k in SETTINGS_FLAGS})
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        ctx.obj = ctx.obj or {}
        ctx.obj["settings"] = settings
        return func(settings, **kwargs)

    return wrapper


#: Command flags that are settings (and so override the environment).
SETTINGS_FLAGS = {"host", "port", "threads", "ingest", "ingest_interval", "model_path", "feeds_file"}


def open_store(settings: Settings):
    from .storage import Store

    store = Store(settings.resolved_database_url)
    store.ensure_schema()
    return store


class NewstiltGroup(click.Group):
    """Turns the project's own errors into a clear message and exit status 1, never a traceback.

    ``train`` and ``evaluate`` are loaded on first use: they import scikit-learn, which every other command
    (``serve`` among them) can do without.
    """

    LAZY = {"train": "Train the article scorer and save it with its metadata.",
            "evaluate": "Outlet-grouped evaluation of the article scorer."}

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


@main.command()
@click.option("--host", default=None, help="Address to listen on [env NEWSTILT_HOST; default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [env NEWSTILT_PORT; default 8470; 0 picks a free one].")
@click.option("--threads", type=int, default=None, help="Worker threads [env NEWSTILT_THREADS; default 8].")
@click.option("--ingest/--no-ingest", default=None,
              help="Ingest feeds in the background [env NEWSTILT_INGEST; default on].")
@click.option("--ingest-interval", type=int, default=None, metavar="SECONDS",
              help="Seconds between ingestion passes [env NEWSTILT_INGEST_INTERVAL; default 900].")
@common_options
def serve(settings: Settings):
    """Run the service with a production WSGI server (waitress)."""
    from waitress import create_server

    from .web import create_app

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings.flask_config())
    services = app.extensions["newstilt"]
    index = services.ratings.index()  # fail now, not on the first request, if the database is unusable
    server = create_server(app, host=settings.host, port=settings.port, threads=settings.threads,
                           ident="newstilt")
    host, port = server.effective_host, server.effective_port
    shown = f"[{host}]" if ":" in str(host) else host
    click.echo(f"newstilt serving on http://{shown}:{port}/", nl=True)
    click.echo(f"  database: {services.store.backend} ({_redact(settings.resolved_database_url)}); "
               f"{len(index.outlets)} rated outlets; data dir {settings.data_dir}")
    stopping = threading.Event()
    scheduler = None
    if settings.ingest:
        from .ingest import Scheduler

        logging.getLogger("newstilt").setLevel(min(logging.INFO, logging.getLogger().level))
        ingestor = make_ingestor(settings, services.store, services.ratings)
        scheduler = Scheduler(ingestor, settings.ingest_interval, stopping, before_first=lambda: _defaults(
            services, settings))
        scheduler.start()
        click.echo(f"  ingesting feeds every {settings.ingest_interval}s (off with --no-ingest)")
    sys.stdout.flush()

    def stop(_signum, _frame):
        # What waitress does on Ctrl-C: leave the loop, let running requests finish (up to its task timeout),
        # and drop idle keep-alive connections instead of waiting for clients to hang up.
        stopping.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit, OSError):
        pass
    finally:
        stopping.set()
        if scheduler is not None:
            scheduler.join(timeout=30)
            scheduler.ingestor.fetcher.close()
        services.close()
    click.echo("newstilt stopped")


def _defaults(services, settings: Settings) -> None:
    added = ensure_default_feeds(services.store, services.ratings.index(), settings)
    if added:
        LOGGER.info("no feeds configured: registered the %s default feeds", added)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group()
def ratings():
    """Outlet ratings: import raters' files, list them, look a URL up."""


@ratings.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mbfc", "allsides"]), required=True,
              help="mbfc: Media Bias/Fact Check combined.json; allsides: AllSides ratings CSV.")
@common_options
def ratings_import(settings: Settings, file: Path, fmt: str):
    """Import a rater's ratings FILE, replacing what that rater said before."""
    from .importers import import_file

    result = import_file(open_store(settings), file, fmt)
    if not result["written"]:
        click.echo(f"{result['rater']}: nothing changed ({result['unchanged']} outlets, same as before)")
    else:
        click.echo(f"{result['rater']}: {result['added']} added, {result['changed']} changed, "
                   f"{result['unchanged']} unchanged, {result['removed']} removed")
    for reason in result["skipped"]:
        click.echo(f"  skipped {reason}")


@ratings.command("list")
@common_options
def ratings_list(settings: Settings):
    """The raters in the database, with their outlet counts."""
    from .ratings import Ratings

    store = open_store(settings)
    index = Ratings(store).index()
    bundled = sum(1 for o in index.outlets.values() if any(r.rater == "newstilt" for r in o.ratings))
    click.echo(f"newstilt (bundled table): {bundled} outlets")
    for rater in store.list_raters():
        click.echo(f"{rater['rater']} ({rater['name']}): {rater['outlets']} outlets, imported "
                   f"{rater['imported_at']:%Y-%m-%d %H:%M} from {rater['source_file']}")
    click.echo(f"combined: {len(index.outlets)} outlets, version {index.version}")


@ratings.command("lookup")
@click.argument("url")
@common_options
def ratings_lookup(settings: Settings, url: str):
    """Which outlet URL belongs to, and how each rater rates it."""
    from .ratings import Ratings

    index = Ratings(open_store(settings)).index()
    match = index.match(url)
    outlet = match.outlet
    click.echo(f"{outlet.name} ({outlet.domain}; matched {match.kind} {match.key})")
    click.echo(f"  bias: {outlet.bias_label} ({outlet.bias_score:+.2f})" if outlet.bias_score is not None
               else "  bias: not rated")
    click.echo(f"  factuality: {outlet.factuality or 'not rated'}; ownership: {outlet.ownership or 'unknown'}; "
               f"country: {outlet.country or 'unknown'}")
    for rating in outlet.ratings:
        bias = "-" if rating.bias_score is None else f"{rating.bias_score:+.0f}"
        click.echo(f"  {rating.rater}: bias {bias} ({rating.bias_raw or '-'}), factuality {rating.factuality or '-'}")


# -- feeds and ingestion ------------------------------------------------------------------------------


def bundled_feeds_opml() -> bytes:
    from importlib import resources

    return resources.files("newstilt").joinpath("data/default-feeds.opml").read_bytes()


def ensure_default_feeds(store, index, settings: Settings) -> int:
    """Register the default feed list (or ``NEWSTILT_FEEDS_FILE``) when the user has configured no feeds."""
    from .ingest import import_opml

    if store.list_feeds():
        return 0
    body = settings.feeds_file.read_bytes() if settings.feeds_file else bundled_feeds_opml()
    return sum(created for _, created in import_opml(store, index, body))


def make_ingestor(settings: Settings, store, ratings, *, workers: int = 4, fetch_overrides: dict | None = None):
    from .cluster import Clusterer
    from .fetch import FetchConfig, Fetcher
    from .ingest import Ingestor

    config = FetchConfig.from_mapping({"allow_addresses": settings.fetch_allow, **(fetch_overrides or {})})
    return Ingestor(store, ratings, Clusterer(store), Fetcher(config), workers=workers)


@main.group()
def feeds():
    """The feed registry: add, import, list, enable, disable, remove."""


@feeds.command("add")
@click.argument("url")
@click.option("--outlet", default=None, help="The rated outlet's domain, when the feed's host does not name it.")
@click.option("--title", default=None)
@common_options
def feeds_add(settings: Settings, url: str, outlet: str | None, title: str | None):
    """Register the RSS/Atom feed at URL."""
    from .ingest import resolve_outlet
    from .ratings import Ratings
    from .urls import normalize_url

    store = open_store(settings)
    url = normalize_url(url)
    key = resolve_outlet(Ratings(store).index(), hint=outlet, urls=(url,))
    feed_id, created = store.add_feed(url, key, title)
    click.echo(f"{'added' if created else 'updated'} feed {feed_id}: {url} (outlet {key})")


@feeds.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@common_options
def feeds_import(settings: Settings, file: Path):
    """Register every feed of an OPML FILE."""
    from .ingest import import_opml
    from .ratings import Ratings

    store = open_store(settings)
    index = Ratings(store).index()
    results = import_opml(store, index, file.read_bytes())
    created = sum(c for _, c in results)
    unrated = sorted({f["outlet"] or "?" for f, _ in results if not index.outlet_for_key(f["outlet"] or "")})
    click.echo(f"{len(results)} feeds: {created} added, {len(results) - created} already registered")
    if unrated:
        click.echo(f"  not rated: {', '.join(unrated)}")


@feeds.command("list")
@common_options
def feeds_list(settings: Settings):
    """Every registered feed with its outlet and last fetch."""
    rows = open_store(settings).list_feeds()
    for feed in rows:
        state = "on " if feed["enabled"] else "off"
        last = f"{feed['last_fetched_at']:%Y-%m-%d %H:%M} {feed['last_status']}" if feed["last_fetched_at"] else "never"
        click.echo(f"{feed['id']:>5} {state} {feed['outlet'] or '-':<28} {feed['url']}  [{last}]")
    click.echo(f"{len(rows)} feeds")


@feeds.command("remove")
@click.argument("feed")
@common_options
def feeds_remove(settings: Settings, feed: str):
    """Remove FEED (its id or URL); its articles stay."""
    if not open_store(settings).remove_feed(feed):
        raise click.ClickException(f"no feed {feed}")
    click.echo(f"removed {feed}")


def _feed_toggle(enabled: bool):
    verb = "enable" if enabled else "disable"

    @click.argument("feed")
    @common_options
    def command(settings: Settings, feed: str):
        if not open_store(settings).set_feed_enabled(feed, enabled):
            raise click.ClickException(f"no feed {feed}")
        click.echo(f"{verb}d {feed}")

    command.__doc__ = f"{verb.capitalize()} FEED (its id or URL){'' if enabled else ' without removing it'}."
    return feeds.command(verb)(command)


feeds_enable = _feed_toggle(True)
feeds_disable = _feed_toggle(False)


@main.command()
@click.option("--workers", type=int, default=4, show_default=True, help="Feeds fetched at once.")
@click.option("--progress/--no-progress", default=True)
@common_options
def ingest(settings: Settings, workers: int, progress: bool):
    """Run one ingestion pass over the enabled feeds (the default list when none are configured)."""
    from tqdm import tqdm

    from .ratings import Ratings

    store = open_store(settings)
    ratings = Ratings(store)
    added = ensure_default_feeds(store, ratings.index(), settings)
    if added:
        click.echo(f"no feeds configured: registered the {added} default feeds")
    ingestor = make_ingestor(settings, store, ratings, workers=workers)
    with tqdm(total=len(store.list_feeds(enabled_only=True)), unit="feed", disable=not progress) as bar:
        stats = ingestor.run_pass(progress=lambda done, total: bar.update(1))
    ingestor.fetcher.close()
    click.echo(stats.summary())


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--progress/--no-progress", default=True)
@common_options
def import_articles(settings: Settings, file: Path, progress: bool):
    """Bulk-load articles from a JSONL file (optionally .gz): one article per line."""
    from .bulk import import_jsonl
    from .cluster import Clusterer
    from .ratings import Ratings

    store = open_store(settings)
    index = Ratings(store).index()

    def outlet_for(url: str) -> str | None:
        from .ingest import resolve_outlet

        return resolve_outlet(index, urls=(url,))

    counts = import_jsonl(store, file, clusterer=Clusterer(store), outlet_for=outlet_for, progress=progress)
    click.echo(", ".join(f"{value} {name}" for name, value in counts.items()))


# -- the article scorer ---------------------------------------------------------------------------------


def _with_service_settings(command: click.Command) -> click.Command:
    """A classifier command that honours ``--data-dir``/``--database-url``/``NEWSTILT_*`` like every other:
    the model path and the store's labelled articles reach it through ``ctx.obj``."""
    command.params.extend([
        click.Option(["--data-dir"], type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Where the database and models live [env NEWSTILT_DATA_DIR]."),
        click.Option(["--database-url"], default=None, metavar="URL",
                     help="The store to train on with --from-store [env NEWSTILT_DATABASE_URL]."),
    ])
    original = command.callback

    def callback(data_dir=None, database_url=None, **kwargs):
        try:
            settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

        def iter_store_records():
            from .ratings import Ratings
            from .training import store_records

            store = open_store(settings)
            return store_records(store, Ratings(store).index())

        ctx = click.get_current_context()
        ctx.obj = {**(ctx.obj or {}), "settings": settings, "model_path": settings.resolved_model_path,
                   "iter_store_records": iter_store_records}
        settings.resolved_model_path.parent.mkdir(parents=True, exist_ok=True)
        return original(**kwargs)

    command.callback = callback
    return command


def _classifier_command(name: str) -> click.Command:
    from newstilt.classifier import cli as classifier_cli

    command = {"train": classifier_cli.train_command, "evaluate": classifier_cli.evaluate_command}[name]
    return _with_service_settings(command)
