"""Behind a reverse proxy that rewrites Host (to the upstream's api:8000) and terminates TLS, the
configured public origin lets forms through the CSRF origin check and makes cookies Secure;
every other origin is still refused."""

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.server import build_api
from api.web import serve_pages_at
from api.web.origin import normalized_origin
from api.web.session import COOKIE_NAME
from runtime.settings import Settings
from tests.web.conftest import WebHarness, csrf_of

HTML = {"Accept": "text/html"}
PUBLIC = "https://lifecycle.example.com"


async def sign_in_through_proxy(web: WebHarness, origin: str) -> httpx.Response:
    """Signs in as the proxy forwards a browser's requests: over http with Host api:8000, the
    browser's cookie passed on (it holds it from https, so a Secure one is sent too)."""
    token = await web.token("grace", ["product-lead"], "Grace Okafor")
    transport = httpx.ASGITransport(app=web.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api:8000") as upstream:
        page = await upstream.get("/signin", headers=HTML)
        session = page.cookies[COOKIE_NAME]
        upstream.cookies.clear()
        return await upstream.post(
            "/signin",
            data={"token": token, "csrf_token": csrf_of(page.text), "next": "/"},
            headers={**HTML, "Origin": origin, "Cookie": f"{COOKIE_NAME}={session}"},
        )


async def test_without_a_public_origin_a_proxied_form_is_refused(web: WebHarness) -> None:
    response = await sign_in_through_proxy(web, PUBLIC)
    assert response.status_code == 403
    assert "CSRF" in response.text


async def test_with_the_public_origin_set_a_proxied_form_passes_and_the_cookie_is_secure(
    web: WebHarness,
) -> None:
    serve_pages_at(web.app, "HTTPS://Lifecycle.Example.com:443/")
    response = await sign_in_through_proxy(web, PUBLIC)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie
    assert "httponly" in cookie


async def test_with_the_public_origin_set_other_origins_are_still_refused(
    web: WebHarness,
) -> None:
    serve_pages_at(web.app, PUBLIC)
    for origin in ("https://evil.example", "http://lifecycle.example.com", "null", "nonsense"):
        response = await sign_in_through_proxy(web, origin)
        assert response.status_code == 403, origin


async def test_a_page_served_directly_still_accepts_its_own_host(web: WebHarness) -> None:
    serve_pages_at(web.app, PUBLIC)
    token = await web.token("grace", ["product-lead"], "Grace Okafor")
    transport = httpx.ASGITransport(app=web.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://10.0.0.7:8443") as direct:
        page = await direct.get("/signin", headers=HTML)
        response = await direct.post(
            "/signin",
            data={"token": token, "csrf_token": csrf_of(page.text), "next": "/"},
            headers={**HTML, "Origin": "https://10.0.0.7:8443"},
        )
    assert response.status_code == 303


async def test_a_malformed_public_origin_fails_at_start_naming_the_setting(
    web: WebHarness,
) -> None:
    for bad in ("lifecycle.example.com", "https://lifecycle.example.com/app", "ftp://x.example"):
        with pytest.raises(ValueError, match="LIFECYCLE_PUBLIC_ORIGIN must be an origin"):
            serve_pages_at(web.app, bad)


def test_origins_compare_without_case_or_default_ports() -> None:
    assert normalized_origin("HTTPS://Example.COM:443") == "https://example.com"
    assert normalized_origin("http://example.com:8080/") == "http://example.com:8080"
    assert normalized_origin("https://[::1]:8443") == "https://[::1]:8443"
    assert normalized_origin("https://user@example.com") is None
    assert normalized_origin("https://example.com:99999") is None


async def test_the_api_process_takes_the_public_origin_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    time_skipping_env: WorkflowEnvironment,
    app_pool: asyncpg.Pool,
) -> None:
    monkeypatch.setenv("LIFECYCLE_PUBLIC_ORIGIN", "https://Lifecycle.Example.com")
    settings = Settings(_env_file=None)
    api = build_api(settings, time_skipping_env.client, app_pool)
    assert api.app.state.web.public_origin == PUBLIC
