"""Server-rendered web pages (board, product page, approvals inbox) served by the API process."""

from api.web.pages import install_web

__all__ = ["install_web"]
