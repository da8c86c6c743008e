"""The product page's forms for meeting a Conditional Go's conditions and revoking one's own
sign-off, over httpx: what they change, and refusals shown next to the form with the rule."""

import re

from domain.commands import DecideGate, GateOutcome, GiveSignOff, Verdict
from domain.identity import Actor
from tests.support.journey import OWNER
from tests.web.conftest import WebHarness, csrf_of

HTML = {"Accept": "text/html"}
GRACE = Actor(subject="grace", display_name="Grace Okafor", roles=("product-lead",))
CONDITION = "Sign the data processing agreement"


async def approved_by_grace(web: WebHarness, product_id: str) -> None:
    await web.product_in_review(product_id)
    await web.services.products.execute(
        product_id,
        GiveSignOff(actor=GRACE, role="product-lead", verdict=Verdict.APPROVE, reason="sound"),
    )


async def conditionally_passed(web: WebHarness, product_id: str) -> str:
    """Passes discovery with one condition; returns the condition's id."""
    await approved_by_grace(web, product_id)
    await web.services.products.execute(
        product_id,
        DecideGate(
            actor=GRACE,
            outcome=GateOutcome.CONDITIONAL_GO,
            reason="go, once legal has signed",
            conditions=(CONDITION,),
        ),
    )
    state = (await web.services.products.view(product_id)).state
    return state.conditions[0].condition_id


async def signed_in_as(web: WebHarness, person: Actor) -> None:
    await web.sign_in(await web.token(person.subject, person.roles, person.display_name))


def refusal_in(html: str, slot_class: str) -> str:
    """The text of the refusal shown inside the element with `slot_class`, or ''."""
    found = re.search(
        rf'class="[^"]*{slot_class}[^"]*"[^>]*>.*?<p class="refusal"[^>]*>(.*?)</p>', html, re.S
    )
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


async def test_the_product_owner_marks_a_condition_met_from_the_product_page(
    web: WebHarness, product_id: str
) -> None:
    condition_id = await conditionally_passed(web, product_id)
    await signed_in_as(web, OWNER)
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert CONDITION in page.text
    assert 'class="row meet-form"' in page.text
    met = await web.http.post(
        f"/ui/products/{product_id}/conditions",
        data={"csrf_token": csrf_of(page.text), "condition_id": condition_id, "note": "signed"},
        headers=HTML,
    )
    assert met.status_code == 303
    after = (await web.http.get(met.headers["location"], headers=HTML)).text
    assert "Condition recorded as met." in after
    assert "met by Ada Lovelace" in after
    assert "meet-form" not in after
    state = (await web.services.products.view(product_id)).state
    assert state.conditions[0].met_by is not None


async def test_someone_other_than_the_owner_is_refused_next_to_the_condition(
    web: WebHarness, product_id: str
) -> None:
    condition_id = await conditionally_passed(web, product_id)
    await signed_in_as(web, GRACE)
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert "meet-form" not in page.text  # only the owner is offered the form
    assert "The product owner, Ada Lovelace, records it as met." in page.text
    refused = await web.http.post(
        f"/ui/products/{product_id}/conditions",
        data={"csrf_token": csrf_of(page.text), "condition_id": condition_id},
        headers=HTML,
    )
    assert refused.status_code == 403
    message = refusal_in(refused.text, "condition")
    assert "condition.not_product_owner" in message
    assert "only the product owner (Ada Lovelace) records a condition as met" in message
    state = (await web.services.products.view(product_id)).state
    assert state.conditions[0].met_by is None


async def test_an_unknown_condition_is_refused_at_the_top_of_the_page(
    web: WebHarness, product_id: str
) -> None:
    await conditionally_passed(web, product_id)
    await signed_in_as(web, OWNER)
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    refused = await web.http.post(
        f"/ui/products/{product_id}/conditions",
        data={"csrf_token": csrf_of(page.text), "condition_id": "no-such-condition"},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert "condition.unknown" in refused.text
    assert refusal_in(refused.text, "condition") == ""


async def test_a_signer_revokes_their_sign_off_with_a_reason_and_the_gate_waits_again(
    web: WebHarness, product_id: str
) -> None:
    await approved_by_grace(web, product_id)
    await signed_in_as(web, GRACE)
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert "Revoke your sign-off" in page.text
    revoked = await web.http.post(
        f"/ui/products/{product_id}/revoke",
        data={"csrf_token": csrf_of(page.text), "reason": "the interviews were with staff"},
        headers=HTML,
    )
    assert revoked.status_code == 303
    after = (await web.http.get(revoked.headers["location"], headers=HTML)).text
    assert "Your sign-off is revoked" in after
    assert "Revoke your sign-off" not in after
    assert 'class="revoked"' in after
    assert "product-lead</strong>: 0 of 1 approval" in after
    assert "the interviews were with staff" in after  # in the trail
    state = (await web.services.products.view(product_id)).state
    review = state.progress.review if state.progress else None
    assert review is not None
    assert review.sign_offs == ()


async def test_revoking_without_a_reason_is_refused_next_to_the_revoke_form(
    web: WebHarness, product_id: str
) -> None:
    await approved_by_grace(web, product_id)
    await signed_in_as(web, GRACE)
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    refused = await web.http.post(
        f"/ui/products/{product_id}/revoke",
        data={"csrf_token": csrf_of(page.text), "reason": "  "},
        headers=HTML,
    )
    assert refused.status_code == 422
    message = refusal_in(refused.text, "revoke-form")
    assert "signoff.reason_required" in message
    assert "revoking a sign-off needs a reason" in message
    state = (await web.services.products.view(product_id)).state
    review = state.progress.review if state.progress else None
    assert review is not None
    assert len(review.sign_offs) == 1


async def test_someone_who_has_not_signed_has_nothing_to_revoke(
    web: WebHarness, product_id: str
) -> None:
    await approved_by_grace(web, product_id)
    await signed_in_as(web, OWNER)
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert "Revoke your sign-off" not in page.text
    refused = await web.http.post(
        f"/ui/products/{product_id}/revoke",
        data={"csrf_token": csrf_of(page.text), "reason": "changed my mind"},
        headers=HTML,
    )
    assert refused.status_code == 409
    assert "signoff.nothing_to_revoke" in refused.text
    assert "Ada Lovelace has no sign-off in review round 1" in refused.text
