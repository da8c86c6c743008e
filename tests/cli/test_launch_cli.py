"""`lifecycle launch|growth|sunset`: the dated GTM checklist, goals, experiments and sunset
proposals from the command line, against a live API."""

from datetime import timedelta

from domain.stages import Stage
from playbooks import load_default_playbook
from tests.cli.conftest import LiveApi
from tests.support.journey import (
    OWNER,
    commands_to_meet_criteria,
    commands_to_sign_and_pass,
    register,
)


async def launched_product(live_api: LiveApi, product_id: str) -> None:
    """Walks a default-playbook product into launch through the workflow client."""
    products = live_api.services.products
    await products.register(register(product_id, load_default_playbook()))
    while (state := (await products.view(product_id)).state).stage is not Stage.LAUNCH:
        for command in commands_to_meet_criteria(state) + commands_to_sign_and_pass(state):
            await products.execute(product_id, command)
            state = (await products.view(product_id)).state


async def test_the_launch_shows_each_gtm_item_with_its_owner_and_due_date(
    live_api: LiveApi, product_id: str
) -> None:
    await launched_product(live_api, product_id)
    owner = live_api.as_(await live_api.token_for(OWNER.subject, OWNER.roles, OWNER.display_name))
    launch_on = (live_api.clock.now + timedelta(days=50)).date().isoformat()

    moved = await owner("launch", "date", product_id, f"{launch_on}T09:00:00+00:00")
    shown = await owner("launch", "show", product_id)
    as_json = (await owner("launch", "show", product_id, "--output", "json")).ok().json()

    moved.ok()
    assert "LaunchPlanned" in moved.stdout
    shown.ok()
    assert f"GTM checklist for the launch on {launch_on} 09:00 UTC" in shown.stdout
    assert "Sales enablement delivered" in shown.stdout
    assert "sales-lead" in shown.stdout
    items = {i["item"]: i for i in as_json["launch"]["items"]}
    assert items["pricing"]["owner_role"] == "finance"
    assert items["pricing"]["due_at"].startswith(
        (live_api.clock.now + timedelta(days=50 - 21)).date().isoformat()
    )


async def test_goals_experiments_and_a_premature_sunset_from_the_command_line(
    live_api: LiveApi, product_id: str
) -> None:
    await launched_product(live_api, product_id)
    owner = live_api.as_(await live_api.token_for(OWNER.subject, OWNER.roles, OWNER.display_name))
    due = (live_api.clock.now + timedelta(days=120)).date().isoformat()

    goal = await owner(
        "launch", "goal", product_id, "activation-rate", "45", "--due-by", due, "--kind", "adoption"
    )
    experiment = await owner(
        "growth",
        "experiment",
        product_id,
        "--hypothesis",
        "onboarding checklist lifts activation",
        "--variant",
        "control",
        "--variant",
        "checklist",
    )
    sunset = await owner("sunset", "propose", product_id, "--reason", "too early")
    bad_date = await owner("launch", "date", product_id, "next tuesday")

    assert "LaunchGoalSet" in goal.ok().stdout
    assert "ExperimentRecorded" in experiment.ok().stdout
    assert sunset.exit_code == 1
    assert sunset.reason.startswith("refused (409 sunset.not_in_maturity)")
    assert bad_date.exit_code == 2
    shown = (await owner("launch", "show", product_id)).ok()
    assert "goal: adoption activation-rate >= 45" in shown.stdout
