"""The operators' benchmark: every figure beside its baseline, measured in the same run.

Each stage is a module of this package with a `run(ctx) -> list[BenchResult]` function; `GROUPS`
lists them in the order of a batch's flow. A stage times its own baseline (the `blake3` package,
PyNaCl, the Python model, a naive pipeline) with `ctx.measure` and reports each figure with
`ctx.result`, so every rate comes with its ratio; a figure without a baseline is not reported.
What cannot run (a stage whose module cannot be imported, a baseline whose package is missing)
is recorded with `ctx.not_run` and printed below the table, never left out in silence.

Three sizes: quick (`--quick`, a smoke test), the default (sized so that the whole run stays well
under five minutes on a 2-core machine), and full (`--full`, the largest inputs, several minutes
more); each stage takes its sizes from `ctx.sized`.

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

from ledgercore.errors import LedgerValueError

# Stages in the order of a batch's flow; each is a module of this package.
GROUPS: tuple[str, ...] = ("hashing", "ed25519", "merkle", "engine", "ledger", "liabilities")


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


@dataclass
class NotRun:
    """Figures a run could not make, and why: reported beside the table, never dropped."""

    group: str
    what: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """As plain JSON data."""
        return {"group": self.group, "what": self.what, "reason": self.reason}


class BenchContext:
    """What a stage gets: the mode, a timer, and a way to record figures.

    Args:
        quick: measure fewer and smaller inputs (a smoke test; the whole run takes seconds).
        full: measure the largest inputs (the whole run takes several minutes more than the
            default); not with quick.
        on_measure: called after each measurement, e.g. to advance a progress bar.

    Raises:
        LedgerValueError: quick and full both set.
    """

    def __init__(
        self,
        *,
        quick: bool,
        full: bool = False,
        on_measure: Callable[[], None] | None = None,
    ) -> None:
        if quick and full:
            raise LedgerValueError("quick, full: both set; choose one of the two sizes")
        self.quick = quick
        self.full = full
        self._on_measure = on_measure
        self.not_run: list[NotRun] = []
        # Wall and CPU seconds (every thread of the process) that each stage took, by group.
        self.stage_seconds: dict[str, tuple[float, float]] = {}

    def sized(self, *, quick: Any, default: Any, full: Any) -> Any:
        """The value of a size for this run's mode.

        Example:
            >>> BenchContext(quick=False, full=True).sized(quick=1, default=10, full=100)
            100
        """
        if self.quick:
            return quick
        return full if self.full else default

    def skip(self, *, group: str, what: str, reason: str) -> None:
        """Record figures that cannot be made in this run (what, and why), to be reported.

        Example:
            >>> ctx = BenchContext(quick=True)
            >>> ctx.skip(group="merkle", what="pymerkle rows", reason="pymerkle is missing")
            >>> ctx.not_run[0].what
            'pymerkle rows'
        """
        self.not_run.append(NotRun(group, what, reason))

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
    """Run the named stages in order and collect their figures.

    A stage that cannot run (its module or a package it needs cannot be imported) or that
    reports nothing is recorded in ctx.not_run; the other stages still run. How long each took,
    by the wall clock and in CPU time, goes to ctx.stage_seconds.
    """
    results: list[BenchResult] = []
    for group in groups:
        if group not in GROUPS:
            raise ValueError(f"unknown bench group {group!r}; expected some of {GROUPS}")
        if on_stage is not None:
            on_stage(group)
        started, started_cpu = time.perf_counter(), time.process_time()
        figures: list[BenchResult] = []
        try:
            module = importlib.import_module(f"ledgercore.bench.{group}")
            figures = module.run(ctx)
        except ImportError as error:
            # Only a missing package is a reason not to run: any other failure is a bug and
            # stops the bench.
            ctx.skip(
                group=group,
                what="the whole stage",
                reason=f"{error}; `pip install 'ledgercore[bench]'` installs every baseline",
            )
        else:
            if not figures and not any(item.group == group for item in ctx.not_run):
                ctx.skip(group=group, what="the whole stage", reason="it reported no figures")
        ctx.stage_seconds[group] = (
            time.perf_counter() - started,
            time.process_time() - started_cpu,
        )
        results.extend(figures)
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


def format_not_run(not_run: list[NotRun]) -> str:
    """What a run could not measure, one line each (empty when it measured everything).

    Example:
        >>> print(format_not_run([NotRun("engine", "the whole stage", "no module named x")]))
        NOT RUN  engine: the whole stage: no module named x
    """
    return "\n".join(f"NOT RUN  {item.group}: {item.what}: {item.reason}" for item in not_run)


def format_stage_seconds(stage_seconds: dict[str, tuple[float, float]]) -> str:
    """How long each stage took, by the wall clock and in CPU time (all threads).

    Example:
        >>> format_stage_seconds({"hashing": (2.0, 1.9), "merkle": (1.0, 1.0)})
        'stage seconds (wall, CPU): hashing 2.0, 1.9; merkle 1.0, 1.0; all 3.0, 2.9'
    """
    parts = [f"{group} {wall:.1f}, {cpu:.1f}" for group, (wall, cpu) in stage_seconds.items()]
    wall = sum(wall for wall, _ in stage_seconds.values())
    cpu = sum(cpu for _, cpu in stage_seconds.values())
    return f"stage seconds (wall, CPU): {'; '.join(parts)}; all {wall:.1f}, {cpu:.1f}"


def write_json(
    path: str,
    results: list[BenchResult],
    *,
    quick: bool,
    full: bool = False,
    not_run: list[NotRun] | None = None,
    stage_seconds: dict[str, tuple[float, float]] | None = None,
) -> None:
    """Write the machine facts, every figure, what could not run and each stage's seconds to
    `path` as JSON."""
    document = {
        "quick": quick,
        "full": full,
        "machine": machine_facts(),
        "results": [result.to_dict() for result in results],
        "not_run": [item.to_dict() for item in not_run or []],
        "stage_seconds": {
            group: {"wall": wall, "cpu": cpu}
            for group, (wall, cpu) in (stage_seconds or {}).items()
        },
    }
    with open(path, "w") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
