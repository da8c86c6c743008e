"""Out-of-office delegations: a person who holds a role lets another sign in it for a period.

The caller is always the principal: the token says who delegates, the body only whom to, which
role and until when. The store (`store.delegations`) holds the rules; this module maps its
refusals onto the API's error model:

* 403 `delegation.role_not_held`: you do not hold the role you try to delegate;
  403 `delegation.principal_unknown`: you have no user record here (signed in through OIDC
  only), so there is nobody to delegate for; 403 `delegation.revoke_forbidden`: only the
  principal or an admin revokes;
* 404 `user.not_found` (the delegate), `delegation.not_found`;
* 409 `delegation.overlaps` (the message names the delegation in the way), `user.disabled`;
* 422 `request.invalid` with the field at fault (`body.ends_at`, `body.starts_at`,
  `body.delegate` for delegating to yourself), like every other bad input.
"""

from datetime import datetime
from typing import Annotated, NoReturn

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, Field

from api.auth import ADMIN_ROLE, Caller, Services, require_role
from api.errors import ApiRefusal
from api.routes.products import REFUSALS
from api.schemas import LongText, _Input
from api.services import ApiServices
from domain.identity import RoleName, Subject
from store.delegations import (
    DelegateNotFound,
    DelegationInvalid,
    DelegationNotFound,
    DelegationOverlaps,
    DelegationRecord,
    DelegationRevokeForbidden,
    DelegationState,
    DelegationStore,
    DelegationUserDisabled,
    PrincipalNotFound,
    RoleNotHeld,
)

router = APIRouter(tags=["delegations"])
DelegationIdPath = Annotated[str, Path(min_length=1, max_length=64)]


class DelegationIn(_Input):
    delegate: Subject = Field(description="Subject of the person who may sign for you.")
    role: RoleName = Field(description="One of your roles, which they may sign in.")
    starts_at: AwareDatetime | None = Field(
        default=None, description="When it begins (included); default: now. Not in the past."
    )
    ends_at: AwareDatetime = Field(description="When it ends (excluded); in the future.")
    reason: LongText = Field(default="", description="Why, e.g. 'on leave until the 14th'.")


class DelegationOut(BaseModel):
    delegation_id: str
    principal: str
    principal_name: str
    delegate: str
    delegate_name: str
    role: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    state: DelegationState = Field(description="At the time of the answer.")


class DelegationList(BaseModel):
    subject: str
    given: list[DelegationOut] = Field(description="Delegations this person gave, by start.")
    received: list[DelegationOut] = Field(description="Delegations they received, by start.")


def _store(services: ApiServices) -> DelegationStore:
    if services.delegations is None:
        raise ApiRefusal(503, "service.unavailable", "delegations are not configured here")
    return services.delegations


def _out(record: DelegationRecord, services: ApiServices) -> DelegationOut:
    return DelegationOut(**record.model_dump(), state=record.state_at(services.clock()))


def _invalid(error: DelegationInvalid) -> NoReturn:
    """The same 422 as any other bad input, with the field at fault."""
    raise RequestValidationError(
        [{"loc": ("body", error.field), "msg": error.message, "type": "value_error"}]
    ) from None


@router.post("/delegations", status_code=201, responses=REFUSALS)
async def grant_delegation(body: DelegationIn, caller: Caller, services: Services) -> DelegationOut:
    """Let someone sign in one of your roles while you are away. You are the principal."""
    store = _store(services)
    if not caller.holds(body.role):
        raise ApiRefusal(
            403,
            "delegation.role_not_held",
            f"{caller.display_name} does not hold role '{body.role}', so cannot delegate it",
        )
    now = services.clock()
    try:
        record = await store.grant_record(
            caller.subject,
            body.delegate,
            body.role,
            starts_at=body.starts_at or now,
            ends_at=body.ends_at,
            reason=body.reason,
            now=now,
        )
    except DelegationInvalid as error:
        _invalid(error)
    except RoleNotHeld as error:
        raise ApiRefusal(403, "delegation.role_not_held", str(error)) from None
    except PrincipalNotFound:
        raise ApiRefusal(
            403,
            "delegation.principal_unknown",
            f"'{caller.subject}' has no user record here; an admin must add you before you "
            "can delegate",
        ) from None
    except DelegateNotFound:
        raise ApiRefusal(
            404, "user.not_found", f"no user '{body.delegate}' to delegate to"
        ) from None
    except DelegationUserDisabled as error:
        raise ApiRefusal(
            409, "user.disabled", f"user '{error.subject}' ({error.party}) is disabled"
        ) from None
    except DelegationOverlaps as error:
        raise ApiRefusal(409, "delegation.overlaps", str(error)) from None
    return _out(record, services)


@router.get("/delegations", responses=REFUSALS)
async def list_delegations(
    caller: Caller,
    services: Services,
    subject: Annotated[
        str | None,
        Query(max_length=128, description="Whose delegations (admins only); default: yours."),
    ] = None,
    include_past: Annotated[
        bool, Query(description="Also those that ended or were revoked.")
    ] = False,
) -> DelegationList:
    """The delegations you gave and received: current and scheduled ones, or all."""
    store = _store(services)
    whose = caller.subject if subject is None else subject
    if whose != caller.subject:
        require_role(caller, ADMIN_ROLE)
        if await services.identity.get_user(whose) is None:
            raise ApiRefusal(404, "user.not_found", f"no user '{whose}'")
    records = await store.list_for(whose, now=services.clock(), include_past=include_past)
    return DelegationList(
        subject=whose,
        given=[_out(r, services) for r in records if r.principal == whose],
        received=[_out(r, services) for r in records if r.delegate == whose],
    )


@router.post("/delegations/{delegation_id}/revoke", responses=REFUSALS)
async def revoke_delegation(
    delegation_id: DelegationIdPath, caller: Caller, services: Services
) -> DelegationOut:
    """End a delegation now: its principal or an admin. Revoking twice keeps the first."""
    store = _store(services)
    try:
        record = await store.revoke(
            delegation_id,
            by=caller.subject,
            now=services.clock(),
            by_admin=caller.holds(ADMIN_ROLE),
        )
    except DelegationNotFound:
        raise ApiRefusal(404, "delegation.not_found", f"no delegation '{delegation_id}'") from None
    except DelegationRevokeForbidden as error:
        raise ApiRefusal(403, "delegation.revoke_forbidden", str(error)) from None
    except DelegationInvalid as error:
        _invalid(error)
    return _out(record, services)
