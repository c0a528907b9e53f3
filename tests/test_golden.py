"""The golden scenario reproduces its stored block hashes, log roots and state roots exactly:
the same ledger, bit for bit, on every run, every SIMD kernel and every architecture."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))

import scenario


def test_the_golden_scenario_reproduces_every_stored_root(tmp_path: Path) -> None:
    expected = json.loads(scenario.DATA.read_text())
    got = scenario.run(str(tmp_path))
    assert got["block_count"] == expected["block_count"]
    for have, want in zip(got["checkpoints"], expected["checkpoints"], strict=True):
        assert have == want, f"block {want['height']} differs from the golden ledger"
    assert got["every_block_digest"] == expected["every_block_digest"]
    assert got["results_digest"] == expected["results_digest"]
    assert got["balances_digest"] == expected["balances_digest"]
    assert got["ledger_totals"] == expected["ledger_totals"]
