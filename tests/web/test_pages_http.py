"""The web pages over httpx: security headers, the session cookie, CSRF, sign-in, refusals."""

from datetime import timedelta

import httpx

from api.web.session import CONTENT_SECURITY_POLICY
from domain.identity import Actor
from tests.support.journey import register
from tests.web.conftest import WebHarness, csrf_of

HTML = {"Accept": "text/html"}


def assert_secured(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_every_page_answer_carries_the_security_headers(web: WebHarness) -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    signin = await web.http.get("/signin", headers=HTML)
    redirect = await web.http.get("/", headers=HTML)
    css = await web.http.get("/static/web.css")
    refused = await web.http.post("/signin", data={"token": "x"}, headers=HTML)
    for response in (signin, redirect, css, refused):
        assert_secured(response)
    assert "<script" not in signin.text
    assert " style=" not in signin.text


async def test_the_session_cookie_is_httponly_lax_and_secure_over_https(
    web: WebHarness,
) -> None:
    plain = await web.http.get("/signin", headers=HTML)
    cookie = plain.headers["set-cookie"].lower()
    assert "lifecycle_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    transport = httpx.ASGITransport(app=web.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://lifecycle.test") as tls:
        over_tls = await tls.get("/signin", headers=HTML)
    assert "secure" in over_tls.headers["set-cookie"].lower()


async def test_a_post_without_the_csrf_token_is_refused_with_a_403_page(web: WebHarness) -> None:
    await web.http.get("/signin", headers=HTML)
    response = await web.http.post("/signin", data={"token": "lc_x_y"}, headers=HTML)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "CSRF" in response.text
    assert_secured(response)


async def test_a_signed_in_post_without_csrf_changes_nothing(
    web: WebHarness, product_id: str
) -> None:
    owner = Actor(subject="pm-ada", display_name="Ada Lovelace", roles=("product-manager",))
    await web.product_in_review(product_id)
    await web.sign_in(await web.token(owner.subject, owner.roles, owner.display_name))
    before = await web.services.events.read_stream(f"product-{product_id}")
    forged = await web.http.post(
        f"/ui/products/{product_id}/review", data={"note": "forged"}, headers=HTML
    )
    other_site = await web.http.post(
        f"/ui/products/{product_id}/review",
        data={"note": "forged", "csrf_token": "not-the-one"},
        headers={**HTML, "Origin": "https://evil.example"},
    )
    assert (forged.status_code, other_site.status_code) == (403, 403)
    after = await web.services.events.read_stream(f"product-{product_id}")
    assert len(after) == len(before)


async def test_an_unknown_token_is_refused_on_the_sign_in_page(web: WebHarness) -> None:
    response = await web.sign_in("lc_nope_nope")
    assert response.status_code == 401
    assert "Sign-in refused" in response.text
    assert 'id="signin-problem"' in response.text
    follow = await web.http.get("/", headers=HTML)
    assert follow.status_code == 303


async def test_an_empty_token_is_asked_for_again(web: WebHarness) -> None:
    response = await web.sign_in("   ")
    assert response.status_code == 422
    assert "paste your API token" in response.text


