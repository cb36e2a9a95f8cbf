"""The ``newstilt`` command. Settings come from flags, then ``NEWSTILT_*`` variables, then defaults."""
from __future__ import annotations

import functools
import logging
import signal
import sys
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
    from .store import Store

    store = Store(settings.resolved_database_url)
    store.ensure_schema()
    return store


class NewstiltGroup(click.Group):
    """Turns the project's own errors into a clear message and exit status 1, never a traceback."""

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

    from . import create_app

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
    sys.stdout.flush()

    def stop(_signum, _frame):
        server.close()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        services.close()
    click.echo("newstilt stopped")


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
