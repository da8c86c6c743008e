"""A sunset plan: why, the end-of-life date, how customers are told and moved, and the
communications the playbook schedules before that date. Pure values; the rules live in
`domain.rules.sunset`."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.identity import ActorRef
from domain.playbook_sections import Audience, SunsetPolicy


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduledCommunication(_Frozen):
    key: str
    title: str
    audience: Audience
    recipient_roles: tuple[str, ...]
    send_at: datetime
    sent_at: datetime | None = None


class SunsetPlan(_Frozen):
    reason: str
    end_of_life: datetime
    communication_plan: str
    transition_plan: str
    communications: tuple[ScheduledCommunication, ...]
    proposed_by: ActorRef
    proposed_at: datetime
    retry_at: datetime | None = None  # set when retirement was deferred by the exit checklist

    @property
    def retire_at(self) -> datetime:
        return self.retry_at or self.end_of_life

    def due_communications(self, now: datetime) -> list[ScheduledCommunication]:
        return [c for c in self.communications if c.sent_at is None and c.send_at <= now]

    def next_communication_at(self) -> datetime | None:
        pending = [c.send_at for c in self.communications if c.sent_at is None]
        return min(pending) if pending else None


def schedule(policy: SunsetPolicy, end_of_life: datetime) -> tuple[ScheduledCommunication, ...]:
    return tuple(
        ScheduledCommunication(
            key=c.key,
            title=c.title,
            audience=c.audience,
            recipient_roles=c.recipient_roles,
            send_at=end_of_life - c.before_end_of_life,
        )
        for c in sorted(policy.communications, key=lambda c: -c.before_end_of_life)
    )
