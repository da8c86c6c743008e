"""What operators filter products by in the Temporal UI and `list_workflows`.

The product workflow upserts these search attributes whenever they change, so a query such as
`LifecycleStage = 'launch' AND LifecycleStatus = 'in_review'` finds products without reading
our database. A namespace must register them before any workflow upserts them: an unknown
attribute fails the workflow task on every retry, so callers check first
(`require_search_attributes`) and start products with publishing switched on only then.
"""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.service import RPCError

from domain.state import ProductState

LIFECYCLE_STAGE = SearchAttributeKey.for_keyword("LifecycleStage")
LIFECYCLE_STATUS = SearchAttributeKey.for_keyword("LifecycleStatus")
LIFECYCLE_OWNER = SearchAttributeKey.for_keyword("LifecycleOwner")
SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[str], ...] = (
    LIFECYCLE_STAGE,
    LIFECYCLE_STATUS,
    LIFECYCLE_OWNER,
)


class SearchAttributesMissing(RuntimeError):
    """The namespace lacks our search attributes; starting products would leave them stuck."""


def status_of(state: ProductState) -> str:
    """One word for where the product stands: the filter operators ask for most."""
    if state.stage is not None and state.is_terminal:
        return state.stage.value
    if state.on_hold:
        return "on_hold"
    if state.progress is not None and state.progress.review is not None:
        return "in_review"
    return "active"


def visibility_of(state: ProductState) -> dict[str, str]:
    """The attribute values for a state, by attribute name; empty before registration."""
    if not state.is_registered or state.stage is None:
        return {}
    return {
        LIFECYCLE_STAGE.name: state.stage.value,
        LIFECYCLE_STATUS.name: status_of(state),
        LIFECYCLE_OWNER.name: state.owner,
    }


def updates_between(
    published: dict[str, str], wanted: dict[str, str]
) -> list[SearchAttributeUpdate[str]]:
    """Only what changed, so an unchanged state adds nothing to the history."""
    keys = {key.name: key for key in SEARCH_ATTRIBUTES}
    return [
        keys[name].value_set(value)
        for name, value in wanted.items()
        if published.get(name) != value
    ]


def dev_server_flags() -> list[str]:
    """`temporal server start-dev` arguments that register our attributes at start."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags


async def require_search_attributes(client: Client, namespace: str) -> None:
    """Fails clearly, naming what is missing and how to add it, unless every attribute is
    registered as a Keyword in the namespace."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as error:
        raise SearchAttributesMissing(
            f"cannot list search attributes of namespace '{namespace}' ({error.message}); "
            "register LifecycleStage, LifecycleStatus and LifecycleOwner (Keyword) yourself "
            "and grant the list permission, or set LIFECYCLE_SEARCH_ATTRIBUTES=false"
        ) from error
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    missing = [
        key.name for key in SEARCH_ATTRIBUTES if listed.custom_attributes.get(key.name) != keyword
    ]
    if missing:
        commands = "; ".join(
            f"temporal operator search-attribute create --namespace {namespace} "
            f"--name {name} --type Keyword"
            for name in missing
        )
        raise SearchAttributesMissing(
            f"namespace '{namespace}' lacks the Keyword search attribute(s) "
            f"{', '.join(missing)}: register them ({commands}) "
            "or set LIFECYCLE_SEARCH_ATTRIBUTES=false"
        )
