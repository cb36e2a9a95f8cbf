"""One exception tree for the domain code. It knows nothing about HTTP: the web app maps each class to a status
code at the edge (``newstilt.web.errors``), the CLI turns any of them into a message and exit status 1."""
from __future__ import annotations


class NewstiltError(Exception):
    """Base class of every error newstilt raises on purpose. ``code`` is stable and machine-readable."""

    code = "error"


class InvalidURLError(NewstiltError, ValueError):
    """A URL that is missing, malformed, too long, or not http(s)."""

    code = "invalid_url"


class BadRequestError(NewstiltError, ValueError):
    """Any other malformed input from a client."""

    code = "bad_request"


class NotFoundError(NewstiltError, LookupError):
    """The thing asked for does not exist (an unrated site, an unknown story)."""

    code = "not_found"


class RatingsImportError(NewstiltError, ValueError):
    """A ratings file that cannot be imported; nothing was changed."""

    code = "invalid_ratings_file"


class FetchError(NewstiltError):
    """A page or feed could not be fetched (network, size, status, or a refused address)."""

    code = "fetch_failed"


class BlockedAddressError(FetchError):
    """The URL resolves to an address newstilt must not contact (private, loopback, link-local, ...)."""

    code = "blocked_address"


class HTTPStatusError(FetchError):
    """The server answered with an error status (after any retries); ``http_status`` says which."""

    def __init__(self, message: str, http_status: int, url: str | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.url = url


class FeedError(NewstiltError, ValueError):
    """A feed or OPML document that cannot be parsed safely (not XML, not a feed, entity declarations)."""

    code = "invalid_feed"


class ExtractionError(NewstiltError, ValueError):
    """No article could be extracted from a page (binary data, too large, no text)."""

    code = "extraction_failed"


class TruncatedContentError(ExtractionError):
    """The page's markup is cut off at its end (a transfer that stopped early): fetch it again later."""

    code = "truncated_content"


class DamagedContentError(ExtractionError):
    """The page is not clean text (NUL bytes, too many control characters or undecodable bytes): it was
    damaged on its way, or is not a web page; a later fetch may be clean."""

    code = "damaged_content"


class ConfigError(NewstiltError, ValueError):
    """A setting with a value newstilt cannot use; the message names the setting and its variable."""

    code = "invalid_setting"


class StorageError(NewstiltError):
    """The database cannot be used as it is (a schema newer than this release, a failed migration)."""

    code = "storage_error"


class ModelError(NewstiltError, RuntimeError):
    """A scoring model that is missing, tampered with, or made by other library versions."""

    code = "model_unavailable"

    def __init__(self, message: str, *, hint: bool = True) -> None:
        super().__init__(f"{message} {RETRAIN_HINT}" if hint else message)


class TrainingDataError(NewstiltError, ValueError):
    """Training or evaluation records that cannot be used (no valid record, a single class, too few outlets)."""

    code = "invalid_training_data"


RETRAIN_HINT = "Retrain with `newstilt train --data FILE.jsonl[.gz]` or `newstilt train --from-store`."
