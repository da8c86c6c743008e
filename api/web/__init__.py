"""Server-rendered web pages (board, product page, approvals inbox) served by the API process."""

from api.web.pages import install_web, serve_pages_at

__all__ = ["install_web", "serve_pages_at"]
