"""Server-rendered pages for the people who sign: board, product page, approvals inbox.

Paths (none clashes with the JSON API, which keeps its own):
  GET  /                               portfolio board (?owner=&status=)
  GET  /signin, POST /signin           paste an API token; POST /signout
  GET  /inbox                          sign-offs and decisions waiting for you
  POST /inbox/signoffs, /inbox/decisions
  GET  /ui/products/{id}               the product page (JSON stays at GET /products/{id})
  POST /ui/products/{id}/evidence | checklist | metrics | review | signoffs | revoke |
       decision | conditions
  GET  /ui/products/{id}?before=P | ?after=P   older / newer pages of the decision trail
       ...&type=&actor=&since=&until=           the trail filtered (kept on the page links)
       ?as_of=2026-03-01T12:00Z                 the product as it stood then, read-only
  GET  /static/product.css
  GET  /static/web.css

Behind a reverse proxy, `serve_pages_at` names the public origin forms come from (see origin.py).

Pages authenticate with the session cookie only (never a bearer header), so CSRF protection
covers every way a browser can change state. Commands go through the same route functions as
the JSON API, so roles, delegation and the domain's rules are checked exactly once, the same way.
"""

from fastapi import FastAPI

from api.web import board, inbox, product, signin
from api.web.kit import HERE, SecureStatic, Web


def install_web(app: FastAPI, *, session_secret: str | None = None) -> None:
    import secrets

    app.state.web = Web(session_secret or secrets.token_urlsafe(32))
    for pages in (signin, board, product, inbox):
        app.include_router(pages.router)
    app.mount("/static", SecureStatic(directory=HERE / "static"), name="web-static")


def serve_pages_at(app: FastAPI, public_origin: str | None) -> None:
    """The origin people reach the pages at through a reverse proxy (None: served directly).
    Raises ValueError, naming the setting, for a malformed origin."""
    if public_origin is not None:
        web: Web = app.state.web
        web.serve_at(public_origin)
