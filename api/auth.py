"""Who is calling. The client never states its own identity; the token does."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiRefusal
from api.services import ApiServices
from domain.identity import Actor
from store.identity import TokenRejected

ADMIN_ROLE = "admin"
_bearer = HTTPBearer(auto_error=False, description="An API token (lc_...) or an OIDC JWT.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def services_of(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(services_of)]


async def authenticated_actor(
    request: Request,
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or not credentials.credentials:
        raise ApiRefusal(
            401, "auth.missing_token", "sign in: send Authorization: Bearer <token>", _CHALLENGE
        )
    token = credentials.credentials
    if token.startswith("lc_") or services.oidc is None:
        try:
            user = await services.identity.authenticate(token, now=services.clock())
        except TokenRejected as rejected:
            raise ApiRefusal(
                401, f"auth.token_{rejected.reason}", str(rejected), _CHALLENGE
            ) from None
        actor = Actor(subject=user.subject, display_name=user.display_name, roles=user.roles)
    else:
        actor = await services.oidc.verify(token)
    request.state.subject = actor.subject
    return actor


Caller = Annotated[Actor, Depends(authenticated_actor)]


def require_role(actor: Actor, *roles: str) -> None:
    if not any(actor.holds(role) for role in roles):
        wanted = " or ".join(repr(r) for r in roles)
        raise ApiRefusal(
            403, "auth.role_required", f"this needs role {wanted}; {actor.display_name} holds none"
        )
