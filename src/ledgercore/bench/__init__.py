"""The operators' benchmark: every figure beside its baseline, measured in the same run.

Each stage is a module of this package with a `run(ctx) -> list[BenchResult]` function; `GROUPS`
lists them in the order of a batch's flow. A stage times its own baseline (the `blake3` package,
PyNaCl, the Python model, a naive pipeline) with `ctx.measure` and reports each figure with
`ctx.result`, so every rate comes with its ratio; a figure without a baseline is not reported.

Example:
    >>> ctx = BenchContext(quick=True)
    >>> seconds = ctx.measure(lambda: sum(range(1000)), items=1000, repeat=2)
    >>> result = ctx.result(group="demo", operation="sum", items=1000, seconds=seconds,
    ...                     baseline="the same", baseline_seconds=seconds, baseline_items=1000)
    >>> round(result.ratio, 6)
    1.0
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Stages in the order of a batch's flow; each is a module of this package.
GROUPS: tuple[str, ...] = ("hashing", "ed25519", "merkle", "engine", "ledger")


@dataclass
class BenchResult:
    """One figure: our rate, the baseline's rate measured in the same run, and their ratio."""

    group: str
    operation: str
    items: int
    seconds: float
    baseline: str
    baseline_seconds: float
    baseline_items: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Items per second."""
        return self.items / self.seconds

    @property
    def baseline_rate(self) -> float:
        """The baseline's items per second."""
        return self.baseline_items / self.baseline_seconds

    @property
    def ratio(self) -> float:
        """How many times the baseline's rate ours is."""
        return self.rate / self.baseline_rate

    def to_dict(self) -> dict[str, Any]:
        """The figure as plain JSON data."""
        return {
            "group": self.group,
            "operation": self.operation,
            "items": self.items,
            "seconds": self.seconds,
            "items_per_second": self.rate,
            "baseline": self.baseline,
            "baseline_items": self.baseline_items,
            "baseline_seconds": self.baseline_seconds,
            "baseline_items_per_second": self.baseline_rate,
            "ratio": self.ratio,
            **self.extra,
        }


class BenchContext:
    """What a stage gets: the mode, a timer, and a way to record figures.

    Args:
        quick: measure fewer and smaller inputs (the whole quick run stays under 30 s).
        on_measure: called after each measurement, e.g. to advance a progress bar.
    """

    def __init__(self, *, quick: bool, on_measure: Callable[[], None] | None = None) -> None:
        self.quick = quick
        self._on_measure = on_measure

    def measure(self, fn: Callable[[], object], *, items: int, repeat: int = 5) -> float:
        """The best wall time of `repeat` calls of `fn`, in seconds, after one warm-up call.

        The best of several runs is the figure least disturbed by other work on the machine.
        `items` is how many items one call handles; it is only checked to be positive here.
        """
        assert items > 0
        assert repeat >= 1
        fn()
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        if self._on_measure is not None:
            self._on_measure()
        return best

    def measure_pair(
        self,
        fn: Callable[[], object],
        baseline_fn: Callable[[], object],
        *,
        repeat: int = 5,
    ) -> tuple[float, float]:
        """Best wall times of `fn` and `baseline_fn`, their runs interleaved.

        Alternating the two means a change in the machine's load during the measurement
        falls on both sides, so their ratio holds even where absolute rates do not.

        Returns:
            (seconds, baseline_seconds): the best time of one call of each.
        """
        assert repeat >= 1
        fn()
        baseline_fn()
        best = [float("inf"), float("inf")]
        for _ in range(repeat):
            for side, call in enumerate((fn, baseline_fn)):
                start = time.perf_counter()
                call()
                best[side] = min(best[side], time.perf_counter() - start)
        if self._on_measure is not None:
            self._on_measure()
        return best[0], best[1]

    def result(
        self,
        *,
        group: str,
        operation: str,
        items: int,
        seconds: float,
        baseline: str,
        baseline_seconds: float,
        baseline_items: int,
        **extra: Any,
    ) -> BenchResult:
        """Record one figure with its baseline (extra keys go to the JSON as they are)."""
        return BenchResult(
            group=group,
            operation=operation,
            items=items,
            seconds=seconds,
            baseline=baseline,
            baseline_seconds=baseline_seconds,
            baseline_items=baseline_items,
            extra=extra,
        )


