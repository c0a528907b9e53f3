"""Test-suite policy shared by every test file.

Stress tests are marked `slow`. They run in CI (CI=true), where each bounds its own size, and
anywhere with LEDGERCORE_SLOW=1 at full size; a plain local run skips them, so the README's test
command stays quick on a developer's machine.
"""

from __future__ import annotations

import os

import pytest


def slow_tests_enabled() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("LEDGERCORE_SLOW") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if slow_tests_enabled():
        return
    skip = pytest.mark.skip(reason="stress test: runs with CI=true (bounded) or LEDGERCORE_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
