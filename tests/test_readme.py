"""The README's two commands are the project's contract with a new machine."""

from __future__ import annotations

import doctest
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


def readme_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.+?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)


def test_every_python_block_of_the_readme_runs_as_written() -> None:
    """The README's examples run in order, sharing one namespace, as a reader would type them."""
    blocks = readme_python_blocks()
    assert len(blocks) >= 3
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    namespace: dict = {}
    for number, block in enumerate(blocks):
        test = parser.get_doctest(block, namespace, f"README block {number}", "README.md", 0)
        assert test.examples, f"README block {number} has no example"
        runner.run(test, clear_globs=False)
        namespace = test.globs  # a DocTest works on a copy; carry it to the next block
    assert runner.failures == 0, f"{runner.failures} README example(s) failed; see output above"
