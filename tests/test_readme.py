"""The README's two commands are the project's contract with a new machine."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_the_readme_opens_with_the_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    text = (ROOT / "README.md").read_text()
    assert text.index(commands[0]) < text.index(commands[1]) < text.index("## ")
    assert "ledgercore bench" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1].replace(" && ", " && ") in ci.replace(" \\\n    ", " ")
