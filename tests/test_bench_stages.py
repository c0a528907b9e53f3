"""The bench's stages: what cannot run is reported, the baselines ship with the package, and each
mode has its sizes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import ledgercore.bench
from ledgercore.bench import BenchContext, format_not_run, run_stages, write_json
from ledgercore.cli import main
from ledgercore.errors import LedgerValueError


def test_engine_stage_baseline_ships_inside_the_package():
    """The engine stage's baseline is a module of the package, so a wheel has it."""
    from ledgercore.bench import engine, model

    package = Path(ledgercore.bench.__file__).parent
    assert Path(model.__file__).parent == package
    assert engine.reference_model is model
    # Nothing in the bench reaches beside the package for a file of the source tree.
    for source in package.glob("*.py"):
        assert '"tests"' not in source.read_text(), source.name


def test_a_stage_whose_package_is_missing_is_reported_not_dropped(monkeypatch):
    # PyNaCl absent, as in an environment without it: the stage cannot be imported.
    monkeypatch.setitem(sys.modules, "nacl.signing", None)
    monkeypatch.delitem(sys.modules, "ledgercore.bench.ed25519", raising=False)
    ctx = BenchContext(quick=True)
    assert run_stages(["ed25519"], ctx) == []
    [item] = ctx.not_run
    assert (item.group, item.what) == ("ed25519", "the whole stage")
    assert "nacl" in item.reason
    assert "ledgercore[bench]" in item.reason
    assert "ed25519" in ctx.stage_seconds
    assert format_not_run(ctx.not_run).startswith("NOT RUN  ed25519: the whole stage: ")


def test_rows_whose_baseline_is_missing_are_reported_not_dropped(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymerkle", None)
    ctx = BenchContext(quick=True)
    results = run_stages(["merkle"], ctx)
    assert results and all("pymerkle" not in result.baseline for result in results)
    reported = [item.what for item in ctx.not_run]
    assert any(what.startswith("merkle_root") for what in reported), reported
    assert any(what.startswith("verify_inclusion") for what in reported), reported
    assert all("pymerkle is not installed" in item.reason for item in ctx.not_run)


def test_what_did_not_run_goes_to_the_json(tmp_path):
    ctx = BenchContext(quick=True)
    ctx.skip(group="merkle", what="pymerkle rows", reason="pymerkle is not installed")
    path = tmp_path / "figures.json"
    write_json(str(path), [], quick=True, not_run=ctx.not_run, stage_seconds={"merkle": (1, 2)})
    document = json.loads(path.read_text())
    assert document["not_run"] == [
        {"group": "merkle", "what": "pymerkle rows", "reason": "pymerkle is not installed"}
    ]
    assert document["stage_seconds"] == {"merkle": {"wall": 1, "cpu": 2}}


def test_each_mode_has_its_sizes():
    sizes = dict(quick="q", default="d", full="f")
    assert BenchContext(quick=True).sized(**sizes) == "q"
    assert BenchContext(quick=False).sized(**sizes) == "d"
    assert BenchContext(quick=False, full=True).sized(**sizes) == "f"


def test_quick_and_full_together_are_refused():
    with pytest.raises(LedgerValueError, match="quick, full"):
        BenchContext(quick=True, full=True)
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--quick", "--full"])
    assert exit_info.value.code == 2


def test_the_default_run_is_smaller_than_the_full_one():
    """The default sizes keep the README's first command within its time; --full keeps the
    largest inputs."""
    from ledgercore.bench import hashing, ledger, merkle

    assert hashing.DEFAULT_INPUT_COUNT < hashing.FULL_INPUT_COUNT
    assert merkle.DEFAULT_LEAF_COUNT < merkle.FULL_LEAF_COUNT
    assert ledger.DEFAULT_TRANSFER_COUNT < ledger.FULL_TRANSFER_COUNT
