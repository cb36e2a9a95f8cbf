"""Every setting of newstilt, declared once: its type, default, environment variable, command-line flag and
meaning, and checked when the settings are built (so a bad value stops ``newstilt serve`` at start-up with the
variable's name, never on the first request that needs it).

Precedence: a command-line flag, then the ``NEWSTILT_*`` environment variable, then the default. ``Settings``
is the one typed object the facade (``newstilt.core.Newstilt``), the web app and the CLI receive. The README's
configuration table is this list (``tests/test_config.py`` checks that they agree).
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from .errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
ENV_PREFIX = "NEWSTILT_"


def default_data_dir() -> Path:
    """The per-user data directory (``~/.local/share/newstilt`` on Linux)."""
    return Path(platformdirs.user_data_dir("newstilt", appauthor=False))


# -- value parsers: text (from the environment or a flag) -> a typed value, or ValueError with a reason ----------

def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r} (use on/off, true/false, 1/0)")


def parse_int(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"not a whole number: {value!r}") from None


def parse_float(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def parse_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(",", " ").split() if part.strip())


def parse_path(value: str) -> Path:
    return Path(value.strip()).expanduser()


def parse_str(value: str) -> str:
    return value.strip()


_PARSERS: dict[type, Callable[[str], Any]] = {
    bool: parse_bool, int: parse_int, float: parse_float, Path: parse_path, str: parse_str, tuple: parse_list,
}


def setting(default: Any = None, *, env: str, help: str, type: type, flag: str | None = None,
            default_factory: Callable[[], Any] | None = None, shown_default: str | None = None,
            check: Callable[[Any], str | None] | None = None):
    """A field of :class:`Settings` with its declaration. ``check`` returns a reason when a value is unusable."""
    meta = {"env": ENV_PREFIX + env, "help": help, "type": type, "flag": flag, "check": check,
            "shown_default": shown_default}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be at least {low:g}"


def _between(low: float, high: float) -> Callable[[Any], str | None]:
    return lambda v: None if low <= v <= high else f"must be from {low:g} to {high:g}"


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port number from 0 to 65535 (0 picks a free one)"


def _networks(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"not an IP address or CIDR network: {item!r}"
    return None


def _database_url(value: str | None) -> str | None:
    if value and not value.startswith(("sqlite:", "postgresql:", "postgres:", "postgresql+psycopg:")):
        return "must be a sqlite:///PATH or postgresql://... URL"
    return None


def _host_names(value: tuple[str, ...]) -> str | None:
    for item in value:
        if not item or any(c in item for c in "/@ ") or item.count(":") > 8:
            return f"not a host name: {item!r}"
    return None


_WILDCARD_ADDRESSES = {"0.0.0.0", "::", "[::]", ""}


@dataclass(frozen=True)
class Settings:
    """The resolved configuration. Build it with :meth:`from_env`; every value has been checked."""

    data_dir: Path = setting(
        env="DATA_DIR", flag="--data-dir", type=Path, default_factory=default_data_dir,
        shown_default="per-user data dir (`~/.local/share/newstilt`)",
        help="Where the database and models live.")
    database_url: str | None = setting(
        None, env="DATABASE_URL", flag="--database-url", type=str, check=_database_url,
        shown_default="`sqlite:///<data dir>/newstilt.sqlite3`",
        help="The database: `sqlite:///PATH`, or `postgresql://user@host/db` for PostgreSQL.")
    host: str = setting(DEFAULT_HOST, env="HOST", flag="--host", type=str, help="Address to listen on.")
    port: int = setting(DEFAULT_PORT, env="PORT", flag="--port", type=int, check=_port,
                        help="Port to listen on (`0` picks a free port).")
    workers: int = setting(1, env="WORKERS", flag="--workers", type=int, check=_between(1, 64),
                           help="Web worker processes (more than one uses every core; see Deployment).")
    threads: int = setting(8, env="THREADS", flag="--threads", type=int, check=_between(1, 256),
                           help="Request threads per worker process.")
    connection_limit: int = setting(
        256, env="CONNECTION_LIMIT", flag="--connection-limit", type=int, check=_between(8, 100_000),
        help="Open client connections a worker accepts before it stops accepting more.")
    allowed_hosts: tuple[str, ...] = setting(
        (), env="ALLOWED_HOSTS", flag="--allowed-host", type=tuple, check=_host_names,
        shown_default="loopback names only (`127.0.0.1`, `localhost`, `[::1]`)",
        help="Host names the service answers to besides loopback ones and the address it listens on (the "
             "public name behind a proxy); comma-separated, `*` for any (which gives up the defence). Anything "
             "else gets a 400, which stops DNS-rebinding pages.")
    trusted_proxies: int = setting(
        0, env="TRUSTED_PROXIES", flag="--trusted-proxies", type=int, check=_between(0, 5),
        help="Reverse proxies in front of the service whose `X-Forwarded-For/-Proto/-Host/-Port` headers are "
             "believed (`0`: none, the headers are ignored; `1` behind one nginx or Caddy).")
    ingest: bool = setting(True, env="INGEST", flag="--ingest/--no-ingest", type=bool,
                           help="Ingest feeds in the background of `serve` (`on`/`off`).")
    ingest_interval: int = setting(900, env="INGEST_INTERVAL", flag="--ingest-interval", type=int,
                                   check=_at_least(10), help="Seconds between ingestion passes.")
    ingest_retry_base: float = setting(
        60.0, env="INGEST_RETRY_BASE", type=float, check=_between(0, 86_400),
        help="Seconds before a failed feed or article page is tried again (doubling with each failure, up to a "
             "day).")
    feeds_file: Path | None = setting(
        None, env="FEEDS_FILE", type=Path, shown_default="the bundled `server/data/default-feeds.opml`",
        help="Feed list (OPML) used while no feeds are configured.")
    ratings_file: Path | None = setting(
        None, env="RATINGS_FILE", type=Path, shown_default="the bundled `server/data/outlets.csv`",
        help="The outlet table (CSV in the bundled table's columns) used instead of the bundled one.")
    model_path: Path | None = setting(None, env="MODEL_PATH", flag="--model-path", type=Path,
                                      shown_default="`<data dir>/models/newstilt-bias.joblib`",
                                      help="The article scorer's model file (trusted: it is a pickle).")
    max_body_bytes: int = setting(5 * 1024 * 1024, env="MAX_BODY_BYTES", type=int, check=_at_least(1024),
                                  help="Largest request body (`analyze`); larger gets a 413.")
    store_analyzed: bool = setting(False, env="STORE_ANALYZED", type=bool,
                                   help="Keep the pages the reader analyses (off: nothing the reader reads "
                                        "is stored).")
    fetch_allow: tuple[str, ...] = setting(
        (), env="FETCH_ALLOW", type=tuple, check=_networks, shown_default="none",
        help="Addresses (IPs/CIDRs, comma-separated) the fetcher may contact although private, loopback or "
             "link-local.")
    fetch_host_delay: float = setting(1.0, env="FETCH_HOST_DELAY", type=float, check=_between(0, 3600),
                                      help="Seconds between two requests to one host (politeness).")
    fetch_host_concurrency: int = setting(2, env="FETCH_HOST_CONCURRENCY", type=int, check=_between(1, 64),
                                          help="Requests to one host at once.")
    blindspot_min_outlets: int = setting(4, env="BLINDSPOT_MIN_OUTLETS", type=int, check=_at_least(1),
                                         help="Blindspot rule: rated outlets a story needs.")
    blindspot_max_missing_share: float = setting(
        0.10, env="BLINDSPOT_MAX_MISSING_SHARE", type=float, check=_between(0, 1),
        help="Blindspot rule: largest share of rated outlets on the missing side.")
    blindspot_min_dominant_share: float = setting(
        0.60, env="BLINDSPOT_MIN_DOMINANT_SHARE", type=float, check=_between(0, 1),
        help="Blindspot rule: smallest share of rated outlets on the dominant side.")

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            check = f.metadata.get("check")
            reason = check(value) if check and value is not None else None
            if reason:
                raise ConfigError(f"{f.metadata['env']}: {reason} (got {value!r})")
        if not self.blindspot_max_missing_share < self.blindspot_min_dominant_share:
            raise ConfigError("NEWSTILT_BLINDSPOT_MAX_MISSING_SHARE must be below "
                              "NEWSTILT_BLINDSPOT_MIN_DOMINANT_SHARE")

    # -- building --------------------------------------------------------------------------------------

    @classmethod
    def declared(cls) -> tuple:
        """The declarations: ``dataclasses.Field`` objects whose ``metadata`` holds env, flag, type, help."""
        return fields(cls)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then the environment, then ``overrides`` whose value is not None (flags, or tests)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw.strip() == "":
                continue
            try:
                values[f.name] = _PARSERS[f.metadata["type"]](raw)
            except ValueError as exc:
                raise ConfigError(f"{f.metadata['env']}: {exc}") from None
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        for name, value in overrides.items():
            if value is None:
                continue
            f = next(f for f in fields(cls) if f.name == name)
            values[name] = _coerce(f, value)
        return cls(**values)

    def replace(self, **changes) -> Settings:
        """A copy with ``changes`` applied (and checked)."""
        return replace(self, **{name: _coerce(next(f for f in fields(self) if f.name == name), value)
                                for name, value in changes.items()})

    # -- derived values --------------------------------------------------------------------------------

    @property
    def resolved_database_url(self) -> str:
        """The database URL; SQLite in the data directory unless one is configured."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'newstilt.sqlite3'}"

    @property
    def resolved_model_path(self) -> Path:
        return self.model_path or self.data_dir / "models" / "newstilt-bias.joblib"

    @property
    def hosts(self) -> frozenset[str]:
        """Host names (lower-case, without port; IPv6 with brackets) the web app answers to: loopback names,
        the address it listens on unless that is a wildcard, and ``allowed_hosts`` (``*``: any)."""
        names = {"127.0.0.1", "localhost", "[::1]", *(h.lower() for h in self.allowed_hosts)}
        if self.host.strip("[]") not in _WILDCARD_ADDRESSES:
            names.add(self.host.lower())
        return frozenset(f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names)


def _coerce(f, value: Any) -> Any:
    """A value given in Python (a flag already parsed by click, or a test's override) in the field's type."""
    kind = f.metadata["type"]
    if kind is tuple and isinstance(value, (tuple, list)):  # a repeated flag; each may hold a comma list too
        return tuple(part for item in value for part in (parse_list(item) if isinstance(item, str) else (item,)))
    if value is None or isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return _PARSERS[kind](value)
        except ValueError as exc:
            raise ConfigError(f"{f.metadata['env']}: {exc}") from None
    if kind is float and isinstance(value, int):
        return float(value)
    if kind is Path and isinstance(value, os.PathLike):
        return Path(value)
    raise ConfigError(f"{f.metadata['env']}: {value!r} is not a {kind.__name__}")
