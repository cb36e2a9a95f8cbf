"""Settings: defaults, overridden by ``NEWSTILT_*`` environment variables, overridden by CLI flags.

Every command resolves its settings here, so ``newstilt serve``, ``newstilt ratings import`` and the rest agree
on where the data lives. The Flask app receives the resolved values as upper-case config keys.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import platformdirs

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


def default_data_dir() -> Path:
    """The per-user data directory (``~/.local/share/newstilt`` on Linux)."""
    return Path(platformdirs.user_data_dir("newstilt", appauthor=False))


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r} (use on/off, true/false, 1/0)")


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(",", " ").split() if part.strip())


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. ``ENV`` maps each field to its environment variable."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str | None = None
    threads: int = 8
    ingest: bool = True
    ingest_interval: int = 900
    model_path: Path | None = None
    max_body_bytes: int = 5 * 1024 * 1024
    store_analyzed: bool = False
    fetch_allow: tuple[str, ...] = ()
    feeds_file: Path | None = None

    ENV = {
        "data_dir": "NEWSTILT_DATA_DIR",
        "host": "NEWSTILT_HOST",
        "port": "NEWSTILT_PORT",
        "database_url": "NEWSTILT_DATABASE_URL",
        "threads": "NEWSTILT_THREADS",
        "ingest": "NEWSTILT_INGEST",
        "ingest_interval": "NEWSTILT_INGEST_INTERVAL",
        "model_path": "NEWSTILT_MODEL_PATH",
        "max_body_bytes": "NEWSTILT_MAX_BODY_BYTES",
        "store_analyzed": "NEWSTILT_STORE_ANALYZED",
        "fetch_allow": "NEWSTILT_FETCH_ALLOW",
        "feeds_file": "NEWSTILT_FEEDS_FILE",
    }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then the environment, then ``overrides`` whose value is not None (CLI flags)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(cls.ENV[f.name])
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _convert(f.name, raw)
            except ValueError as exc:
                raise ValueError(f"{cls.ENV[f.name]}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        return replace(settings, data_dir=Path(settings.data_dir).expanduser())

    @property
    def resolved_database_url(self) -> str:
        """The database URL; SQLite in the data directory unless one is configured."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'newstilt.sqlite3'}"

    @property
    def resolved_model_path(self) -> Path:
        return self.model_path or self.data_dir / "models" / "newstilt-bias.joblib"

    def flask_config(self) -> dict:
        return {
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.resolved_database_url,
            "MODEL_PATH": str(self.resolved_model_path),
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "STORE_ANALYZED": self.store_analyzed,
            "FETCH_ALLOW": list(self.fetch_allow),
        }


_INT_FIELDS = {"port", "threads", "ingest_interval", "max_body_bytes"}
_BOOL_FIELDS = {"ingest", "store_analyzed"}
_PATH_FIELDS = {"data_dir", "model_path", "feeds_file"}


def _convert(name: str, raw: str):
    if name in _INT_FIELDS:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"not a whole number: {raw!r}") from None
    if name in _BOOL_FIELDS:
        return _bool(raw)
    if name in _PATH_FIELDS:
        return Path(raw)
    if name == "fetch_allow":
        return _list(raw)
    return raw
