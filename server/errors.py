"""One exception tree for the domain code; the web layer maps it to HTTP at the edge."""
from __future__ import annotations


class NewstiltError(Exception):
    """Base class of every error newstilt raises on purpose."""

    #: HTTP status the API answers with, and a stable machine-readable code.
    status = 500
    code = "internal_error"


class InvalidURLError(NewstiltError, ValueError):
    """A URL that is missing, malformed, too long, or not http(s)."""

    status = 400
    code = "invalid_url"


class BadRequestError(NewstiltError, ValueError):
    """Any other malformed input from a client."""

    status = 400
    code = "bad_request"


class NotFoundError(NewstiltError, LookupError):
    """The thing asked for does not exist (an unrated site, an unknown story)."""

    status = 404
    code = "not_found"


class RatingsImportError(NewstiltError, ValueError):
    """A ratings file that cannot be imported; nothing was changed."""

    status = 400
    code = "invalid_ratings_file"


class FetchError(NewstiltError):
    """A page or feed could not be fetched (network, size, status, or a refused address)."""

    status = 502
    code = "fetch_failed"


class BlockedAddressError(FetchError):
    """The URL resolves to an address newstilt must not contact (private, loopback, link-local, ...)."""

    status = 400
    code = "blocked_address"


class HTTPStatusError(FetchError):
    """The server answered with an error status (after any retries); ``http_status`` says which."""

    def __init__(self, message: str, http_status: int, url: str | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.url = url


class FeedError(NewstiltError, ValueError):
    """A feed or OPML document that cannot be parsed safely (not XML, not a feed, entity declarations)."""

    status = 422
    code = "invalid_feed"


class ExtractionError(NewstiltError, ValueError):
    """No article could be extracted from a page (binary data, too large, no text)."""

    status = 422
    code = "extraction_failed"


class ModelError(NewstiltError, RuntimeError):
    """A scoring model that is missing, tampered with, or made by other library versions."""

    status = 503
    code = "model_unavailable"
