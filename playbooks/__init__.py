"""Playbooks as data files. Reading a file is I/O, so it lives here and not in `domain/`."""

from pathlib import Path

import yaml

from domain.playbook import Playbook, PlaybookInvalid, parse_playbook

DEFAULT_PLAYBOOK_PATH = Path(__file__).with_name("default.yaml")


def load_playbook_file(path: Path) -> Playbook:
    """Reads and validates a YAML playbook; every problem names the file and the path in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlaybookInvalid(str(path), [f"(file): cannot be read: {error.strerror}"]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(error, "problem", None) or str(error)
        raise PlaybookInvalid(str(path), [f"{where}: not valid YAML: {problem}"]) from None
    return parse_playbook(document, source=str(path))


def load_default_playbook() -> Playbook:
    return load_playbook_file(DEFAULT_PLAYBOOK_PATH)


def load_playbook_catalog(extra_dir: Path | None = None) -> dict[str, Playbook]:
    """Installed playbooks by name: the default plus every *.yaml in `extra_dir`. When two
    files carry the same name, the higher version is the one new products register under."""
    files = [DEFAULT_PLAYBOOK_PATH]
    if extra_dir is not None:
        files += sorted(extra_dir.glob("*.yaml")) + sorted(extra_dir.glob("*.yml"))
    catalog: dict[str, Playbook] = {}
    for path in files:
        playbook = load_playbook_file(path)
        installed = catalog.get(playbook.name)
        if installed is None or playbook.version > installed.version:
            catalog[playbook.name] = playbook
    return catalog
