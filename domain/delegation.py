"""Out-of-office delegation: a person lets another sign in one of their roles for a period.

Delegations live outside a product (a person is away from all of them); the edge that knows the
signed-in person looks the delegation up and hands it to `decide`, which checks it covers the
moment, the role and the person acting, and that it is not used to approve one's own request.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, model_validator

from domain.identity import DisplayName, Reason, RoleName, Subject


class Delegation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delegation_id: str
    principal: Subject  # the person who is away and on whose behalf the delegate signs
    principal_name: DisplayName
    delegate: Subject  # the person who acts
    role: RoleName
    starts_at: datetime
    ends_at: datetime
    reason: Reason = ""

    @model_validator(mode="after")
    def _period_is_forward(self) -> "Delegation":
        if self.ends_at <= self.starts_at:
            raise ValueError("a delegation must end after it starts")
        if self.principal == self.delegate:
            raise ValueError("a person cannot delegate to themselves")
        return self

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at
