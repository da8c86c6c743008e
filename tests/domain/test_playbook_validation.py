"""A product-ops lead edits YAML: each mistake names the file, the place in it and the problem."""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from domain.playbook import Playbook, PlaybookInvalid, parse_playbook
from domain.stages import LIFECYCLE_PATH, Stage
from playbooks import DEFAULT_PLAYBOOK_PATH, load_default_playbook, load_playbook_file
from tests.domain.dsl import playbook_document


def default_document() -> dict[str, Any]:
    document = yaml.safe_load(DEFAULT_PLAYBOOK_PATH.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def write(tmp_path: Path, document: Any, name: str = "playbook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def problems_loading(path: Path) -> list[str]:
    with pytest.raises(PlaybookInvalid) as caught:
        load_playbook_file(path)
    error = caught.value
    assert error.source == str(path)
    message = str(error)
    assert message.startswith(f"playbook {path} is invalid:")
    for problem in error.problems:
        assert problem in message
    return error.problems


def problems_with(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    return problems_loading(write(tmp_path, document))


# -- the default playbook ----------------------------------------------------------------------


def test_the_default_playbook_loads_with_a_gate_closing_every_working_stage() -> None:
    playbook = load_default_playbook()

    assert (playbook.name, playbook.version) == ("default", 1)
    assert tuple(d.stage for d in playbook.stages) == LIFECYCLE_PATH
    for stage in LIFECYCLE_PATH[:-1]:
        gate = playbook.exit_gate(stage)
        assert gate is not None, stage
        assert gate.decider_roles
    assert playbook.exit_gate(Stage.RETIRED) is None
    assert playbook.stage_title(Stage.LAUNCH) == "Launch and go-to-market"


def test_the_default_playbook_file_is_what_load_default_playbook_reads(tmp_path: Path) -> None:
    copied = tmp_path / "copy.yaml"
    copied.write_text(DEFAULT_PLAYBOOK_PATH.read_text(encoding="utf-8"), encoding="utf-8")

    assert load_playbook_file(copied) == load_default_playbook()


# -- fingerprint -------------------------------------------------------------------------------


def test_the_fingerprint_is_stable_for_the_same_rules() -> None:
    first = load_default_playbook()
    second = Playbook.model_validate(default_document())

    assert first.fingerprint() == second.fingerprint()
    assert len(first.fingerprint()) == 64
    assert int(first.fingerprint(), 16) >= 0


def test_the_fingerprint_survives_a_json_round_trip() -> None:
    playbook = load_default_playbook()

    again = Playbook.model_validate_json(playbook.model_dump_json())

    assert again.fingerprint() == playbook.fingerprint()


def test_the_fingerprint_ignores_yaml_formatting_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "reformatted.yaml"
    text = "# a comment\n" + yaml.safe_dump(default_document(), sort_keys=True, indent=4)
    path.write_text(text, encoding="utf-8")

    assert load_playbook_file(path).fingerprint() == load_default_playbook().fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["stages"][0]["exit_gate"]["evidence"][1].__setitem__("min_count", 6),
        lambda d: d["stages"][4]["exit_gate"]["metrics"][0].__setitem__("threshold", 41),
        lambda d: d["stages"][4]["exit_gate"]["metrics"][0].__setitem__("comparison", ">"),
        lambda d: d["stages"][1]["exit_gate"]["sign_offs"].pop(),
        lambda d: d["stages"][2]["exit_gate"].__setitem__("auto_advance", True),
        lambda d: d["stages"][3]["exit_gate"]["decider_roles"].append("product-lead"),
        lambda d: d.__setitem__("version", 2),
    ],
    ids=["min_count", "threshold", "comparison", "sign_off", "auto_advance", "decider", "version"],
)
def test_the_fingerprint_changes_when_a_rule_changes(change: Any) -> None:
    document = default_document()
    change(document)

    assert Playbook.model_validate(document).fingerprint() != load_default_playbook().fingerprint()


# -- invalid playbooks -------------------------------------------------------------------------


def test_an_undeclared_checklist_owner_role_is_named_by_its_path(tmp_path: Path) -> None:
    document = default_document()
    document["stages"][3]["exit_gate"]["checklist"][0]["owner_role"] = "ghost-writer"

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages[3](launch).exit_gate.checklist[0](positioning).owner_role:")
    assert "'ghost-writer'" in problem
    assert "not declared" in problem


def test_undeclared_sign_off_and_decider_roles_are_each_named(tmp_path: Path) -> None:
    document = default_document()
    document["stages"][1]["exit_gate"]["sign_offs"][2]["role"] = "ceo"
    document["stages"][6]["exit_gate"]["decider_roles"] = ["exec-sponsor", "board"]

    problems = problems_with(tmp_path, document)

    assert len(problems) == 2
    assert problems[0].startswith("stages[1](planning).exit_gate.sign_offs[2](ceo).role:")
    assert "'ceo'" in problems[0]
    assert problems[1].startswith("stages[6](sunset).exit_gate.decider_roles[1]:")
    assert "'board'" in problems[1]


def test_an_undeclared_metric_is_named_by_its_path(tmp_path: Path) -> None:
    document = default_document()
    document["stages"][4]["exit_gate"]["metrics"][1]["metric"] = "happiness"

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages[4](growth).exit_gate.metrics[1](happiness).metric:")
    assert "'happiness'" in problem
    assert "not declared" in problem


def test_a_missing_stage_is_reported_against_the_stage_list(tmp_path: Path) -> None:
    document = default_document()
    del document["stages"][2]

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages:")
    assert "discovery, planning, development, launch" in problem
    assert "missing: development" in problem


def test_misordered_stages_are_reported_against_the_stage_list(tmp_path: Path) -> None:
    document = default_document()
    stages = document["stages"]
    stages[1], stages[2] = stages[2], stages[1]

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages:")
    assert "in order" in problem
    assert "found: discovery, development, planning" in problem


def test_an_unknown_stage_name_is_named_by_its_path(tmp_path: Path) -> None:
    document = default_document()
    document["stages"][5]["stage"] = "adolescence"

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages[5](adolescence).stage:")


def test_duplicate_keys_in_a_gate_are_named(tmp_path: Path) -> None:
    document = default_document()
    checklist = document["stages"][3]["exit_gate"]["checklist"]
    checklist.append(copy.deepcopy(checklist[1]))
    evidence = document["stages"][0]["exit_gate"]["evidence"]
    evidence.append(copy.deepcopy(evidence[0]))

    problems = problems_with(tmp_path, document)

    assert len(problems) == 2
    assert problems[0].startswith("stages[0](discovery).exit_gate.evidence[4](problem-statement):")
    assert "'problem-statement'" in problems[0]
    assert "more than once" in problems[0]
    assert problems[1].startswith("stages[3](launch).exit_gate.checklist[7](messaging):")
    assert "'messaging'" in problems[1]


def test_duplicate_sign_off_roles_and_metrics_in_a_gate_are_named(tmp_path: Path) -> None:
    document = default_document()
    gate = document["stages"][4]["exit_gate"]
    gate["sign_offs"].append({"role": "product-lead", "min_approvals": 2})
    gate["metrics"].append({"metric": "activation-rate", "comparison": ">", "threshold": 1})

    problems = problems_with(tmp_path, document)

    assert any(p.startswith("stages[4](growth).exit_gate.metrics[2]") for p in problems)
    assert any(p.startswith("stages[4](growth).exit_gate.sign_offs[1]") for p in problems)
    assert all("more than once" in p for p in problems)


def test_retired_may_not_have_an_exit_gate(tmp_path: Path) -> None:
    document = default_document()
    document["stages"][7]["exit_gate"] = copy.deepcopy(document["stages"][6]["exit_gate"])

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages[7](retired).exit_gate:")
    assert "'retired'" in problem


def test_a_working_stage_needs_an_exit_gate(tmp_path: Path) -> None:
    document = default_document()
    del document["stages"][5]["exit_gate"]

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages[5](maturity).exit_gate:")
    assert "'maturity' needs an exit_gate" in problem


def test_a_gate_without_decider_roles_is_named(tmp_path: Path) -> None:
    document = default_document()
    document["stages"][2]["exit_gate"]["decider_roles"] = []

    [problem] = problems_with(tmp_path, document)

    assert problem.startswith("stages[2](development).exit_gate.decider_roles:")


def test_every_field_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    document = default_document()
    document["version"] = 0
    document["stages"][0]["exit_gate"]["evidence"][1]["min_count"] = "five"
    document["stages"][4]["exit_gate"]["metrics"][0]["comparison"] = "=="

    problems = problems_with(tmp_path, document)

    assert [p.split(":")[0] for p in problems] == [
        "version",
        "stages[0](discovery).exit_gate.evidence[1](customer-interview).min_count",
        "stages[4](growth).exit_gate.metrics[0](activation-rate).comparison",
    ]


def test_a_yaml_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nversion: 1\nroles: [pm\n  title: x: y\n", encoding="utf-8")

    [problem] = problems_loading(path)

    assert problem.startswith("line 4, column ")
    assert "not valid YAML" in problem


def test_a_top_level_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    for name, text in (("list.yaml", "- discovery\n- planning\n"), ("empty.yaml", "")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")

        [problem] = problems_loading(path)

        assert problem == "(top level): expected a mapping of playbook fields"


def test_a_missing_file_is_reported_as_unreadable(tmp_path: Path) -> None:
    [problem] = problems_loading(tmp_path / "nowhere.yaml")

    assert problem.startswith("(file): cannot be read:")
    assert "No such file" in problem


def test_a_directory_is_reported_as_unreadable(tmp_path: Path) -> None:
    [problem] = problems_loading(tmp_path)

    assert problem.startswith("(file): cannot be read:")


def test_parse_playbook_names_the_source_it_was_given() -> None:
    document = playbook_document(discovery={"decider_roles": ["oracle"]})

    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(document, source="inline test")

    assert caught.value.source == "inline test"
    assert str(caught.value).startswith("playbook inline test is invalid:")
    assert caught.value.problems[0].startswith("stages[0](discovery).exit_gate.decider_roles[0]:")


def test_validating_a_playbook_directly_still_explains_the_problem() -> None:
    document = playbook_document(discovery={"decider_roles": ["oracle"]})

    with pytest.raises(ValidationError, match="'oracle'"):
        Playbook.model_validate(document)
