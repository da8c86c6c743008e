"""The product page shows the launch, growth and sunset plans: the dated, owned GTM checklist
with what is done and overdue, launch goals, the latest KPI review per KPI, and the sunset plan
with its scheduled communications; a product without any says so."""

import asyncio
import html
import re
from datetime import datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from api.web.product_plans import plans_of
from domain.stages import Stage
from tests.domain.dsl import NOW, go, measure, register, then, tick
from tests.domain.plans import (
    PLANS,
    commands_to,
    experiment,
    in_growth,
    in_launch,
    in_maturity,
    launch_goal,
    propose_sunset,
    remind_gtm,
    review_kpis,
    run_sunset,
)
from tests.web.browser import PHONE, fits_the_screen, in_browser, sign_in
from tests.web.conftest import WebHarness

HTML = {"Accept": "text/html"}


def plans_panel(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    return html.unescape(page.text.split('id="plans"', 1)[1].split("</section>", 1)[0])


def words(markup: str) -> str:
    """The text, tags stripped and spaces squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def rows(panel: str, css_class: str) -> list[str]:
    """The text of each table row of that class."""
    return [
        words(row) for row in re.findall(rf'<tr class="{css_class}[^"]*">(.*?)</tr>', panel, re.S)
    ]


async def product_in(web: WebHarness, product_id: str, stage: Stage) -> datetime:
    """A product under the plans playbook walked to `stage`; returns when it was registered."""
    products = web.services.products
    receipt = await products.register(register(PLANS, product_id=product_id))
    registered_at = receipt.events[0].occurred_at
    for command in commands_to(stage, registered_at):
        await products.execute(product_id, command)
    return registered_at


async def test_a_launch_shows_its_owned_dated_checklist_with_done_and_overdue_items_and_its_goals(
    web: WebHarness, product_id: str
) -> None:
    registered_at = await product_in(web, product_id, Stage.LAUNCH)
    products = web.services.products
    await products.execute(product_id, tick("positioning"))
    await products.execute(
        product_id, launch_goal(target=40, due_by=registered_at + timedelta(days=90))
    )
    plan = (await products.view(product_id)).state.launch_plan
    assert plan is not None
    web.clock.now = plan.launch_at - timedelta(days=3)  # pricing (due 7 days before) is late
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))

    panel = plans_panel(await web.http.get(f"/ui/products/{product_id}", headers=HTML))

    day = plan.launch_at.strftime("%Y-%m-%d")
    assert f"Launch planned for {day}" in words(panel)
    assert [r.split(" UTC")[0] for r in rows(panel, "gtm-item")] == [
        "Positioning agreed pm " + (plan.launch_at - timedelta(days=14)).strftime("%Y-%m-%d %H:%M"),
        "Pricing approved finance "
        + (plan.launch_at - timedelta(days=7)).strftime("%Y-%m-%d %H:%M"),
        "Launch goals set pm " + plan.launch_at.strftime("%Y-%m-%d %H:%M"),
    ]
    statuses = [r.split(" UTC ")[1] for r in rows(panel, "gtm-item")]
    assert statuses == ["done by Ada Lovelace 0", "overdue 0", "open 0"]
    [goal] = rows(panel, "goal")
    assert goal.startswith("activation adoption >= 40 ")
    assert goal.endswith("Ada Lovelace")
    assert "No launch goals set yet" not in panel


async def test_a_sunset_plan_shows_its_end_of_life_and_scheduled_communications(
    web: WebHarness, product_id: str
) -> None:
    registered_at = await product_in(web, product_id, Stage.MATURITY)
    end_of_life = registered_at + timedelta(days=120)
    await web.services.products.execute(product_id, propose_sunset(end_of_life=end_of_life))
    web.clock.now = registered_at + timedelta(days=1)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))

    panel = plans_panel(await web.http.get(f"/ui/products/{product_id}", headers=HTML))

    assert f"End of life {end_of_life.strftime('%Y-%m-%d %H:%M')} UTC" in words(panel)
    assert "superseded by Widget 2" in panel
    assert "one-click export to Widget 2" in panel
    assert rows(panel, "communication") == [
        "End of life announced to customers customers "
        f"{(end_of_life - timedelta(days=60)).strftime('%Y-%m-%d %H:%M')} UTC scheduled",
        "Final stakeholder update stakeholders "
        f"{(end_of_life - timedelta(days=14)).strftime('%Y-%m-%d %H:%M')} UTC scheduled",
    ]


async def test_a_product_without_plans_says_so_instead_of_showing_empty_tables(
    web: WebHarness, product_id: str
) -> None:
    await web.product_in_review(product_id)
    await web.sign_in(await web.token("grace", ["gatekeeper"], "Grace Hopper"))

    panel = plans_panel(await web.http.get(f"/ui/products/{product_id}", headers=HTML))

    assert "No launch plan, launch goals, KPI reviews, experiments or sunset plan yet" in panel
    assert "<table" not in panel


async def test_a_growth_product_shows_the_latest_kpi_review_per_kpi_on_and_off_target(
    web: WebHarness,
) -> None:
    state = in_growth()
    started = state.kpis.started_at
    assert started is not None
    at = started + timedelta(days=60)  # the activation goal is due by then
    state = then(state, measure("activation", 30), now=at - timedelta(hours=1))
    state = then(state, measure("nps", 35), now=at - timedelta(hours=1))
    state = then(state, review_kpis(), now=at)
    template = web.app.state.web.templates.env.get_template("product_plans.html")

    panel = html.unescape(template.render(plans=plans_of(state, at)))
    before_any_review = html.unescape(template.render(plans=plans_of(in_growth(), started)))

    kpis = rows(panel, "kpi")
    assert [k.split(" ")[:5] for k in kpis] == [
        ["activation", "30", ">=", "40", "off"],
        ["nps", "35", ">=", "30", "on"],
    ]
    assert kpis[0].split(" target ", 1)[1].startswith("1 ")  # one period off target so far
    assert "1 review held" in words(panel)
    assert "No KPI review held yet" in before_any_review
    assert "0 reviews held; next at the end of the period on" in words(before_any_review)


async def test_the_plans_the_trail_filter_and_the_past_read_at_phone_width_without_script(
    web: WebHarness, served: str, product_id: str
) -> None:
    registered_at = await product_in(web, product_id, Stage.LAUNCH)
    await web.services.products.execute(
        product_id, launch_goal(target=40, due_by=registered_at + timedelta(days=90))
    )
    token = await web.token("grace", ["gatekeeper"], "Grace Hopper")

    def scenario(page: Page) -> None:
        sign_in(page, served, token)
        page.goto(f"{served}/ui/products/{product_id}")
        expect(page.locator("#plans tr.gtm-item")).to_have_count(3)
        expect(page.locator("#plans tr.goal")).to_have_count(1)
        assert fits_the_screen(page)
        page.select_option("select[name=type]", "LaunchGoalSet")
        page.click("form.trail-filters button[type=submit]")
        expect(page.locator("#timeline li.event")).to_have_count(1)
        expect(page.locator("#timeline li.event")).to_have_class(re.compile("event-LaunchGoalSet"))
        assert fits_the_screen(page)
        page.locator("#timeline a.as-of-link").click()
        expect(page.locator("#as-of")).to_contain_text("As of")
        expect(page.locator("main form[method=post]")).to_have_count(0)
        expect(page.locator("#plans tr.goal")).to_have_count(1)
        assert fits_the_screen(page)

    await asyncio.to_thread(in_browser, "product-plans-phone", scenario, PHONE)


def test_reminders_sent_communications_gone_out_and_experiments_show_in_the_plans(
    web: WebHarness,
) -> None:
    template = web.app.state.web.templates.env.get_template("product_plans.html")
    launching = in_launch()
    assert launching.launch_plan is not None
    due = launching.launch_plan.launch_at - timedelta(days=14)  # positioning
    reminded = then(launching, remind_gtm(), now=due)
    growing = then(in_growth(), experiment(), now=NOW + timedelta(days=1))
    sunsetting = then(in_maturity(), propose_sunset(NOW + timedelta(days=90)))
    sunsetting = then(sunsetting, go())
    announced_at = NOW + timedelta(days=30)
    sunsetting = then(sunsetting, run_sunset(), now=announced_at)

    launch = html.unescape(template.render(plans=plans_of(reminded, due)))
    growth = html.unescape(template.render(plans=plans_of(growing, NOW + timedelta(days=1))))
    sunset = html.unescape(
        template.render(plans=plans_of(sunsetting, announced_at + timedelta(days=50)))
    )

    assert [r.split(" UTC ")[-1] for r in rows(launch, "gtm-item")] == [
        "overdue 1",
        "open 0",
        "open 0",
    ]
    [tried] = rows(growth, "experiment")
    assert tried.startswith("a shorter signup lifts activation control, short form")
    assert "adopt Ada Lovelace" in tried
    assert [r.split(" UTC ", 1)[1] for r in rows(sunset, "communication")] == [
        f"sent {announced_at.strftime('%Y-%m-%d %H:%M')} UTC",
        "due, not sent yet",
    ]
