"""The session cookie is encrypted: the API token behind a session cannot be read out of it, and
a cookie changed, forged with another secret, or older than a session lasts signs you out."""

import base64
import json
import time

from cryptography.fernet import Fernet

from api.web.session import COOKIE_NAME, SESSION_MAX_AGE, session_key
from tests.web.conftest import WebHarness

HTML = {"Accept": "text/html"}
SECRET = "web-test-secret"  # the web fixture's session secret


async def signed_in_cookie(web: WebHarness) -> tuple[str, str]:
    token = await web.token("grace", ["product-lead"], "Grace Okafor")
    await web.sign_in(token)
    assert (await web.http.get("/", headers=HTML)).status_code == 200
    return token, web.http.cookies[COOKIE_NAME]


def with_cookie(web: WebHarness, value: str) -> None:
    web.http.cookies.clear()
    web.http.cookies.set(COOKIE_NAME, value, domain="lifecycle.test")


async def is_signed_out(web: WebHarness) -> bool:
    response = await web.http.get("/", headers=HTML)
    return response.status_code == 303 and response.headers["location"].startswith("/signin")


async def test_the_cookie_does_not_carry_the_api_token_readably(web: WebHarness) -> None:
    token, cookie = await signed_in_cookie(web)
    secret_part = token.split("_", 2)[2]  # lc_<id>_<secret>; the secret may hold "_" itself
    assert len(secret_part) == 43  # 32 random bytes, URL-safe base64
    assert token not in cookie
    assert secret_part not in cookie
    for encoded in (base64.urlsafe_b64encode, base64.b64encode):
        assert encoded(token.encode()).decode().rstrip("=")[:16] not in cookie
    padded = cookie + "=" * (-len(cookie) % 4)
    assert token.encode() not in base64.urlsafe_b64decode(padded)
    # It is there, encrypted under the key derived from the session secret.
    opened = json.loads(Fernet(session_key(SECRET)).decrypt(cookie.encode()))
    assert opened["t"] == token


async def test_a_cookie_changed_anywhere_signs_you_out(web: WebHarness) -> None:
    _, cookie = await signed_in_cookie(web)
    middle = len(cookie) // 2
    flipped = cookie[:middle] + ("A" if cookie[middle] != "A" else "B") + cookie[middle + 1 :]
    with_cookie(web, flipped)
    assert await is_signed_out(web)


async def test_a_cookie_sealed_with_another_secret_signs_you_out(web: WebHarness) -> None:
    token, _ = await signed_in_cookie(web)
    payload = json.dumps({"c": "csrf", "t": token, "n": None}).encode()
    forged = Fernet(session_key("a-guessed-secret")).encrypt(payload).decode()
    with_cookie(web, forged)
    assert await is_signed_out(web)
    genuine = Fernet(session_key(SECRET)).encrypt(payload).decode()
    with_cookie(web, genuine)
    assert not await is_signed_out(web)  # the same payload under the real key is a session


async def test_a_cookie_older_than_a_session_lasts_signs_you_out(web: WebHarness) -> None:
    token, _ = await signed_in_cookie(web)
    payload = json.dumps({"c": "csrf", "t": token, "n": None}).encode()
    sealed_at = int(time.time()) - SESSION_MAX_AGE - 60
    stale = Fernet(session_key(SECRET)).encrypt_at_time(payload, sealed_at).decode()
    with_cookie(web, stale)
    assert await is_signed_out(web)


async def test_the_key_is_derived_for_the_session_and_differs_by_secret() -> None:
    assert session_key(SECRET) == session_key(SECRET)
    assert session_key(SECRET) != session_key(SECRET + "x")
