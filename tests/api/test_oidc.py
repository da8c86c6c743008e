"""Single sign-on: JWTs from the configured issuer sign people in with the roles in a claim."""

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from api.app import create_app
from api.oidc import OidcVerifier
from tests.api.conftest import ApiHarness

ISSUER = "https://login.example.com/"
AUDIENCE = "lifecycle"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest_asyncio.fixture(loop_scope="session")
async def sso(api: ApiHarness, signing_key: rsa.RSAPrivateKey) -> AsyncIterator[httpx.AsyncClient]:
    public = RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    keys = jwt.PyJWKSet.from_dict({"keys": [{**public, "kid": "k1", "alg": "RS256"}]})
    api.services.oidc = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)
    transport = httpx.ASGITransport(app=create_app(api.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://lifecycle.test") as http:
        yield http


def token(key: rsa.RSAPrivateKey, **overrides: Any) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "okta|grace",
        "name": "Grace Hopper",
        "roles": ["product-lead", "Not A Role"],
        "exp": int(time.time()) + 300,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


async def test_a_valid_token_signs_in_with_its_subject_name_and_valid_roles(
    sso: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    response = await sso.get("/me", headers={"Authorization": f"Bearer {token(signing_key)}"})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": "okta|grace",
        "display_name": "Grace Hopper",
        "roles": ["product-lead"],
        "disabled": False,
    }


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"exp": int(time.time()) - 60}, "auth.token_expired"),
        ({"aud": "someone-else"}, "auth.token_invalid"),
        ({"iss": "https://evil.example.com/"}, "auth.token_invalid"),
    ],
)
async def test_a_token_with_the_wrong_expiry_audience_or_issuer_is_refused(
    sso: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey, overrides: dict[str, Any], rule: str
) -> None:
    response = await sso.get(
        "/me", headers={"Authorization": f"Bearer {token(signing_key, **overrides)}"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["rule"] == rule


async def test_a_token_signed_by_another_key_is_refused(sso: httpx.AsyncClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = await sso.get("/me", headers={"Authorization": f"Bearer {token(stranger)}"})

    assert response.status_code == 401
    assert response.json()["error"]["rule"] == "auth.token_invalid"


async def test_api_tokens_still_work_when_single_sign_on_is_on(
    api: ApiHarness, sso: httpx.AsyncClient
) -> None:
    headers = await api.person("robot", ["product-manager"])

    response = await sso.get("/me", headers=headers)

    assert response.json()["subject"] == "robot"
