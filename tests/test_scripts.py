"""The project's scripts and files name no host of a package index or mirror: each machine's
own configuration says where its packages come from."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARM64_CHECK = ROOT / "scripts" / "arm64-check"

# A host under a package archive's or index's domain (Debian's, Ubuntu's, the Python package
# index's and its file host's, Anaconda's, npm's), in a URL or bare.
INDEX_HOST = re.compile(
    r"(?<![\w.-])(?:[a-z0-9-]+\.)*(?:debian|ubuntu|pypi|pythonhosted|anaconda|npmjs)"
    r"\.(?:org|com|net|io)\b",
    re.IGNORECASE,
)
TEXT_SUFFIXES = {".py", ".pyx", ".pxd", ".pyi", ".c", ".h", ".md", ".toml", ".cfg", ".txt", ".in"}


def _project_files() -> list[Path]:
    files = [ROOT / name for name in ("README.md", "Makefile", "MANIFEST.in", "setup.py")]
    for folder in ("scripts", ".ci", ".github"):
        if (ROOT / folder).is_dir():
            files += [path for path in (ROOT / folder).rglob("*") if path.is_file()]
    for folder in ("src", "tests", "bench"):
        files += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "egg-info" not in str(path)
        ]
    return [path for path in files if path.exists()]


pytestmark = pytest.mark.skipif(
    not ARM64_CHECK.exists(), reason="the source tree's scripts are not beside these tests"
)


def test_no_project_file_names_a_package_index_or_mirror_host():
    named = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _project_files()
        for match in INDEX_HOST.finditer(path.read_text(errors="replace"))
    ]
    assert named == []


def _shell_functions(script: str, names: list[str]) -> str:
    """The named functions' definitions, as the script has them."""
    bodies = []
    for name in names:
        match = re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", script, re.MULTILINE | re.DOTALL)
        assert match is not None, name
        bodies.append(match.group(0))
    return "\n".join(bodies)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_arm64_check_takes_the_mirror_from_the_machines_apt_sources(tmp_path):
    """The first Debian archive that is not a security or backports one, from one-line and
    deb822 sources alike; disabled stanzas and comments are skipped."""
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list").write_text(
        "# deb http://commented.test/debian bookworm main\n"
        "deb http://updates.test/debian-security bookworm-security main\n"
    )
    (apt / "sources.list.d" / "disabled.sources").write_text(
        "Types: deb\nURIs: http://disabled.test/debian\nSuites: trixie\nEnabled: no\n"
    )
    (apt / "sources.list.d" / "main.sources").write_text(
        "Types: deb deb-src\n"
        "# a comment inside the stanza\n"
        "URIs: http://archive.test/debian/\n"
        "Suites: trixie trixie-updates\n"
        "\n"
        "Types: deb\nURIs: http://archive.test/debian-security\nSuites: trixie-security\n"
    )
    script = ARM64_CHECK.read_text()
    functions = _shell_functions(script, ["apt_source_uris", "host_debian_mirror"])
    program = functions.replace("/etc/apt", str(apt)) + "\nhost_debian_mirror\n"
    found = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + program],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "http://archive.test/debian"
    # No mirror of the project's own is left as a default.
    assert "://" not in re.sub(r"^\s*#.*$", "", script, flags=re.MULTILINE)