async def test_signing_in_redirects_to_a_local_page_only(web: WebHarness) -> None:
    token = await web.token("grace", ["product-lead"], "Grace Okafor")
    page = await web.http.get("/signin?next=https://evil.example/", headers=HTML)
    assert 'value="/"' in page.text
    response = await web.http.post(
        "/signin",
        data={"token": token, "csrf_token": csrf_of(page.text), "next": "//evil.example"},
        headers=HTML,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    board = await web.http.get("/", headers=HTML)
    assert board.status_code == 200
    assert "Grace Okafor" in board.text


async def test_signing_in_issues_a_new_csrf_token_and_signing_out_ends_the_session(
    web: WebHarness,
) -> None:
    token = await web.token("grace", ["product-lead"], "Grace Okafor")
    before = csrf_of((await web.http.get("/signin", headers=HTML)).text)
    await web.sign_in(token)
    board = await web.http.get("/", headers=HTML)
    after = csrf_of(board.text)
    assert after != before
    out = await web.http.post("/signout", data={"csrf_token": after}, headers=HTML)
    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert (await web.http.get("/", headers=HTML)).status_code == 303


async def test_a_tampered_cookie_is_an_anonymous_session(web: WebHarness) -> None:
    await web.sign_in(await web.token("grace", ["product-lead"]))
    value = web.http.cookies["lifecycle_session"]
    web.http.cookies.clear()
    web.http.cookies.set("lifecycle_session", value[:-3] + "AAA", domain="lifecycle.test")
    response = await web.http.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


async def test_a_revoked_token_ends_the_session_at_once(web: WebHarness) -> None:
    token = await web.token("grace", ["product-lead"])
    await web.sign_in(token)
    assert (await web.http.get("/", headers=HTML)).status_code == 200
    info = (await web.identity.list_tokens("grace"))[0]
    await web.identity.revoke_token(info.token_id, now=web.clock.now)
    response = await web.http.get("/", headers=HTML)
    assert response.status_code == 303
    signin = await web.http.get(response.headers["location"], headers=HTML)
    assert "Your session ended" in signin.text


async def test_api_clients_still_get_json(web: WebHarness) -> None:
    page = await web.http.get("/")
    assert page.status_code == 401
    assert page.json()["error"]["rule"] == "auth.sign_in"
    token = await web.token("grace", ["product-lead"])
    bearer = {"Authorization": f"Bearer {token}"}
    missing = await web.http.get("/products/no-such-product", headers=bearer)
    assert missing.status_code == 404
    assert missing.json()["error"]["rule"] == "product.not_registered"
    assert (await web.http.get("/products", headers=bearer)).json() == {"products": []}
    unknown = await web.http.get("/no/such/path")
    assert unknown.json()["error"]["rule"] == "route.not_found"
    paths = (await web.http.get("/openapi.json")).json()["paths"]
    assert not any(p in paths for p in ("/", "/inbox", "/signin"))


async def test_the_requester_trying_to_approve_sees_the_rule_message(
    web: WebHarness, product_id: str
) -> None:
    owner = Actor(
        subject="pm-lead", display_name="Lee Both", roles=("product-manager", "product-lead")
    )
    await web.product_in_review(product_id, owner)
    await web.sign_in(await web.token(owner.subject, owner.roles, owner.display_name))
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert page.status_code == 200
    response = await web.http.post(
        f"/ui/products/{product_id}/signoffs",
        data={"csrf_token": csrf_of(page.text), "verdict": "approve", "role": "product-lead"},
        headers=HTML,
    )
    assert response.status_code == 403
    assert "signoff.self_approval" in response.text
    assert "Lee Both requested this review of gate" in response.text
    assert "may not sign it" in response.text


async def test_the_product_page_shows_criteria_missing_sign_offs_and_the_trail(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "Opportunity validated" in text
    assert "5 of 5 customer interviews logged" in text
    assert "0 of 1 approvals from product-lead" in text
    assert "Missing" in text
    assert "Gate review requested" in text
    assert "please sign" in text
    assert "Ada Lovelace" in text
    unknown = await web.http.get("/ui/products/no-such-product", headers=HTML)
    assert unknown.status_code == 404
    assert "No product" in unknown.text


async def test_forms_on_the_product_page_change_the_product(
    web: WebHarness, product_id: str
) -> None:
    owner = Actor(subject="pm-ada", display_name="Ada Lovelace", roles=("product-manager",))
    await web.services.products.register(register(product_id, web.playbook))
    await web.sign_in(await web.token(owner.subject, owner.roles, owner.display_name))
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    csrf = csrf_of(page.text)
    evidence = await web.http.post(
        f"/ui/products/{product_id}/evidence",
        data={
            "csrf_token": csrf,
            "requirement": "customer-interview",
            "title": "Call with Acme",
            "uri": "javascript:alert(1)",
        },
        headers=HTML,
    )
    assert evidence.status_code == 303
    assert "Evidence added." in (await web.http.get(evidence.headers["location"])).text
    tick = await web.http.post(
        f"/ui/products/{product_id}/checklist",
        data={"csrf_token": csrf, "item": "personas-drafted", "action": "done"},
        headers=HTML,
    )
    assert tick.status_code == 303
    early = await web.http.post(
        f"/ui/products/{product_id}/review", data={"csrf_token": csrf}, headers=HTML
    )
    assert early.status_code == 409  # criteria unmet: the domain's message is shown
    assert "Refused" in early.text
    page = await web.http.get(f"/ui/products/{product_id}", headers=HTML)
    assert "1 of 5 customer interviews logged" in page.text
    assert "Call with Acme" in page.text
    assert 'href="javascript:' not in page.text


async def test_the_board_filters_by_status_and_owner_and_draws_the_stage_chart(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    await web.services.products.register(register(f"{product_id}-b", web.playbook))
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    board = (await web.http.get("/", headers=HTML)).text
    assert board.count('class="card status-') == 2
    assert 'data-product="' + product_id + '"' in board
    assert "awaiting sign-off" in board
    assert '<svg role="img"' in board
    assert board.count('class="bar"') == 7
    assert '<desc id="chart-desc">discovery: ' in board
    assert "over 2 visits</desc>" in board
    blocked = (await web.http.get("/?status=blocked", headers=HTML)).text
    assert 'data-product="' + f"{product_id}-b" + '"' in blocked
    assert 'data-product="' + product_id + '"' not in blocked
    nobody = (await web.http.get("/?owner=nobody", headers=HTML)).text
    assert "No product matches these filters" in nobody


async def test_a_review_past_its_deadline_is_overdue_on_the_board_and_in_the_inbox(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    web.clock.now += timedelta(days=11)  # the discovery gate's SLA is ten days
    await web.sign_in(await web.token("grace", ["product-lead"], "Grace Okafor"))
    board = (await web.http.get("/?status=overdue", headers=HTML)).text
    assert 'data-product="' + product_id + '"' in board
    inbox = (await web.http.get("/inbox", headers=HTML)).text
    assert 'class="inbox-item overdue"' in inbox
