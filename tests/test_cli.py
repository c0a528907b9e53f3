"""The `ledgercore` command line and the bench report it prints."""

from __future__ import annotations

import json

import pytest

import ledgercore
from ledgercore.bench import BenchContext, BenchResult, format_details, format_table, write_json
from ledgercore.cli import main


def figure(**changes) -> BenchResult:
    values = {
        "group": "hashing",
        "operation": "blake3_many, 10 x 64 B",
        "items": 1_000_000,
        "seconds": 0.05,
        "baseline": "a Python loop",
        "baseline_seconds": 1.0,
        "baseline_items": 1_000_000,
    }
    values.update(changes)
    return BenchResult(**values)


def test_a_figure_is_reported_as_a_ratio_to_its_baseline() -> None:
    result = figure()
    assert result.rate == pytest.approx(20_000_000)
    assert result.baseline_rate == pytest.approx(1_000_000)
    assert result.ratio == pytest.approx(20.0)
    # A baseline measured on fewer items is compared per item.
    assert figure(baseline_items=100_000, baseline_seconds=0.1).ratio == pytest.approx(20.0)


def test_the_table_shows_rates_ratios_and_bandwidth() -> None:
    table = format_table(
        [figure(), figure(items=1, seconds=0.02, extra={"bytes_per_item": 1 << 26})]
    )
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["group", "operation", "rate"]
    assert "20.00 M/s" in lines[2]
    assert "20.00x" in lines[2]
    assert "GB/s" in lines[3]


def test_the_ledger_details_print_shares_latency_disk_and_proofs() -> None:
    extra = {
        "share_of_signature_ceiling": 0.861,
        "share_of_signature_ceiling_pairs": [0.8, 0.861, 0.9],
        "signature_ceiling_per_second": 210_000.0,
        "cpu_time_stolen_share": 0.12,
        "share_of_signature_ceiling_wall": 0.74,
        "share_of_signature_ceiling_lanes": 0.8,
        "signature_ceiling_lanes_per_second": 230_000.0,
        "batch_latency_p50_ms": 125.4,
        "batch_latency_p99_ms": 170.2,
        "disk_bytes_per_transfer": 135.2,
        "snapshot_bytes_per_transfer": 143.0,
        "proofs_made_per_second": 980.0,
        "proofs_verified_per_second": 3_891.0,
    }
    details = format_details(
        [
            figure(),
            figure(group="ledger", operation="submit_many, signed (verify 70%)", extra=extra),
        ]
    )
    lines = details.splitlines()
    assert lines[0] == "ledger  submit_many, signed:"
    assert "86% of the signature-verification ceiling (210,000/s" in lines[1]
    assert "80%, 86%, 90%" in lines[1]
    assert "the host took 12%; by wall time alone 74%" in lines[1]
    assert "80% of verification alone through two lanes (230,000/s)" in lines[2]
    assert "p50 125 ms, p99 170 ms" in lines[3]
    assert "135 B per transfer" in lines[4] and "143 B for the snapshot" in lines[4]
    assert "980 made/s, 3,891 verified/s" in lines[5]
    assert format_details([figure()]) == ""


def test_the_json_report_holds_the_machine_and_every_figure(tmp_path) -> None:
    path = tmp_path / "figures.json"
    write_json(str(path), [figure()], quick=True)
    document = json.loads(path.read_text())
    assert document["quick"] is True
    assert document["machine"]["simd_kernel"] == ledgercore.simd_kernel()
    assert document["machine"]["cores"] >= 1
    (only,) = document["results"]
    assert only["ratio"] == pytest.approx(20.0)
    assert only["baseline"] == "a Python loop"


def test_measure_returns_the_best_time_and_counts_measurements() -> None:
    calls = []
    ctx = BenchContext(quick=True, on_measure=lambda: calls.append(1))
    seconds = ctx.measure(lambda: None, items=1, repeat=3)
    assert 0 <= seconds < 1
    assert calls == [1]


def test_an_unknown_stage_is_refused_with_the_known_ones(capsys) -> None:
    assert main(["bench", "--quick", "--only", "mining", "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "mining" in error
    assert "hashing" in error


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--accounts", "1"], "--accounts 1"),
        (["--transfers", "0"], "--transfers 0"),
        (["--owner-keys", "0"], "--owner-keys 0"),
        (["--accounts", "10", "--owner-keys", "11"], "more than the 10 accounts"),
        (["--quick", "--owner-keys", "1001"], "more than the 1000 accounts"),
    ],
)
def test_ledger_sizes_that_cannot_run_are_refused_before_any_work(arguments, named, capsys):
    assert main(["bench", "--only", "ledger", "--no-progress", *arguments]) == 2
    assert named in capsys.readouterr().err
