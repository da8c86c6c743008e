"""Two versions of the default playbook, for the tests of moving products between them."""

from typing import Any

from domain.playbook import Playbook
from playbooks import load_default_playbook


def with_more_interviews(playbook: Playbook) -> Playbook:
    """The next version: discovery asks for eight customer interviews instead of five."""
    document: dict[str, Any] = playbook.model_dump(mode="json")
    document["version"] = playbook.version + 1
    for requirement in document["stages"][0]["exit_gate"]["evidence"]:
        if requirement["key"] == "customer-interview":
            requirement["min_count"] = 8
    return Playbook.model_validate(document)


V1 = load_default_playbook()
V2 = with_more_interviews(V1)
