"""Refusals are answers: each names the rule that refused and says why in plain words."""

from enum import StrEnum


class RefusalKind(StrEnum):
    """What kind of no this is, so every edge (HTTP, CLI, Temporal) can map it the same way."""

    INVALID = "invalid"  # the command is malformed or names something the playbook lacks
    CONFLICT = "conflict"  # the process does not allow it now
    FORBIDDEN = "forbidden"  # the actor lacks the role, or segregation of duties forbids it
    NOT_FOUND = "not_found"  # the product does not exist


class CommandRefused(Exception):
    def __init__(self, rule: str, message: str, kind: RefusalKind = RefusalKind.CONFLICT) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.kind = kind

    def __repr__(self) -> str:
        return f"CommandRefused(rule={self.rule!r}, kind={self.kind.value!r}, {self.message!r})"
