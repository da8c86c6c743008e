"""People, roles and API tokens. Admins manage them; everyone may ask who they are."""

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import ADMIN_ROLE, Caller, Services, require_role
from api.errors import ApiRefusal
from api.routes.products import REFUSALS
from api.schemas import TokenIn, TokenIssued, TokenOut, UserIn, UserOut, UserPatch
from store.identity import (
    TokenInfo,
    TokenNotFound,
    User,
    UserDisabled,
    UserExists,
    UserNotFound,
)

router = APIRouter(tags=["identity"])
SubjectPath = Annotated[str, Path(min_length=1, max_length=128)]
TokenIdPath = Annotated[str, Path(min_length=1, max_length=64)]


@contextlib.contextmanager
def _identity_input() -> Iterator[None]:
    """The identity store refuses bad names and roles with ValueError; that is the client's
    input, so it answers 422 rather than failing the request."""
    try:
        yield
    except ValueError as error:
        raise ApiRefusal(422, "request.invalid", str(error)) from None


def _user(user: User) -> UserOut:
    return UserOut(
        subject=user.subject,
        display_name=user.display_name,
        roles=list(user.roles),
        disabled=user.disabled,
    )


def _token(info: TokenInfo) -> TokenOut:
    return TokenOut.model_validate(info.model_dump(), from_attributes=True)


@router.get("/me", responses=REFUSALS)
async def who_am_i(caller: Caller) -> UserOut:
    return UserOut(
        subject=caller.subject,
        display_name=caller.display_name,
        roles=list(caller.roles),
        disabled=False,
    )


@router.get("/users", responses=REFUSALS)
async def list_users(caller: Caller, services: Services) -> list[UserOut]:
    require_role(caller, ADMIN_ROLE)
    return [_user(u) for u in await services.identity.list_users()]


@router.post("/users", status_code=201, responses=REFUSALS)
async def add_user(body: UserIn, caller: Caller, services: Services) -> UserOut:
    require_role(caller, ADMIN_ROLE)
    try:
        with _identity_input():
            user = await services.identity.add_user(body.subject, body.display_name, body.roles)
    except UserExists:
        raise ApiRefusal(409, "user.exists", f"user '{body.subject}' already exists") from None
    return _user(user)


@router.get("/users/{subject:path}", responses=REFUSALS)
async def show_user(subject: SubjectPath, caller: Caller, services: Services) -> UserOut:
    if subject != caller.subject:
        require_role(caller, ADMIN_ROLE)
    user = await services.identity.get_user(subject)
    if user is None:
        raise ApiRefusal(404, "user.not_found", f"no user '{subject}'")
    return _user(user)


@router.patch("/users/{subject:path}", responses=REFUSALS)
async def change_user(
    subject: SubjectPath, body: UserPatch, caller: Caller, services: Services
) -> UserOut:
    require_role(caller, ADMIN_ROLE)
    try:
        with _identity_input():
            if body.roles is not None:
                await services.identity.set_roles(subject, body.roles)
            if body.disabled is not None:
                await services.identity.set_disabled(subject, body.disabled)
    except UserNotFound:
        raise ApiRefusal(404, "user.not_found", f"no user '{subject}'") from None
    with _identity_input():
        user = await services.identity.get_user(subject)
    if user is None:
        raise ApiRefusal(404, "user.not_found", f"no user '{subject}'")
    return _user(user)


@router.post("/tokens", status_code=201, responses=REFUSALS)
async def create_token(body: TokenIn, caller: Caller, services: Services) -> TokenIssued:
    """Issue a token; its secret is shown in this answer only. Admins issue for anyone, others
    for themselves."""
    if body.subject != caller.subject:
        require_role(caller, ADMIN_ROLE)
    now = services.clock()
    try:
        with _identity_input():
            issued = await services.identity.create_token(
                body.subject,
                label=body.label,
                expires_at=now + timedelta(days=body.expires_in_days),
                now=now,
            )
    except UserNotFound:
        raise ApiRefusal(404, "user.not_found", f"no user '{body.subject}'") from None
    except UserDisabled:
        raise ApiRefusal(
            409, "user.disabled", f"user '{body.subject}' is disabled; enable them first"
        ) from None
    return TokenIssued.model_validate(issued.model_dump())


@router.get("/tokens", responses=REFUSALS)
async def list_tokens(
    caller: Caller,
    services: Services,
    subject: Annotated[str | None, Query(max_length=128)] = None,
) -> list[TokenOut]:
    """Your own tokens; an admin may name anyone's subject, or leave it out to see all."""
    if subject is None and not caller.holds(ADMIN_ROLE):
        subject = caller.subject
    if subject != caller.subject:
        require_role(caller, ADMIN_ROLE)
    with _identity_input():
        tokens = await services.identity.list_tokens(subject)
    return [_token(t) for t in tokens]


@router.post("/tokens/{token_id}/revoke", responses=REFUSALS)
async def revoke_token(token_id: TokenIdPath, caller: Caller, services: Services) -> TokenOut:
    tokens = {t.token_id: t for t in await services.identity.list_tokens(None)}
    token = tokens.get(token_id)
    if token is None:
        raise ApiRefusal(404, "token.not_found", f"no token '{token_id}'")
    if token.subject != caller.subject:
        require_role(caller, ADMIN_ROLE)
    try:
        return _token(await services.identity.revoke_token(token_id, now=services.clock()))
    except TokenNotFound:
        raise ApiRefusal(404, "token.not_found", f"no token '{token_id}'") from None
