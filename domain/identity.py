"""Who acts. The domain never authenticates; it trusts the actor it is given and checks roles."""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

# Control characters have no place in a name or a sentence a person wrote, and some (NUL) no
# column of a read model can even hold. Free text may still break lines and use tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks, tabs, NUL...)")
    return value


def _printable_text(value: str) -> str:
    if _CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


RoleName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,47}$", min_length=1, max_length=48)
]
Subject = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, strip_whitespace=True),
    AfterValidator(_one_line),
]
DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, strip_whitespace=True),
    AfterValidator(_one_line),
]


class Actor(BaseModel):
    """An authenticated person (or the engine itself) and every role they hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Subject
    display_name: DisplayName
    roles: tuple[RoleName, ...] = ()

    def holds(self, role: str) -> bool:
        return role in self.roles


class ActorRef(BaseModel):
    """The attribution stamped on an event: who, under which printed name, in which role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Subject
    display_name: DisplayName
    role: RoleName | None = None


SYSTEM_ACTOR = Actor(subject="system:lifecycle", display_name="lifecycle engine", roles=())


def attribution(actor: Actor, role: str | None = None) -> ActorRef:
    return ActorRef(subject=actor.subject, display_name=actor.display_name, role=role)


Reason = Annotated[
    str, StringConstraints(max_length=2000, strip_whitespace=True), AfterValidator(_printable_text)
]
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
    AfterValidator(_one_line),
]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
ProductId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "ActorRef",
    "DisplayName",
    "Key",
    "ProductId",
    "Reason",
    "RoleName",
    "Subject",
    "Title",
    "attribution",
]
