"""Optional single sign-on: bearer JWTs from a configured issuer, verified against its JWKS."""

import asyncio
import re
from typing import Any

import jwt

from api.errors import ApiRefusal
from domain.identity import Actor

_ROLE = re.compile(r"^[a-z][a-z0-9-]{0,47}$")
_UNAUTHORISED = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class OidcVerifier:
    """Maps a verified token to an Actor: `sub` is the subject, a claim lists the roles."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: jwt.PyJWKClient | jwt.PyJWKSet,
        roles_claim: str = "roles",
        name_claim: str = "name",
        algorithms: tuple[str, ...] = ("RS256", "ES256", "PS256", "EdDSA"),
    ) -> None:
        self._issuer, self._audience, self._keys = issuer, audience, keys
        self._roles_claim, self._name_claim, self._algorithms = roles_claim, name_claim, algorithms

    async def verify(self, token: str) -> Actor:
        try:
            key = await asyncio.to_thread(self._signing_key, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(self._algorithms),
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiRefusal(
                401, "auth.token_expired", "the sign-in token has expired", _UNAUTHORISED
            ) from None
        except (jwt.PyJWTError, ValueError) as error:
            raise ApiRefusal(
                401, "auth.token_invalid", f"the sign-in token is not valid: {error}", _UNAUTHORISED
            ) from None
        roles = claims.get(self._roles_claim, [])
        if not isinstance(roles, list):
            roles = []
        subject = str(claims["sub"])[:128]
        name = str(claims.get(self._name_claim) or subject)[:128]
        return Actor(
            subject=subject,
            display_name=name,
            roles=tuple(sorted({r for r in roles if isinstance(r, str) and _ROLE.match(r)})),
        )

    def _signing_key(self, token: str) -> Any:
        if isinstance(self._keys, jwt.PyJWKClient):
            return self._keys.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        for candidate in self._keys.keys:
            if kid is None or candidate.key_id == kid:
                return candidate.key
        raise ValueError(f"no key with id {kid!r} in the issuer's key set")