def machine_facts() -> dict[str, Any]:
    """The machine and versions the figures were measured on."""
    import numpy

    from ledgercore import __version__
    from ledgercore.hashing import simd_kernel

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "machine": platform.machine(),
        "cores": cores,
        "simd_kernel": simd_kernel(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "ledgercore": __version__,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def run_stages(
    groups: Iterable[str], ctx: BenchContext, on_stage: Callable[[str], None] | None = None
) -> list[BenchResult]:
    """Run the named stages in order and collect their figures."""
    results: list[BenchResult] = []
    for group in groups:
        if group not in GROUPS:
            raise ValueError(f"unknown bench group {group!r}; expected some of {GROUPS}")
        if on_stage is not None:
            on_stage(group)
        module = importlib.import_module(f"ledgercore.bench.{group}")
        results.extend(module.run(ctx))
    return results


def _format_rate(result: BenchResult, rate: float) -> str:
    size = result.extra.get("bytes_per_item")
    if size:
        return f"{rate * size / 1e9:,.2f} GB/s"
    if rate >= 1e6:
        return f"{rate / 1e6:,.2f} M/s"
    return f"{rate:,.0f} /s"


def format_table(results: list[BenchResult]) -> str:
    """The figures as a text table: operation, our rate, the baseline's, and the ratio."""
    rows = [("group", "operation", "rate", "baseline rate", "ratio", "baseline")]
    for result in results:
        rows.append(
            (
                result.group,
                result.operation,
                _format_rate(result, result.rate),
                _format_rate(result, result.baseline_rate),
                f"{result.ratio:,.2f}x",
                result.baseline,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    aligned_right = {2, 3, 4}
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in aligned_right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _details(result: BenchResult) -> list[str]:
    """The figures of a result beyond its rate, as phrases (empty when it has none)."""
    extra = result.extra
    phrases = []
    if "share_of_signature_ceiling" in extra:
        text = f"{extra['share_of_signature_ceiling']:.0%} of the signature-verification ceiling"
        if "signature_ceiling_per_second" in extra:
            pairs = ", ".join(f"{share:.0%}" for share in extra["share_of_signature_ceiling_pairs"])
            text += (
                f" ({extra['signature_ceiling_per_second']:,.0f}/s, verify_batch alone on all "
                f"cores; median of the pairs {pairs})"
            )
        if "cpu_time_stolen_share" in extra:
            text += (
                f"; each side timed by the CPU time it had: the host took "
                f"{extra['cpu_time_stolen_share']:.0%}; by wall time alone "
                f"{extra['share_of_signature_ceiling_wall']:.0%}"
            )
        phrases.append(text)
    if "share_of_signature_ceiling_lanes" in extra:
        phrases.append(
            f"{extra['share_of_signature_ceiling_lanes']:.0%} of verification alone through two "
            f"lanes ({extra['signature_ceiling_lanes_per_second']:,.0f}/s)"
        )
    if "batch_latency_p50_ms" in extra:
        phrases.append(
            f"batch latency p50 {extra['batch_latency_p50_ms']:,.0f} ms, "
            f"p99 {extra['batch_latency_p99_ms']:,.0f} ms"
        )
    if "disk_bytes_per_transfer" in extra:
        phrases.append(
            f"on disk {extra['disk_bytes_per_transfer']:,.0f} B per transfer, and "
            f"{extra['snapshot_bytes_per_transfer']:,.0f} B for the snapshot"
        )
    if "proofs_made_per_second" in extra:
        phrases.append(
            f"transfer proofs: {extra['proofs_made_per_second']:,.0f} made/s, "
            f"{extra['proofs_verified_per_second']:,.0f} verified/s"
        )
    return phrases


def format_details(results: list[BenchResult]) -> str:
    """Each result's further figures (shares, latency, disk, proofs), one line each."""
    lines = []
    for result in results:
        phrases = _details(result)
        if phrases:
            lines.append(f"{result.group}  {result.operation.split(' (')[0]}:")
            lines.extend(f"    {phrase}" for phrase in phrases)
    return "\n".join(lines)


def write_json(path: str, results: list[BenchResult], *, quick: bool) -> None:
    """Write the machine facts and every figure to `path` as JSON."""
    document = {
        "quick": quick,
        "machine": machine_facts(),
        "results": [result.to_dict() for result in results],
    }
    with open(path, "w") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
