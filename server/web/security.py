"""What every response of the service is protected by: the Host allowlist, the security headers, and the
reverse proxy's ``X-Forwarded-*`` headers (trusted only when a setting says a proxy is in front).

- **Host allowlist.** A page on any web site can make a browser send requests to ``127.0.0.1:8470`` under a
  name it controls (DNS rebinding) and read the answers, since the browser then takes the service for that
  site. The service answers only the configured host names (loopback names by default, ``allowed_hosts``
  for a public name behind a proxy): anything else gets a 400.
- **Headers.** HTML pages get a strict Content-Security-Policy (``default-src 'self'``, no script at all, no
  framing); every response gets ``nosniff``, a referrer policy and ``frame-ancestors 'none'``.
- **Proxy.** ``X-Forwarded-For/-Proto/-Host/-Port`` are ignored unless ``trusted_proxies`` is set: then
  Werkzeug's ``ProxyFix`` takes them from that many proxies.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Settings

#: The policy of HTML pages: nothing from other origins, no script at all (inline or not), no plugins, no
#: framing. Inline styles stay allowed: the page templates carry their CSS inline.
PAGE_CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: The policy of everything else (JSON): a document that loads nothing and is never framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


class SecurityHeaders:
    """WSGI middleware adding the security headers to every response, error pages included (a header the app
    set already is kept). Done on the WSGI header list, where it costs a few microseconds a request."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            html = any(name.lower() == "content-type" and value.startswith("text/html") for name, value in headers)
            headers.extend((name, value) for name, value in HEADERS if name.lower() not in present)
            if "content-security-policy" not in present:
                headers.append(("Content-Security-Policy", PAGE_CSP if html else API_CSP))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, start)


def host_name(host: str) -> str:
    """The name part of a ``Host`` header value, lower-case, without the port (IPv6 keeps its brackets)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


def register(app: Flask, settings: Settings) -> None:
    allowed = settings.hosts
    any_host = "*" in allowed

    app.wsgi_app = SecurityHeaders(app.wsgi_app)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    if any_host:
        return

    @app.before_request
    def check_host():
        # straight from the WSGI environ (what ``request.host`` parses it from, after ProxyFix when a proxy is
        # trusted): this runs on every request, and the name is all that is compared
        environ = request.environ
        if host_name(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")) not in allowed:
            raise BadRequest("this server does not answer to that host name; add it to NEWSTILT_ALLOWED_HOSTS "
                             "if it is the server's own name")
