from domain.events import ProductRegistered
from domain.identity import ActorRef
from domain.refusals import RefusalKind
from domain.stages import Stage
from domain.state import ProductState
from tests.domain.dsl import (
    GRACE,
    NOW,
    PRODUCT_ID,
    approve,
    evidence,
    given,
    go,
    kill,
    measure,
    playbook,
    refusal,
    register,
    reopen,
    request_review,
    then,
    tick,
    when,
)


def test_registering_records_the_product_and_pins_the_whole_playbook() -> None:
    pb = playbook(version=3)

    events = when(ProductState(), register(pb))

    assert events == [
        ProductRegistered(
            event_id="id-1",
            product_id=PRODUCT_ID,
            occurred_at=NOW,
            actor=ActorRef(subject="ada", display_name="Ada Lovelace", role=None),
            name="Widget",
            description="A widget for testing",
            owner="ada",
            owner_name="Ada Lovelace",
            stage=Stage.DISCOVERY,
            playbook=pb,
            playbook_fingerprint=pb.fingerprint(),
        )
    ]
    registered = events[0]
    assert isinstance(registered, ProductRegistered)
    assert (registered.playbook.name, registered.playbook.version) == ("test", 3)


def test_a_registered_product_starts_in_discovery_working_toward_the_discovery_gate() -> None:
    pb = playbook()

    state = then(ProductState(), register(pb))

    assert state.is_registered
    assert state.product_id == PRODUCT_ID
    assert (state.owner, state.owner_name) == ("ada", "Ada Lovelace")
    assert state.stage is Stage.DISCOVERY
    assert state.stage_entered_at == NOW
    assert [visit.stage for visit in state.history] == [Stage.DISCOVERY]
    assert state.playbook == pb
    assert state.playbook_fingerprint == pb.fingerprint()
    assert state.progress is not None
    assert state.progress.gate is Stage.DISCOVERY
    assert state.current_gate() == pb.exit_gate(Stage.DISCOVERY)
    assert state.version == 1
    assert not state.is_terminal


def test_a_product_cannot_be_registered_twice() -> None:
    state = given(register(playbook()))

    refused = refusal(state, register(playbook(version=2)))

    assert refused.rule == "product.already_registered"
    assert refused.kind is RefusalKind.CONFLICT
    assert f"'{PRODUCT_ID}'" in refused.message
    assert "already registered" in refused.message


def test_every_command_on_an_unregistered_product_is_refused_as_not_found() -> None:
    for command in (
        evidence("interview"),
        tick("item"),
        reopen("item"),
        measure("nps", 10),
        request_review(),
        approve(GRACE, "gatekeeper"),
        go(),
        kill(),
    ):
        refused = refusal(ProductState(), command)
        assert refused.rule == "product.not_registered", command
        assert refused.kind is RefusalKind.NOT_FOUND
        assert "not registered" in refused.message
